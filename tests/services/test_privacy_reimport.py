"""An erased person stays erased: a later Slack or PagerDuty import that names them (by an
account id they had, a new account with their email, their name in the text) maps to the
erased person and stores none of their name or email again; the summary counts them. A
transcript speaker does the same through the digest of the name they were known by, and a
roster row with their email is left out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.core.erasure import email_key
from afteraction.services import incidents as repo
from afteraction.services.imports.pagerduty import import_pagerduty
from afteraction.services.imports.roster import import_roster
from afteraction.services.imports.transcripts import import_transcript
from afteraction.services.privacy import erase_person
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import Message, Page, TranscriptCue
from afteraction.storage.models import Base
from afteraction.storage.tables import Identity, KeptIdentity, Person
from tests.services.imports._helpers import FLAGSHIP, slack_message
from tests.services.imports.test_slack_people import PATHS, declare, run_import

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PROFILE = {"real_name": "Ben Cho", "display_name": "Benny", "email": "ben.cho@corp.example"}
BEN = {"id": "U1", "name": "bcho", "profile": PROFILE | {"title": "SRE"}}
ADA = {"id": "U2", "name": "ada", "profile": {"real_name": "Ada Lane"}}


def _export(root: Path, users: list[dict[str, Any]], messages: list[dict[str, Any]]) -> Path:
    root.mkdir(parents=True)
    (root / "users.json").write_text(json.dumps(users))
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "inc-db"}]))
    (root / "inc-db").mkdir()
    (root / "inc-db" / "2026-03-02.json").write_text(json.dumps(messages))
    return root


def _holding(db: Session, *words: str) -> list[str]:
    """The rows (as "table: values") of any table that hold one of `words`, any case."""
    found = [
        f"{table.name}: {tuple(row)}"
        for table in Base.metadata.sorted_tables
        for row in db.execute(table.select())
        if any(word.lower() in str(tuple(row)).lower() for word in words)
    ]
    db.rollback()
    return found


def _erase(db: Session, person_id: int) -> str:
    with writing(db):
        return erase_person(db, SYSTEM, person_id, reason="request #7").pseudonym


@pytest.mark.parametrize("way", sorted(PATHS))
def test_a_slack_import_after_the_erasure_maps_to_the_erased_person(
    db: Session, tmp_path: Path, way: str
) -> None:
    first = [slack_message(T0, "rolling back now"),
             slack_message(T0, "thanks Ben Cho", user="U2", n=1)]  # fmt: skip
    run_import(db, _export(tmp_path / "one", [BEN, ADA], first), way)
    ben = db.scalar(select(Identity.person_id).where(Identity.external_id == "U1"))
    assert ben is not None
    pseudonym = _erase(db, ben)
    assert _holding(db, "ben cho", "ben.cho@", "benny") == []
    # the same account again, and a new account (another workspace) with their email
    again = dict(BEN, profile=BEN["profile"] | {"email": "Ben.Cho@corp.example"})
    later = [
        slack_message(T0 + timedelta(minutes=1), "back again, ping Benny or BEN CHO"),
        slack_message(T0 + timedelta(minutes=2), "hello from the new workspace", user="U9"),
        slack_message(T0 + timedelta(minutes=3), "ask ben cho, <@U1> knows", user="U2"),
        {"type": "message", "ts": f"{int(T0.timestamp()) + 240}.000000", "user": "U1",
         "text": "with a profile", "user_profile": {"real_name": "Ben Cho",
                                                    "display_name": "Benny"}},
    ]  # fmt: skip
    summary = run_import(
        db, _export(tmp_path / "two", [BEN, dict(again, id="U9"), ADA], later), way
    )
    assert summary.counts["matched to erased people"] == 2
    assert summary.counts["people created"] == 0 and summary.counts["messages"] == 4
    assert not any("Ben" in line for line in summary.unmatched)
    person = db.get(Person, ben)
    assert person is not None and (person.name, person.email, person.title) == (
        pseudonym,
        None,
        None,
    )
    keys = db.execute(
        select(Identity.system, Identity.external_id, Identity.display_name).where(
            Identity.person_id == ben
        )
    )
    assert sorted(tuple(k) for k in keys) == sorted(
        [("slack", "U1", ""), ("slack", "U9", ""), (*email_key("ben.cho@corp.example"), "")]
    )
    authors = db.execute(select(Message.author_external, Message.author_name).where(
        Message.author_person_id == ben))  # fmt: skip
    assert {tuple(a) for a in authors} == {("U1", pseudonym), ("U9", pseudonym)}
    texts = set(db.scalars(select(Message.text_plain)))
    assert f"back again, ping {pseudonym} or {pseudonym}" in texts
    assert any(t.startswith(f"ask {pseudonym},") for t in texts)
    assert _holding(db, "ben cho", "ben.cho@", "benny") == []
    assert _holding(db, "ada lane")  # the others keep their names


def test_an_incident_import_keeps_no_account_of_the_erased_person_aside(
    db: Session, tmp_path: Path
) -> None:
    public_id = declare(db)
    run_import(db, _export(tmp_path / "one", [BEN, ADA], [slack_message(T0, "hi", user="U2")]),
               incident=public_id)  # fmt: skip
    assert db.scalar(select(KeptIdentity.email)) == "ben.cho@corp.example"  # U1 was absent
    with writing(db):  # Ben enters the directory by hand, takes U1, and is erased
        ben = Person(name="Ben Cho", email="ben.cho@corp.example")
        db.add(ben)
        db.flush()
    pseudonym = _erase(db, ben.id)
    assert db.scalar(select(KeptIdentity.id)) is None
    assert _holding(db, "ben cho", "ben.cho@") == []
    messages = [slack_message(T0 + timedelta(minutes=5), "I am back", user="U1")]
    summary = run_import(db, _export(tmp_path / "two", [BEN, ADA], messages), incident=public_id)
    assert summary.counts["matched to erased people"] == 1
    assert summary.counts["people created"] == 0
    author = db.scalar(select(Message.author_name).where(Message.text_plain == "I am back"))
    assert author == pseudonym and _holding(db, "ben cho", "ben.cho@") == []


def test_a_pagerduty_import_after_the_erasure_maps_to_the_erased_person(db: Session) -> None:
    pd = FLAGSHIP / "pagerduty"
    bundle = {k: json.loads((pd / f"{k}.json").read_text())[k]
              for k in ("incident", "log_entries", "users")}  # fmt: skip
    with writing(db):
        import_pagerduty(db, SYSTEM, bundle)
    jordan = next(u for u in bundle["users"] if u["name"] == "Jordan Reyes")
    person_id = db.scalar(select(Identity.person_id).where(Identity.external_id == jordan["id"]))
    assert person_id is not None
    assert db.scalars(select(Page.summary).where(Page.summary.contains("Jordan Reyes"))).first()
    pseudonym = _erase(db, person_id)
    assert _holding(db, "jordan reyes", jordan["email"]) == []
    # the same export again with a note, and the same person under a new PagerDuty id
    note = {"id": "PN1", "user": {"id": jordan["id"], "type": "user_reference"},
            "content": "Jordan Reyes here: rolled back",
            "created_at": "2026-10-20T21:30:00Z"}  # fmt: skip
    twin = dict(jordan, id="PNEWID1", email=jordan["email"].upper())
    again = dict(bundle, notes=[note], users=[*bundle["users"], twin])
    with writing(db):
        summary = import_pagerduty(db, SYSTEM, again)
    assert summary.counts["matched to erased people"] == 2
    assert "people created" not in summary.counts and summary.counts["notes"] == 1
    assert not any("Jordan" in line for line in summary.unmatched)
    assert set(db.scalars(select(Identity.person_id).where(Identity.external_id == "PNEWID1"))) == {
        person_id
    }
    assert (
        db.scalar(select(Page.summary).where(Page.kind == "note"))
        == f"{pseudonym} here: rolled back"
    )
    assert _holding(db, "jordan reyes", jordan["email"]) == []


def _vtt(path: Path, *cues: tuple[str, str]) -> Path:
    blocks = [
        f"00:00:{2 * n:02d}.000 --> 00:00:{2 * n + 1:02d}.000\n<v {who}>{text}\n"
        for n, (who, text) in enumerate(cues)
    ]
    path.write_text("WEBVTT\n\n" + "\n".join(blocks))
    return path


def test_a_transcript_after_the_erasure_maps_to_the_erased_person(
    db: Session, tmp_path: Path
) -> None:
    with writing(db):
        incident, _ = repo.declare(db, SYSTEM, repo.IncidentInput(title="db", severity="SEV2"))
        import_transcript(
            db, SYSTEM, _vtt(tmp_path / "one.vtt", ("Ben Cho", "I restarted the pool")),
            incident=incident.public_id,
        )  # fmt: skip
    ben = db.scalar(select(Person.id).where(Person.name == "Ben Cho"))
    assert ben is not None
    pseudonym = _erase(db, ben)
    assert _holding(db, "ben cho") == []
    two = _vtt(tmp_path / "two.vtt", ("Ben Cho", "back, it was the pool"),
               ("Ada Lane", "thanks Ben Cho"))  # fmt: skip
    with writing(db):
        summary = import_transcript(db, SYSTEM, two, incident=incident.public_id)
    assert summary.counts["matched to erased people"] == 1
    assert summary.counts["people created"] == 1  # Ada Lane
    cues = db.execute(select(TranscriptCue.speaker, TranscriptCue.person_id, TranscriptCue.text))
    ada = db.scalar(select(Person.id).where(Person.name == "Ada Lane"))
    assert {tuple(c) for c in cues} >= {
        (pseudonym, ben, "back, it was the pool"),
        ("Ada Lane", ada, f"thanks {pseudonym}"),
    }
    assert _holding(db, "ben cho") == []


def test_a_roster_row_with_an_erased_persons_email_is_left_out(db: Session, tmp_path: Path) -> None:
    header = "name,email,title,team,manager,startDate\n"
    rows = ("Ben Cho,ben.cho@corp.example,SRE,Storage,ada@corp.example,2025-01-01\n"
            "Ada Lane,ada@corp.example,Lead,Storage,,2024-01-01\n")  # fmt: skip
    (tmp_path / "one.csv").write_text(header + rows)
    with writing(db):
        import_roster(db, SYSTEM, tmp_path / "one.csv")
    ben = db.scalar(select(Person.id).where(Person.name == "Ben Cho"))
    assert ben is not None
    pseudonym = _erase(db, ben)
    (tmp_path / "two.csv").write_text(header + rows.replace("SRE", "Staff SRE"))
    with writing(db):
        summary = import_roster(db, SYSTEM, tmp_path / "two.csv")
    assert summary.counts["matched to erased people"] == 1
    assert "people created" not in summary.counts
    person = db.get(Person, ben)
    assert person is not None
    assert (person.name, person.email, person.title, person.manager_id) == (
        pseudonym, None, None, None,
    )  # fmt: skip
    assert _holding(db, "ben cho", "ben.cho@", "staff sre") == []
