"""The demo flagship's analysis, already under way, written through the analysis and
interview services: annotations on key messages, accepted timeline entries, themes,
contributing factors, risks, mitigators, difficulties and open questions citing the messages
they are about, and the interviews its investigator planned, with confidential notes. What
to write comes from `data/flagship/analysis.yaml` (`flagship.flagship_analysis`).

`annotate_flagship(session, incident_number)` finds each message by its Slack timestamp
and checks it holds the quoted text: a message that is missing or says something else
raises `StoryError`, so the story cannot silently drift from its evidence. When no evidence
was imported at all it does nothing and logs why. It runs inside the caller's write
transaction and commits nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM, Actor
from afteraction.core.analysis.interviews import draft_questions
from afteraction.core.analysis.people import analyze_people
from afteraction.demo.evidence_shift import shift_ts
from afteraction.demo.flagship import ANALYSIS, PlannedInterview, flagship_analysis
from afteraction.demo.story import StoryError, directory
from afteraction.services import analysis as work
from afteraction.services import interviews as iv
from afteraction.services import timeline as timeline_service
from afteraction.storage.analysis_bundle import IncidentEvidence
from afteraction.storage.analysis_tables import AnalysisNote
from afteraction.storage.evidence_tables import IncidentChannel, Message
from afteraction.storage.tables import Incident, Person

log = logging.getLogger(__name__)


def _messages(session: Session, incident_id: int) -> dict[str, tuple[int, str]]:
    """The incident's visible messages by Slack timestamp: (id, plain text)."""
    query = (
        select(Message.ts, Message.id, Message.text_plain)
        .join(IncidentChannel, IncidentChannel.channel_id == Message.channel_id)
        .where(IncidentChannel.incident_id == incident_id, Message.hidden.is_(False))
        .order_by(Message.at, Message.id)
    )
    return {row.ts: (row.id, row.text_plain or "") for row in session.execute(query)}


def _message(messages: dict[str, tuple[int, str]], ts: str, where: str, quote: str = "") -> int:
    found = messages.get(ts)
    if found is None:
        raise StoryError(f"{ANALYSIS}: {where}: no imported message has ts {ts}")
    if quote.lower() not in found[1].lower():
        raise StoryError(f"{ANALYSIS}: {where}: message {ts} does not say {quote!r}")
    return found[0]


def annotate_flagship(
    session: Session,
    incident_number: int,
    actor: Actor = SYSTEM,
    investigator: Actor | None = None,
    shift: timedelta = timedelta(0),
) -> int:
    """Add the flagship's analysis; returns how many items were added (0 when skipped).
    The interviews are planned by `investigator` (default: `actor`); `shift` is how far the
    evidence was moved from the story's dates (`evidence_shift`)."""
    incident = session.scalar(select(Incident).where(Incident.number == incident_number))
    if incident is None:
        log.info("flagship analysis skipped: incident %s does not exist", incident_number)
        return 0
    messages = _messages(session, incident.id)
    if shift:  # keyed by the timestamps the story names
        messages = {shift_ts(ts, -shift): found for ts, found in messages.items()}
    if not messages:
        log.info("flagship analysis skipped: no messages imported for INC-%s yet", incident_number)
        return 0
    if session.scalar(select(AnalysisNote.id).where(AnalysisNote.incident_id == incident.id)):
        log.info("flagship analysis skipped: INC-%s already has analysis notes", incident_number)
        return 0
    story = flagship_analysis()
    added = 0
    for i, annotation in enumerate(story.annotations):
        message_id = _message(messages, annotation.ts, f"annotations[{i}]", annotation.quote)
        result = work.annotate(
            session,
            actor,
            incident_number,
            message_id=message_id,
            tag=annotation.tag,
            note=annotation.note,
        )
        timeline_service.create_entry(
            session, actor, incident_number, annotation_id=result.annotation.id
        )
        added += 2
    evidence = timeline_service.workspace_evidence(session, incident.id)
    chosen = [s.key for s in timeline_service.pending_suggestions(session, evidence)[:6]]
    if chosen:
        accepted = timeline_service.decide_suggestions(
            session, actor, incident_number, chosen, accept=True
        )
        added += len(accepted)
    for i, note in enumerate(story.notes):
        cited = [
            {"type": "message", "id": _message(messages, ts, f"notes[{i}]")} for ts in note.cites
        ]
        work.add_note(session, actor, incident_number, kind=note.kind, text=note.text,
                      evidence=cited)  # fmt: skip
        added += 1
    planner = investigator or actor
    added += _interviews(session, planner, incident_number, evidence, story.interviews)
    return added


def _interviews(
    session: Session,
    actor: Actor,
    number: int,
    evidence: IncidentEvidence,
    planned: tuple[PlannedInterview, ...],
) -> int:
    """Plan each interview with questions drafted from the evidence; record its notes."""
    bundle, context = evidence.bundle, evidence.context
    analysis = analyze_people(bundle, context)
    keys = {person_id: key for key, person_id in evidence.person_ids.items()}
    for i, interview in enumerate(planned):
        email = directory().email(interview.person)
        person_id = session.scalar(select(Person.id).where(Person.email == email))
        if person_id is None:
            raise StoryError(f"{ANALYSIS}: interviews[{i}]: nobody in the roster is {email}")
        row = iv.plan_interview(
            session,
            actor,
            number,
            person_id=person_id,
            questions=draft_questions(keys.get(person_id, ""), bundle, analysis, limit=5),
        )
        if interview.notes:
            iv.update_interview(session, actor, number, row.id, consent=True,
                                notes=interview.notes)  # fmt: skip
    return len(planned)
