"""Load the demo's flagship incident evidence through the real importers.

Lives here: `load_flagship_evidence`, which imports the committed raw files in
`afteraction/demo/evidence/flagship/` (roster, PagerDuty, on-call, Slack export, meeting
transcript and chat) and attaches them to the flagship incident. Does not live here: the
demo organisation itself (the rest of `afteraction.demo`), commits (the caller's
transaction).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from afteraction.core.access import Actor
from afteraction.services.imports.oncall import import_oncall
from afteraction.services.imports.pagerduty import import_pagerduty
from afteraction.services.imports.roster import import_roster
from afteraction.services.imports.slack import import_slack_export
from afteraction.services.imports.sources import ImportSummary
from afteraction.services.imports.transcripts import import_transcript

FLAGSHIP_EVIDENCE = Path(__file__).resolve().parent / "evidence" / "flagship"
REVIEW_MEETING_START = datetime(2026, 10, 29, 16, 0, tzinfo=UTC)
"""When the learning review's recording (and its chat) started, on the story's dates: their
cues are placed in time from it, so the meeting shows in the flagship's transcript after
the incident (nine days after it began)."""


def load_flagship_evidence(
    session: Session,
    actor: Actor,
    incident_public_id: str,
    *,
    folder: Path = FLAGSHIP_EVIDENCE,
    shift: timedelta = timedelta(0),
) -> list[ImportSummary]:
    """Import the flagship's evidence files for `incident_public_id`, in the caller's write
    transaction; one summary per import, in order: roster, PagerDuty, on-call, Slack,
    review transcript, review chat. `shift`: how far `folder`'s dates were moved from the
    story's (`evidence_shift`); the review meeting moves with them."""
    summaries = [
        import_roster(session, actor, folder / "roster.csv"),
        import_pagerduty(session, actor, folder / "pagerduty", incident=incident_public_id),
        import_oncall(session, actor, folder / "pagerduty"),
    ]
    summaries.append(
        import_slack_export(session, actor, folder / "slack", incident=incident_public_id)
    )
    transcripts = folder / "transcripts"
    for name in ("review-meeting.vtt", "zoom-chat.txt"):
        if (transcripts / name).is_file():
            summaries.append(
                import_transcript(
                    session,
                    actor,
                    transcripts / name,
                    incident=incident_public_id,
                    recording_start=REVIEW_MEETING_START + shift,
                )
            )
    return summaries
