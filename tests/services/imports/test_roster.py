"""Roster import: people, teams, managers, memberships, updates, identity re-linking."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.core.errors import ImportFailed
from afteraction.services.imports.roster import import_roster
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import Source
from afteraction.storage.tables import AuditLog, Identity, Person, Team, TeamMembership
from tests.services.imports._helpers import FLAGSHIP, count, row_counts

ROSTER = FLAGSHIP / "roster.csv"


def _import(db: Session, path: Path):  # type: ignore[no-untyped-def]
    with writing(db):
        return import_roster(db, SYSTEM, path)


def test_flagship_roster_creates_people_teams_and_history(db: Session) -> None:
    summary = _import(db, ROSTER)
    assert summary.counts == {
        "teams created": 7,
        "people created": 40,
        "managers set": 39,
        "memberships added": 43,  # 40 current teams + 3 previous ones
    }
    assert (count(db, Person), count(db, Team), count(db, TeamMembership)) == (40, 7, 43)
    aisha = db.scalar(select(Person).where(Person.email == "aisha.bello@brightloop.example"))
    assert aisha is not None
    assert (aisha.location, aisha.time_zone, aisha.start_date) == (
        "London",
        "Europe/London",
        date(2024, 8, 24),
    )
    manager = db.get(Person, aisha.manager_id)
    assert manager is not None and manager.email == "olivia.brooks@brightloop.example"
    movers = [m for m in db.scalars(select(TeamMembership)) if m.end is not None]
    assert len(movers) >= 3


def test_same_roster_twice_changes_nothing(db: Session) -> None:
    _import(db, ROSTER)
    before = row_counts(db)
    again = _import(db, ROSTER)
    assert again.already_imported and row_counts(db) == before


def test_later_roster_updates_changed_fields_with_audit(db: Session, tmp_path: Path) -> None:
    _import(db, ROSTER)
    text = ROSTER.read_text(encoding="utf-8")
    later = tmp_path / "roster-later.csv"
    later.write_text(
        text.replace(
            "Aisha Bello,aisha.bello@brightloop.example,London,Software Engineer,Checkout",
            "Aisha Bello,aisha.bello@brightloop.example,Lisbon,Senior Software Engineer,Platform",
        ),
        encoding="utf-8",
    )
    summary = _import(db, later)
    assert summary.counts["people updated"] == 1 and summary.counts["people unchanged"] == 39
    assert summary.counts["memberships added"] == 1 and summary.counts["memberships ended"] == 1
    aisha = db.scalar(select(Person).where(Person.email == "aisha.bello@brightloop.example"))
    assert aisha is not None and (aisha.location, aisha.title) == (
        "Lisbon",
        "Senior Software Engineer",
    )
    entry = db.scalar(
        select(AuditLog)
        .where(AuditLog.action == "person.updated", AuditLog.target_id == str(aisha.id))
        .order_by(AuditLog.id.desc())
        .limit(1)
    )
    assert entry is not None and entry.before == {
        "title": "Software Engineer",
        "location": "London",
    }
    open_teams = [m.team.slug for m in aisha.memberships if m.end is None]
    assert open_teams == ["platform"]


def test_identities_are_relinked_and_unmatched_listed(db: Session) -> None:
    with writing(db):
        placeholder = Person(name="W. Zhang")
        bot = Person(name="Deploy Bot")
        db.add_all([placeholder, bot])
        db.flush()
        db.add(
            Identity(
                person_id=placeholder.id,
                system="pagerduty",
                external_id="P0QZSQX",
                display_name="Wei Zhang",
            )
        )
        db.add(
            Identity(
                person_id=bot.id,
                system="slack",
                external_id="B0DEPLOYS1",
                display_name="Deploy Bot",
            )
        )
    summary = _import(db, ROSTER)
    assert summary.counts["identities relinked by name"] == 1
    assert summary.unmatched == ["slack:B0DEPLOYS1 Deploy Bot <no email>"]
    identity = db.scalar(select(Identity).where(Identity.external_id == "P0QZSQX"))
    assert identity is not None and identity.person.email == "wei.zhang@brightloop.example"
    assert db.scalar(select(AuditLog).where(AuditLog.action == "identity.relinked")) is not None


def test_extra_columns_are_kept_on_the_source(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("name,email,team,costCenter\nAda Lovelace,ada@example.com,Core,CC-7\n")
    _import(db, path)
    source = db.scalar(select(Source))
    assert source is not None
    assert source.options["extra_columns"] == {"ada@example.com": {"costCenter": "CC-7"}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("title,team\nx,y\n", "no 'name' or 'email'"),
        ("name,email,startDate\nAda,ada@example.com,soon\n", "not a date"),
        ("name,email,timezone\nAda Lovelace,ada@example.com,Mars/Olympus\n", "time zone"),
        ("name,email\nA B,a@example.com\nA C,A@example.com\n", "duplicate email"),
    ],
)
def test_hostile_rosters_change_nothing(
    db: Session, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    before = row_counts(db)
    with pytest.raises(ImportFailed, match=message) as caught:
        _import(db, path)
    assert "bad.csv" in str(caught.value.details.get("where"))
    assert row_counts(db) == before
