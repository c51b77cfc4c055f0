"""Migrations over a database that already holds evidence: a SQLite table rebuild keeps
every row, what points at those rows, and the triggers of the rebuilt table."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import analysis, search
from afteraction.services import incidents as repo
from afteraction.services.imports.slack import import_slack_export
from afteraction.storage.analysis_tables import Annotation
from afteraction.storage.db import (
    alembic_config,
    make_engine,
    make_session_factory,
    upgrade,
    writing,
)
from afteraction.storage.evidence_tables import Message
from tests.services.imports._helpers import slack_message

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _export(root: Path) -> Path:
    root.mkdir()
    (root / "users.json").write_text(json.dumps([{"id": "U1", "name": "ada"}]))
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "inc-db"}]))
    (root / "inc-db").mkdir()
    day = [
        slack_message(T0, "replica lag is growing"),
        slack_message(T0 + timedelta(minutes=1), "rolling back &amp; paging <@U1>"),
        slack_message(T0 + timedelta(minutes=2), "", attachments=[{"text": "CPU at 98%"}]),
        slack_message(T0 + timedelta(minutes=3), "in a thread", thread_ts="1772445600.000000"),
    ]
    (root / "inc-db" / "2026-03-02.json").write_text(json.dumps(day))
    return root


def _texts(session: Session) -> list[tuple[str | None, str, str]]:
    rows = session.execute(
        select(Message.text_raw, Message.text_plain, Message.raw_text).order_by(Message.at)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _triggers(session: Session) -> list[str]:
    found = session.execute(
        text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'messages'")
    )
    return sorted(name for (name,) in found)


def test_raw_text_migration_keeps_messages_annotations_and_search(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'evidence.db'}"
    upgrade(url)
    engine = make_engine(url)
    session = make_session_factory(engine)()
    with writing(session):
        incident, _ = repo.declare(
            session,
            SYSTEM,
            repo.IncidentInput(title="db", severity="SEV2", milestones={"started": T0}),
        )
        import_slack_export(session, SYSTEM, _export(tmp_path / "export"), incident="INC-1")
    rolled_back = session.scalar(select(Message.id).where(Message.text_plain.like("rolling%")))
    with writing(session):
        analysis.annotate(session, SYSTEM, "INC-1", message_id=rolled_back, note="the fix")
    stored = _texts(session)
    # the raw text is stored only when it differs from the plain text (markup); a bot post
    # keeps its attachments' text in both
    assert [raw is None for raw, _, _ in stored] == [True, False, True, True]
    assert stored[1][2] == "rolling back &amp; paging <@U1>"
    assert stored[2] == (None, "CPU at 98%", "CPU at 98%")
    triggers = _triggers(session)
    assert triggers == ["messages_fts_delete", "messages_fts_insert", "messages_fts_update"]
    session.close()

    command.downgrade(alembic_config(url), "0008")
    session = make_session_factory(engine)()
    assert [raw for raw, _, _ in _texts(session)] == [raw for _, _, raw in stored]
    assert session.scalar(select(Annotation.message_id)) == rolled_back
    assert _triggers(session) == triggers
    session.close()

    upgrade(url)
    session = make_session_factory(engine)()
    assert _texts(session) == stored
    assert session.scalar(select(Annotation.message_id)) == rolled_back
    assert _triggers(session) == triggers
    thread_index = session.scalar(
        text("SELECT sql FROM sqlite_master WHERE name = 'ix_messages_thread'")
    )
    assert thread_index is not None and "WHERE thread_ts IS NOT NULL" in thread_index
    # the search index still follows the table: an edit replaces the indexed words
    hits = search.search(session, SYSTEM, "replica", kinds=["messages"])
    assert len(hits.by_kind["messages"]) == 1
    with writing(session):
        session.execute(
            text("UPDATE messages SET text_plain = 'primary lag' WHERE text_plain LIKE 'replica%'")
        )
    assert search.search(session, SYSTEM, "replica", kinds=["messages"]).by_kind["messages"] == []
    assert session.scalar(text("PRAGMA foreign_keys")) == 1
    session.close()
    engine.dispose()
