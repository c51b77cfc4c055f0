"""Background jobs: the queue is built from settings and its tasks do real work."""

from __future__ import annotations

from datetime import date

from huey import MemoryHuey, SqliteHuey
from sqlalchemy.orm import Session

from afteraction.config import Settings, development_settings
from afteraction.core.access import SYSTEM
from afteraction.jobs import build_queue, overdue_action_items
from afteraction.services import action_items
from afteraction.services import incidents as repo
from afteraction.storage.db import writing


def test_memory_queue_runs_tasks_immediately(settings: Settings) -> None:
    queue = build_queue(settings)
    assert isinstance(queue.huey, MemoryHuey)
    assert queue.enqueue("ping", "pong")() == "pong"


def test_sqlite_queue_lives_beside_the_database(tmp_path) -> None:
    settings = development_settings(database_url=f"sqlite:///{tmp_path / 'a.db'}")
    queue = build_queue(settings)
    assert isinstance(queue.huey, SqliteHuey)
    assert queue.huey.storage.filename == str(tmp_path / "a.db.queue")


def test_overdue_action_items(settings: Settings, db: Session) -> None:
    with writing(db):
        repo.declare(db, SYSTEM, repo.IncidentInput(title="x", severity="SEV3"))
        late = action_items.add_action_item(db, SYSTEM, 1, title="late", due=date(2026, 1, 1))
        action_items.add_action_item(
            db, SYSTEM, 1, title="done", due=date(2026, 1, 1), status="done"
        )
        action_items.add_action_item(db, SYSTEM, 1, title="future", due=date(2027, 1, 1))
    assert overdue_action_items(settings, date(2026, 6, 1)) == [late.id]
