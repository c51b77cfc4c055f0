"""The analysis workspace storage: the bundle built from the database, annotations (with
the bad inputs: another incident's message, hidden messages, overlaps), timeline
suggestions whose dismissals stick, milestones from entries, and notes."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from afteraction.core.access import Actor
from afteraction.core.analysis.people import analyze_people
from afteraction.core.errors import NotFound, PermissionDenied, ValidationError
from afteraction.services import analysis as work
from afteraction.services import citations
from afteraction.services import timeline as timeline_service
from afteraction.storage.analysis_bundle import build_incident_evidence
from afteraction.storage.db import writing
from afteraction.storage.tables import Incident
from tests.analysis_fixtures import at, build

INVESTIGATOR = Actor(user_id=None, label="inv", role="investigator")
RESPONDER = Actor(user_id=None, label="resp", role="responder")


def _id(db: Session, number: int) -> int:
    incident = db.query(Incident).filter_by(number=number).one()
    return incident.id


def test_bundle_joins_identities_threads_inviters_and_pages(db: Session) -> None:
    built = build(db)
    evidence = build_incident_evidence(db, _id(db, built.incident))
    bundle, ana, ben, dee = (
        evidence.bundle,
        built.people["ana"],
        built.people["ben"],
        built.people["dee"],
    )
    assert len(bundle.messages) == 7  # the other incident's channel is not included
    assert [(c.speaker, c.text, c.at) for c in bundle.cues] == [
        ("Ana Ortiz", "Review meeting opened", at(40))
    ]
    join = next(m for m in bundle.messages if m.subtype == "channel_join")
    assert join.inviter_key == str(ana)
    assert bundle.messages[1].mention_keys == (str(ben),)
    assert bundle.messages[4].reactions[0].user_keys == (str(ana),)
    assert evidence.context.owning_teams == ("payments",)
    assert evidence.context.page_incident_ids == ("PD1",)
    analysis = analyze_people(bundle, evidence.context, history=evidence.history)
    facts = {p.person_key: p for p in analysis.people}
    assert facts[str(ana)].arrival == "paged"
    assert facts[str(ana)].on_call_at_arrival is True
    assert facts[str(ben)].arrival in ("invited", "mentioned")
    assert facts[str(built.people["cy"])].team_fit == "former_member"
    # no time zone, no roster dates: unknown, never guessed
    assert facts[str(dee)].time_zone is None
    assert facts[str(dee)].off_hours_at_arrival is None
    assert "schedule" in facts[str(dee)].explanations["on_call_at_arrival"]
    assert facts[str(dee)].tenure_days_then is None
    assert analysis.rollup.bots_count == 1


def test_annotating_rules(db: Session) -> None:
    built = build(db)
    with writing(db):
        first = work.annotate(
            db, INVESTIGATOR, built.incident, message_id=built.messages["ana1"], tag="detection"
        )
        assert first.overlaps == []
        rng = work.annotate(
            db,
            INVESTIGATOR,
            built.incident,
            message_id=built.messages["ben1"],
            end_message_id=built.messages["ana1"],
            tag="detection",
        )
        assert rng.annotation.start_at == at(4) and rng.annotation.end_at == at(8)
        assert rng.overlaps == [first.annotation.id]  # allowed, but flagged
    with pytest.raises(ValidationError) as other:
        work.annotate(
            db, INVESTIGATOR, built.incident, message_id=built.other_message, tag="narrative"
        )
    assert other.value.details["field"] == "message_id"
    with pytest.raises(ValidationError, match="deleted or hidden"):
        work.annotate(
            db, INVESTIGATOR, built.incident, message_id=built.messages["hidden"], tag="narrative"
        )
    with pytest.raises(ValidationError, match="unknown tag"):
        work.annotate(
            db, INVESTIGATOR, built.incident, message_id=built.messages["ana1"], tag="blame"
        )
    with pytest.raises(ValidationError):
        work.annotate(db, INVESTIGATOR, built.incident, message_id=built.messages["ana1"])
    with pytest.raises(NotFound):
        work.annotate(db, INVESTIGATOR, built.incident, message_id=999_999, tag="narrative")
    with pytest.raises(PermissionDenied):
        work.annotate(
            db, RESPONDER, built.incident, message_id=built.messages["ana1"], tag="narrative"
        )
    with writing(db):
        q = work.annotate(
            db,
            INVESTIGATOR,
            built.incident,
            start_at=at(10),
            end_at=at(12),
            note="What was the pool size?",
            question=True,
        )
    assert q.annotation.message_id is None
    assert [a.id for a in work.list_annotations(db, _id(db, built.incident), question=True)] == [
        q.annotation.id
    ]


def test_suggestions_accept_and_dismiss_stick(db: Session) -> None:
    built = build(db)
    incident_id = _id(db, built.incident)
    evidence = build_incident_evidence(db, incident_id, with_history=False)
    pending = timeline_service.pending_suggestions(db, evidence)
    kinds = {key.split(":", 1)[0] for s in pending for key in s.keys}  # merged rules too
    assert "first_human_message" in kinds
    first, second = pending[0], pending[1]
    with writing(db):
        entry = timeline_service.decide_suggestion(
            db, INVESTIGATOR, built.incident, first.key, accept=True
        )
        timeline_service.decide_suggestion(
            db, INVESTIGATOR, built.incident, second.key, accept=False
        )
    assert entry.status == "accepted" and entry.evidence
    again = {
        s.key
        for s in timeline_service.pending_suggestions(db, build_incident_evidence(db, incident_id))
    }
    assert first.key not in again and second.key not in again
    with pytest.raises(ValidationError, match="already"):
        timeline_service.decide_suggestion(db, INVESTIGATOR, built.incident, first.key, accept=True)
    with pytest.raises(NotFound):
        timeline_service.decide_suggestion(db, INVESTIGATOR, built.incident, "nope", accept=True)
    assert [e.id for e in timeline_service.list_timeline(db, incident_id)] == [entry.id]


def test_entries_from_annotations_and_milestones(db: Session) -> None:
    built = build(db)
    with writing(db):
        note = work.annotate(
            db, INVESTIGATOR, built.incident, message_id=built.messages["cy1"], tag="mitigation"
        )
        entry = timeline_service.create_entry(
            db, INVESTIGATOR, built.incident, annotation_id=note.annotation.id
        )
    assert entry.at == at(20) and entry.kind == "mitigation"
    assert entry.evidence == [{"type": "message", "id": built.messages["cy1"]}]
    assert entry.person_id == built.people["cy"]
    with writing(db):
        timeline_service.update_entry(
            db, INVESTIGATOR, built.incident, entry.id, text="Rollback mitigated it"
        )
        incident, _ = timeline_service.milestone_from_entry(
            db, INVESTIGATOR, built.incident, entry.id, "mitigated"
        )
    assert incident.mitigated_at == at(20)
    with pytest.raises(ValidationError):
        timeline_service.milestone_from_entry(db, INVESTIGATOR, built.incident, entry.id, "lunch")
    with pytest.raises(ValidationError):
        timeline_service.create_entry(
            db,
            INVESTIGATOR,
            built.incident,
            at=at(1),
            text="x",
            evidence=[{"type": "message", "id": built.other_message}],
        )


def test_notes_and_tags(db: Session) -> None:
    built = build(db)
    with writing(db):
        note = work.add_note(
            db,
            INVESTIGATOR,
            built.incident,
            kind="contributing_factor",
            text="Pool size was tuned for the old traffic",
            evidence=[
                {"type": "message", "id": built.messages["cy1"]},
                {"type": "page", "id": built.page_ids[0]},
            ],
        )
    assert [n.id for n in work.list_notes(db, _id(db, built.incident))] == [note.id]
    labels = citations.evidence_labels(db, note.evidence)
    assert ("page", built.page_ids[0]) in labels
    with pytest.raises(ValidationError):
        work.add_note(db, INVESTIGATOR, built.incident, kind="root_cause", text="x")
    assert work.list_tags(db)[0].slug == "narrative"
    admin = Actor(user_id=None, label="admin", role="admin")
    with writing(db):
        work.add_tag(db, admin, "customer-impact", "Customer impact")
    assert "customer-impact" in {t.slug for t in work.list_tags(db)}
    with pytest.raises(PermissionDenied):
        work.add_tag(db, INVESTIGATOR, "x", "x")
