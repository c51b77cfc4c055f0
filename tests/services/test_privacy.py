"""Erasing a person's personal data and the retention policy (`services.privacy`): text and
personal fields go, rows stay, so the people analysis counts what it counted before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.config import RetentionSettings
from afteraction.core.access import SYSTEM, Actor
from afteraction.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from afteraction.services import people, privacy, search, users
from afteraction.services.privacy import apply_retention, erase_person
from afteraction.storage import audit
from afteraction.storage.analysis_tables import Interview, InterviewCue
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import Message
from afteraction.storage.tables import AuditLog, Identity, Person
from tests.analysis_fixtures import T0, at, build
from tests.conftest import PASSWORD

RESPONDER = Actor(user_id=None, label="r", role="responder")


def _facts(db: Session, incident: int) -> list[tuple[str, int, int, object, str]]:
    """Who took part, how much and from when (word counts go with the text)."""
    analysis = people.analyse_people(db, SYSTEM, incident=incident)
    return sorted(
        (p.person_key, p.messages, p.pages_in_incident, p.first_message, p.arrival)
        for p in analysis.people
    )


def test_erasing_a_person_keeps_what_they_did_and_removes_who_they_were(db: Session) -> None:
    built = build(db)
    ben = built.people["ben"]
    before = _facts(db, built.incident)
    with writing(db):
        row = db.get(Message, built.messages["cy1"])
        assert row is not None
        row.text_raw = row.text_plain = "Ben Cho was right, ask ben cho or BEN CHO; Bencho stays"
        audit.record(
            db, SYSTEM, "person.updated", target_type="person", target_id=ben,
            after={"name": "Ben Cho", "notes": ["met Ben Cho"]},
        )  # fmt: skip
        db.get(Identity, db.scalar(select(Identity.id).where(Identity.person_id == ben)))
        db.execute(
            Identity.__table__.update()
            .where(Identity.person_id == ben)
            .values(display_name="Benjamin Cho")
        )
    with writing(db):
        done = erase_person(db, SYSTEM, ben, reason="request #118")
    assert done.pseudonym == f"Erased person {ben}"
    assert done.messages_rewritten == 1 and done.audit_entries_rewritten >= 1
    person = db.get(Person, ben)
    assert person is not None and person.erased_at is not None
    assert (person.name, person.email, person.title, person.time_zone, person.start_date) == (
        done.pseudonym, None, None, None, None,
    )  # fmt: skip
    assert {
        i.display_name for i in db.scalars(select(Identity).where(Identity.person_id == ben))
    } == {""}
    texts = db.scalars(select(Message.text_raw).where(Message.id == built.messages["cy1"])).one()
    assert texts == (
        f"{done.pseudonym} was right, ask {done.pseudonym} or {done.pseudonym}; Bencho stays"
    )
    authors = set(db.scalars(select(Message.author_name).where(Message.author_person_id == ben)))
    assert authors == {done.pseudonym}
    everything = " ".join(
        str(v) for row in db.scalars(select(AuditLog)) for v in (row.before, row.after)
    )
    assert "Ben Cho" not in everything and "request #118" in everything
    # the analysis counts the same messages and pages for the same people
    assert _facts(db, built.incident) == before
    with pytest.raises(Conflict, match="already erased"):
        erase_person(db, SYSTEM, ben, reason="again")


def test_erasure_is_refused_without_reason_rights_or_while_the_account_is_active(
    db: Session,
) -> None:
    built = build(db)
    ana = built.people["ana"]
    with pytest.raises(PermissionDenied):
        erase_person(db, RESPONDER, ana, reason="x")
    with pytest.raises(ValidationError):
        erase_person(db, SYSTEM, ana, reason="  ")
    with pytest.raises(NotFound):
        erase_person(db, SYSTEM, 999_999, reason="x")
    with writing(db):
        user = users.create_user(
            db, SYSTEM, email="ana@corp.example", password=PASSWORD, role="viewer", person_id=ana
        )
        token = users.issue_token(db, SYSTEM, user_id=user.id, name="t").secret
    with pytest.raises(Conflict, match="active user account"):
        erase_person(db, SYSTEM, ana, reason="x")
    db.rollback()
    with writing(db):
        users.update_user(db, SYSTEM, user.id, active=False)
    with writing(db):
        assert erase_person(db, SYSTEM, ana, reason="left the company").user_anonymised
    db.refresh(user)
    assert user.email == f"erased-user-{user.id}@erased.invalid"
    assert users.user_for_token(db, token) is None


def test_retention_removes_old_chat_text_and_keeps_the_rows(db: Session) -> None:
    built = build(db)
    before = _facts(db, built.incident)
    now = at(30) + timedelta(days=10)
    policy = RetentionSettings(chat_days=10)  # messages before at(30) expire, dee1 stays
    with writing(db):
        dry = apply_retention(db, SYSTEM, policy, now=now, dry_run=True)
    assert dry.messages == 7 and dry.dry_run
    assert len(search.search(db, SYSTEM, "rolling", kinds=("messages",)).hits) == 1
    assert db.scalar(select(Message.text_raw).where(Message.id == built.messages["ben1"]))
    with writing(db):
        done = apply_retention(db, SYSTEM, policy, now=now)
    assert done.messages == 7 and done.chat_cutoff == at(30)
    purged = db.get(Message, built.messages["ben1"])
    assert purged is not None and purged.purged_at == now
    assert (purged.text_raw, purged.text_plain, purged.author_name) == (None, "", "Ben Cho")
    kept = db.get(Message, built.messages["dee1"])
    assert kept is not None and kept.purged_at is None and "Customers" in kept.text_plain
    assert _facts(db, built.incident) == before
    assert search.search(db, SYSTEM, "rolling", kinds=("messages",)).hits == []
    entry = db.scalars(select(AuditLog).where(AuditLog.action == "retention.applied")).one()
    assert entry.after is not None and entry.after["messages"] == 7
    with writing(db):
        assert apply_retention(db, SYSTEM, policy, now=now).messages == 0  # idempotent


def test_retention_removes_old_interview_recordings(db: Session) -> None:
    built = build(db)
    with writing(db):
        old = Interview(
            incident_id=built.incident, person_id=built.people["ben"], held_at=T0,
            recording_url="https://zoom.example/rec/1",
        )  # fmt: skip
        new = Interview(
            incident_id=built.incident, person_id=built.people["cy"],
            held_at=T0 + timedelta(days=40), recording_url="https://zoom.example/rec/2",
        )  # fmt: skip
        db.add_all([old, new])
        db.flush()
        for seq, interview in enumerate((old, old, new)):
            db.add(
                InterviewCue(
                    interview_id=interview.id, seq=seq,
                    start_seconds=seq, end_seconds=seq + 1, speaker="Ben", text=f"said {seq}",
                )
            )  # fmt: skip
    now = T0 + timedelta(days=45)
    with writing(db):
        done = apply_retention(db, SYSTEM, RetentionSettings(recording_days=30), now=now)
    assert (done.interviews, done.cues, done.messages) == (1, 2, 0)
    db.refresh(old)
    db.refresh(new)
    assert (old.recording_url, new.recording_url) == ("", "https://zoom.example/rec/2")
    texts = dict(db.execute(select(InterviewCue.seq, InterviewCue.text)).all())
    assert texts == {0: "", 1: "", 2: "said 2"}


def test_no_policy_removes_nothing(db: Session) -> None:
    build(db)
    with writing(db):
        done = privacy.apply_retention(db, SYSTEM, RetentionSettings())
    assert not done.enabled and (done.messages, done.cues) == (0, 0)
    assert not db.scalars(select(AuditLog).where(AuditLog.action == "retention.applied")).all()
