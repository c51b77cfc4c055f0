"""A report drafted from the analysis lists, under each contributing factor, the evidence
the factor cites (time and source of each message, call cue, page or timeline entry, in time
order), checked again when the draft is made: a message hidden since is left out, a person
is no moment, and an interview is never cited, even for a factor quoted from one. The
draft's evidence lines agree with the claim check."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core import report_rules as rules
from afteraction.core.access import SYSTEM
from afteraction.core.timeline import TimelineItem
from afteraction.demo.load import load_demo
from afteraction.services import analysis, report_claims, reports
from afteraction.services import incidents as repo
from afteraction.storage.analysis_tables import (
    AnalysisNote,
    Interview,
    InterviewQuote,
    TimelineEntry,
)
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import Message, TranscriptCue

PASSAGE = "I was looking at the pool graph, not the error rate"


def _section(body: str, heading: str) -> list[str]:
    start = body.index(f"## {heading}\n")
    end = body.index("\n## ", start + 1)
    return [line for line in body[start:end].splitlines()[1:] if line.strip()]


def test_each_contributing_factor_lists_the_evidence_it_cites(db: Session) -> None:
    load_demo(db)
    incident = repo.get_incident(db, SYSTEM, 301)
    entry = db.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident.id, TimelineEntry.status == "accepted")
        .order_by(TimelineEntry.at, TimelineEntry.id)
    ).first()
    cue = db.scalars(
        select(TranscriptCue)
        .where(TranscriptCue.incident_id == incident.id)
        .order_by(TranscriptCue.seq, TranscriptCue.id)  # the first transcript's first
    ).first()
    risk = db.scalar(
        select(AnalysisNote).where(
            AnalysisNote.incident_id == incident.id, AnalysisNote.kind == "risk"
        )
    )
    assert entry is not None and cue is not None and risk is not None
    hidden_id = risk.evidence[1]["id"]
    person = db.scalar(select(Message.author_person_id).where(Message.id == hidden_id))
    interview = db.scalar(select(Interview).where(Interview.incident_id == incident.id))
    assert interview is not None and person is not None
    with writing(db):
        analysis.add_note(
            db,
            SYSTEM,
            301,
            kind="contributing_factor",
            text="Nobody owned the pool settings",
            evidence=[
                {"type": "message", "id": hidden_id},
                {"type": "cue", "id": cue.id},
                {"type": "person", "id": person},
                {"type": "entry", "id": entry.id},
            ],
        )
        quoted = analysis.add_note(
            db, SYSTEM, 301, kind="contributing_factor", text=f"\u201c{PASSAGE}\u201d"
        )
        db.add(InterviewQuote(interview_id=interview.id, note_id=quoted.id, passage=PASSAGE))
    hidden = db.get(Message, hidden_id)
    assert hidden is not None
    hidden_text = hidden.text_plain
    with writing(db):  # hidden in the source after it was cited
        hidden.hidden = True
    with writing(db):
        report = reports.create_report(db, SYSTEM, 301)
    body = reports.version(db, report).body
    lines = _section(body, "Contributors and enablers")
    assert lines[0].startswith("- The retry decorator wraps authorize_and_reserve")
    assert lines[1].startswith(
        "  - Evidence: 2026-10-20 21:33 UTC, #inc-301-payments-timeouts, Daniel Okafor: "
        "\u201coh. The retry decorator wraps"
    )
    assert lines[2].startswith("- Pool saturation was first read")
    assert lines[3].startswith("  - Evidence: 2026-10-20 21:18 UTC, #inc-301-payments-timeouts")
    assert "; 2026-10-20 22:02 UTC, #inc-301-payments-timeouts, Alertmanager: " in lines[3]
    assert lines[4] == "- Nobody owned the pool settings"
    # the entry (20 October) before the call's cue (29 October); no hidden message, no person
    entry_at = entry.at.replace(tzinfo=UTC).strftime("%Y-%m-%d %H:%M")
    assert lines[5].startswith(f"  - Evidence: {entry_at} UTC, timeline: \u201c")
    assert lines[5].endswith(f"; 2026-10-29 16:00 UTC, call, {cue.speaker}: \u201c{cue.text}\u201d")
    assert lines[5].count(" UTC, ") == 2
    # quotes inside a quoted text become straight ones, so each quotation stays one span
    assert lines[5].count("\u201c") == lines[5].count("\u201d") == 2
    assert hidden_text[:40] not in body
    assert lines[6:] == [f"- \u201c{PASSAGE}\u201d"]  # quoted from an interview: none cited
    assert "interview" not in "\n".join(lines).lower()
    found, _ = report_claims.check(db, report, body)
    assert found == []  # every evidence line's time is a moment the claim check knows


def test_a_long_evidence_list_is_cut_and_counted() -> None:
    at = datetime(2026, 10, 20, 21, 0, tzinfo=UTC)
    cited = tuple(
        TimelineItem(at.replace(minute=i), f"timeline: \u201cstep {i}\u201d") for i in range(11)
    )
    facts = rules.ReportFacts(
        incident="INC-1", title="t", contributors=(rules.Factor("Slow rollback", cited),)
    )
    section = _section(rules.prefill("google-sre", facts), "Root causes")
    assert section[0] == "- Slow rollback"
    assert section[1].count(" UTC, timeline: ") == rules.CITED_SHOWN
    assert section[1].endswith(
        "21:07 UTC, timeline: \u201cstep 7\u201d; and 3 more cited in the analysis"
    )
