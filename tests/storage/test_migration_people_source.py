"""Migration 0010 (`people.source_id`) over a database that already holds people and the
messages that point at them: down and up again, every row and key kept."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect, select, text

from afteraction.core.access import SYSTEM
from afteraction.services.imports.slack import import_slack_export
from afteraction.storage.db import (
    alembic_config,
    make_engine,
    make_session_factory,
    upgrade,
    writing,
)
from afteraction.storage.evidence_tables import Message
from afteraction.storage.tables import Person
from tests.storage.test_migrations import _export


def _people(url: str) -> list[tuple[int, str]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = connection.execute(text("SELECT id, name FROM people ORDER BY id")).all()
    engine.dispose()
    return [(int(i), str(n)) for i, n in found]


def test_people_source_migration_down_and_up_keeps_people_and_their_messages(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'people.db'}"
    upgrade(url)
    engine = make_engine(url)
    session = make_session_factory(engine)()
    with writing(session):
        summary = import_slack_export(session, SYSTEM, _export(tmp_path / "export"))
    assert set(session.scalars(select(Person.source_id))) == {summary.source_id}
    authors = sorted(session.scalars(select(Message.author_person_id)))
    session.close()
    people = _people(url)

    command.downgrade(alembic_config(url), "0009")
    assert "source_id" not in {c["name"] for c in inspect(engine).get_columns("people")}
    assert _people(url) == people

    upgrade(url)
    session = make_session_factory(engine)()
    assert _people(url) == people
    assert set(session.scalars(select(Person.source_id))) == {None}  # forgotten, not guessed
    assert sorted(session.scalars(select(Message.author_person_id))) == authors
    keys = inspect(engine).get_foreign_keys("people")
    assert {(k["referred_table"], k["options"].get("ondelete")) for k in keys} >= {
        ("sources", "SET NULL")
    }
    assert session.scalar(text("PRAGMA foreign_keys")) == 1
    session.close()
    engine.dispose()
