"""People from a Slack import: an incident's import makes people only of the users who
appear in what it imported (wrote, reacted, joined, were mentioned or invited), on every
path that reads an export; removing a source removes the people it alone created."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import directory
from afteraction.services import incidents as repo
from afteraction.services.imports import slack as slack_importer
from afteraction.services.imports.slack import import_slack_export
from afteraction.services.imports.sources import remove_source_everything
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import Message
from afteraction.storage.tables import AuditLog, Identity, KeptIdentity, Person
from tests.services.imports._helpers import slack_message, slack_ts

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PATHS = {"generic sink": (False, 0), "bound rows": (True, 0), "parser process": (True, 1)}
USERS = [
    {"id": f"U{n}", "name": name, "profile": {"real_name": f"{name.title()} Example"}}
    for n, name in enumerate(["ada", "bob", "cy", "dee", "eve", "fay", "gus"], start=1)
] + [{"id": "U8", "name": "hal", "profile": {"real_name": "Hal Known", "email": "hal@x.org"}},
     {"id": "B1", "name": "deploybot", "is_bot": True}]  # fmt: skip


def write_export(root: Path, days: dict[str, list[dict[str, Any]]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "users.json").write_text(json.dumps(USERS))
    channels = [{"id": "C1", "name": "inc-db"}, {"id": "C2", "name": "general"}]
    (root / "channels.json").write_text(json.dumps(channels))
    for rel, messages in days.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(json.dumps(messages))
    return root


def incident_export(root: Path) -> Path:
    """#inc-db in the window: U1 writes (U2 reacts, U3 is mentioned), U5 invites U4; U6
    writes the day after (outside); #general: U7 writes. U8 matches a person by email."""
    return write_export(root, {
        "inc-db/2026-03-02.json": [
            slack_message(T0, "db down <@U3>", reactions=[{"name": "eyes", "users": ["U2"],
                                                            "count": 1}]),
            {"type": "message", "subtype": "channel_join", "ts": slack_ts(T0, 1), "user": "U4",
             "inviter": "U5", "text": "<@U4> has joined the channel"},
        ],
        "inc-db/2026-03-03.json": [slack_message(T0 + timedelta(days=1), "late", user="U6")],
        "general/2026-03-02.json": [slack_message(T0, "lunch?", user="U7")],
    })  # fmt: skip


def declare(db: Session) -> str:
    with writing(db):
        incident, _ = repo.declare(
            db,
            SYSTEM,
            repo.IncidentInput(
                title="db",
                severity="SEV2",
                milestones={"started": T0, "declared": T0, "closed": T0 + timedelta(hours=1)},
            ),
        )
        directory.create_person(db, SYSTEM, directory.PersonInput(name="Hal", email="hal@x.org"))
        return incident.public_id


def run_import(db: Session, path: Path, way: str = "bound rows", **options: Any):  # type: ignore[no-untyped-def]
    bound, parsers = PATHS[way]
    before = slack_importer.BOUND_ROWS
    slack_importer.BOUND_ROWS = bound
    try:
        with writing(db):
            return import_slack_export(db, SYSTEM, path, parser_processes=parsers, **options)
    finally:
        slack_importer.BOUND_ROWS = before


def slack_people(db: Session) -> dict[str, str]:
    """Slack id -> person name, of every slack identity."""
    rows = db.execute(
        select(Identity.external_id, Person.name).join(Person, Person.id == Identity.person_id)
    )
    return {str(external): str(name) for external, name in rows}


@pytest.mark.parametrize("way", sorted(PATHS))
def test_an_incident_import_makes_people_only_of_who_appears(
    db: Session, tmp_path: Path, way: str
) -> None:
    public_id = declare(db)
    summary = run_import(db, incident_export(tmp_path / "e"), way, incident=public_id,
                         channels=["inc-db"])  # fmt: skip
    assert summary.counts["messages"] == 2
    assert set(slack_people(db)) == {"U1", "U2", "U3", "U4", "U5", "U8"}
    assert summary.counts["people created"] == 5 and summary.counts["people matched"] == 1
    assert summary.counts["users"] == 8 and summary.counts["bots"] == 1
    assert summary.counts["users not in the window"] == 2  # U6 and U7
    assert sorted(summary.unmatched) == sorted(
        f"{name.title()} Example (U{n})" for n, name in enumerate(["ada", "bob", "cy", "dee",
                                                                      "eve"], start=1)
    )  # fmt: skip
    authors = db.execute(
        select(Message.author_external, Person.name).join(
            Person, Person.id == Message.author_person_id
        )
    )
    assert sorted(tuple(row) for row in authors) == [("U1", "Ada Example"), ("U4", "Dee Example")]
    assert db.scalar(select(Person.id).where(Person.name == "Hal")) is not None
    # Hal and the five who appear were created: the absent ones never were, even provisionally
    created = db.scalars(select(AuditLog.target_id).where(AuditLog.action == "person.created"))
    assert len(list(created)) == 6


def test_a_later_import_makes_people_of_who_appears_in_it_and_the_archive_of_everyone(
    db: Session, tmp_path: Path
) -> None:
    public_id = declare(db)
    export = incident_export(tmp_path / "e")
    run_import(db, export, incident=public_id, channels=["inc-db"])
    later = run_import(db, export, incident=public_id, channels=["inc-db"],
                       until=T0 + timedelta(days=2))  # fmt: skip
    assert later.counts["people created"] == 1 and "U6" in slack_people(db)
    assert later.counts["users not in the window"] == 1  # U7 still
    archive = run_import(db, export)
    assert "users not in the window" not in archive.counts
    assert set(slack_people(db)) == {f"U{n}" for n in range(1, 9)}


def test_removing_a_source_removes_the_people_it_alone_created(db: Session, tmp_path: Path) -> None:
    public_id = declare(db)
    export = incident_export(tmp_path / "e")
    first = run_import(db, export, incident=public_id, channels=["inc-db"])
    days = {"inc-db/2026-03-02.json": [slack_message(T0 + timedelta(minutes=5), "again",
                                                     user="U2")]}  # fmt: skip
    second = run_import(db, write_export(tmp_path / "e2", days), incident=public_id)
    with writing(db):
        team = directory.create_team(db, SYSTEM, name="Storage")
        cy = db.scalar(select(Person.id).where(Person.name == "Cy Example"))
        directory.add_membership(db, SYSTEM, person_id=cy or 0, team_slug=team.slug)
    with writing(db):
        removal = remove_source_everything(db, SYSTEM, first.source_id or 0)
    # U2 wrote in the second source, U3 joined a team, U8 was there before: they stay
    assert removal.rows["people"] == 3
    assert set(slack_people(db)) == {"U2", "U3", "U8"}
    kept = db.scalars(select(Person.source_id).where(Person.name.like("% Example")))
    assert set(kept) == {None}  # kept people forget the removed source
    with writing(db):
        assert (
            remove_source_everything(db, SYSTEM, second.source_id or 0).rows.get("people") is None
        )
    assert set(slack_people(db)) == {"U2", "U3", "U8"}  # not created by the second source


def kept(db: Session) -> dict[str, tuple[str, str | None]]:
    """Slack id -> (name, email) of the accounts kept to match later."""
    rows = db.execute(
        select(KeptIdentity.external_id, KeptIdentity.display_name, KeptIdentity.email).where(
            KeptIdentity.system == "slack"
        )
    )
    return {row.external_id: (row.display_name, row.email) for row in rows}


def test_users_outside_the_window_are_kept_as_identities_to_match_later(
    db: Session, tmp_path: Path
) -> None:
    public_id = declare(db)
    export = incident_export(tmp_path / "e")
    users = [u | {"profile": u["profile"] | {"email": "gus@x.org"}} if u["id"] == "U7" else u
             for u in USERS]  # fmt: skip
    (export / "users.json").write_text(json.dumps(users))
    people_before = {p.name for p in db.scalars(select(Person))}
    first = run_import(db, export, incident=public_id, channels=["inc-db"])
    assert kept(db) == {"U6": ("Fay Example", None), "U7": ("Gus Example", "gus@x.org")}
    assert {"Fay Example", "Gus Example"}.isdisjoint(p.name for p in db.scalars(select(Person)))
    # a later import that finds U6 in its messages makes them a person: no longer kept aside
    later = run_import(db, export, incident=public_id, channels=["inc-db"],
                       until=T0 + timedelta(days=2))  # fmt: skip
    assert "U6" in slack_people(db) and set(kept(db)) == {"U7"}
    # someone entering the directory with U7's email takes the account as an identity
    with writing(db):
        gus = directory.create_person(
            db, SYSTEM, directory.PersonInput(name="Gus Roster", email="gus@x.org")
        )
    assert slack_people(db)["U7"] == "Gus Roster" and kept(db) == {}
    assert gus.id in set(db.scalars(select(Identity.person_id)))
    # removing the import that kept an account removes it
    (export / "users.json").write_text(json.dumps(USERS + [{"id": "U9", "name": "ivy"}]))
    third = run_import(db, export, incident=public_id, channels=["inc-db"],
                       since=T0 + timedelta(hours=12))  # fmt: skip
    assert "U9" in kept(db)
    with writing(db):
        for summary in (third, later, first):
            remove_source_everything(db, SYSTEM, summary.source_id or 0)
    assert kept(db) == {}
    assert {p.name for p in db.scalars(select(Person))} == people_before | {"Gus Roster"}
