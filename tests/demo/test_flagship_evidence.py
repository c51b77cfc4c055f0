"""The flagship incident's evidence loads through the importers, fast and idempotently."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from afteraction.demo.flagship import flagship_of
from afteraction.demo.flagship_evidence import REVIEW_MEETING_START, load_flagship_evidence
from afteraction.demo.generate import build_org
from afteraction.demo.load import LOADER, load_demo
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import OnCallShift, Page, Source, TranscriptCue
from afteraction.storage.tables import Incident, Person, TeamMembership
from afteraction.storage.transcript import Filters, read_window
from tests.services.imports._helpers import count


def test_flagship_evidence_through_the_importers(db: Session) -> None:
    load_demo(db)
    number = flagship_of(build_org(7)).number
    people, memberships = count(db, Person), count(db, TeamMembership)
    with writing(db):
        summaries = load_flagship_evidence(db, LOADER, f"INC-{number}")
    kinds = [s.kind for s in summaries]
    assert kinds[:3] == ["roster", "pagerduty", "oncall"] and kinds[-2:] == ["transcript"] * 2
    roster = summaries[0]
    assert roster.counts["people unchanged"] == 40 and "people created" not in roster.counts
    assert (count(db, Person), count(db, TeamMembership)) == (people, memberships)
    assert summaries[1].incident == f"INC-{number}" and summaries[1].counts["pages"] == 23
    assert summaries[1].unmatched == [] and summaries[2].unmatched == []
    assert count(db, Page) == 23 and count(db, OnCallShift) == 15
    assert count(db, TranscriptCue) == 49
    incident_ids = set(db.scalars(select(Source.incident_id).where(Source.kind != "roster")))
    assert len(incident_ids - {None}) == 1
    with writing(db):
        again = load_flagship_evidence(db, LOADER, f"INC-{number}")
    assert all(s.already_imported for s in again)
    assert db.scalar(select(func.count()).select_from(Source)) == len(summaries)


def test_the_review_meeting_is_in_the_flagship_transcript(db: Session) -> None:
    load_demo(db)
    number = flagship_of(build_org(7)).number
    incident_id = db.scalar(select(Incident.id).where(Incident.number == number))
    assert incident_id is not None
    window = read_window(db, incident_id, filters=Filters(start=REVIEW_MEETING_START))
    cues = [item for item in window.items if item.kind == "cue"]
    assert len(cues) == 49  # the recording's 40 cues and the chat's 9
    first = cues[0]
    assert first.at == REVIEW_MEETING_START + timedelta(seconds=2.31)
    assert first.author_name == "Sarah Cohen" and first.author_id is not None
    assert first.text.startswith("Okay, I think we have most people.")
    assert [c.at for c in cues] == sorted(c.at for c in cues)
