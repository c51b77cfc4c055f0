"""Background jobs on Huey: SQLite-backed beside the database by default, Redis when
`AFTERACTION_QUEUE_URL=redis://…`, in memory for in-memory databases and tests.

The queue is built from settings by `build_queue()`; tasks are registered on it there, so
nothing is configured at import time. Jobs are idempotent: running one twice is harmless.
`serve`/`demo` run a consumer thread in-process; `afteraction worker` runs one alone.
Import jobs whose worker died are failed when a process starts (`recover_stopped_imports`)
and every minute (`fail_stopped_imports`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, TypeVar

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from sqlalchemy.orm import Session

from afteraction.config import Settings
from afteraction.core.access import SYSTEM
from afteraction.services.imports.jobs import heartbeat_every, recover
from afteraction.services.imports.kinds import run_job
from afteraction.services.notify import action_item_reminders as remind
from afteraction.services.notify import deliver_pending
from afteraction.services.notify import overdue_action_items as overdue
from afteraction.services.notify import weekly_digests as build
from afteraction.services.privacy import apply_retention
from afteraction.services.service_levels import record_burn_alerts
from afteraction.storage.db import make_engine, make_session_factory, writing
from afteraction.storage.types import utcnow

T = TypeVar("T")


@dataclass
class Queue:
    huey: Huey
    tasks: dict[str, Any]

    def enqueue(self, name: str, *args: Any) -> Any:
        return self.tasks[name](*args)


def _huey(settings: Settings) -> Huey:
    url = settings.queue.url
    if url.startswith(("redis://", "rediss://")):
        return RedisHuey("afteraction", url=url)
    path = settings.queue_path()
    if path is None:
        return MemoryHuey("afteraction", immediate=True)
    return SqliteHuey("afteraction", filename=str(path))


def overdue_action_items(settings: Settings, today: date) -> list[int]:
    """Ids of open action items past their due date (the reminder job's worklist)."""
    return _with_session(settings, lambda session: overdue(session, today))


def recover_stopped_imports(settings: Settings) -> list[int]:
    """Fail import jobs whose worker stopped (see `services.imports.jobs`); ids failed."""
    if settings.is_sqlite and not settings.sqlite_path():
        return []  # an in-memory database lives and dies with its one process
    return recover(settings.database_url, stale_after=settings.queue.stale_after)


def _with_session(settings: Settings, work: Callable[[Session], T]) -> T:
    """Run `work(session)` on a fresh engine (jobs run outside any web request)."""
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            return work(session)
    finally:
        engine.dispose()


def build_queue(settings: Settings) -> Queue:
    huey = _huey(settings)

    @huey.task(name="ping")  # type: ignore[untyped-decorator]
    def ping(value: str) -> str:
        return value

    @huey.periodic_task(crontab(hour="7", minute="0"), name="action_item_reminders")  # type: ignore[untyped-decorator]
    def action_item_reminders() -> list[int]:
        return overdue_action_items(settings, utcnow().date())

    @huey.task(name="slo_burn_check")  # type: ignore[untyped-decorator]
    def slo_burn_check(slo_id: int) -> list[int]:
        def check(session: Session) -> list[int]:
            with writing(session):
                return record_burn_alerts(session, slo_id)

        return _with_session(settings, check)

    @huey.task(name="run_import")  # type: ignore[untyped-decorator]
    def run_import(job_id: int) -> str:
        return run_job(
            settings.database_url,
            job_id,
            max_json_file_bytes=settings.max_json_file_bytes,
            heartbeat_every=heartbeat_every(settings.queue.stale_after),
        )

    @huey.periodic_task(crontab(minute="*"), name="fail_stopped_imports")  # type: ignore[untyped-decorator]
    def fail_stopped_imports() -> list[int]:
        return recover_stopped_imports(settings)

    @huey.periodic_task(crontab(minute="*/5"), name="deliver_notifications")  # type: ignore[untyped-decorator]
    def deliver_notifications() -> dict[str, int]:
        return _with_session(settings, lambda s: asdict(deliver_pending(s, settings)))

    @huey.periodic_task(crontab(day_of_week="1", hour="8", minute="0"), name="weekly_digests")  # type: ignore[untyped-decorator]
    def weekly_digests() -> int:
        return _with_session(settings, lambda s: build(s, utcnow()))

    @huey.periodic_task(crontab(hour="7", minute="15"), name="report_action_reminders")  # type: ignore[untyped-decorator]
    def report_action_reminders() -> int:
        return _with_session(settings, lambda s: remind(s, utcnow().date()))

    @huey.periodic_task(crontab(hour="3", minute="30"), name="retention")  # type: ignore[untyped-decorator]
    def retention() -> dict[str, int]:
        """The retention policy, daily (nothing to do when both days are 0)."""
        if not (settings.retention.chat_days or settings.retention.recording_days):
            return {}

        def purge(session: Session) -> dict[str, int]:
            with writing(session):
                done = apply_retention(session, SYSTEM, settings.retention)
            return {"messages": done.messages, "interviews": done.interviews, "cues": done.cues}

        return _with_session(settings, purge)

    return Queue(
        huey=huey,
        tasks={
            "run_import": run_import,
            "fail_stopped_imports": fail_stopped_imports,
            "ping": ping,
            "action_item_reminders": action_item_reminders,
            "slo_burn_check": slo_burn_check,
            "deliver_notifications": deliver_notifications,
            "weekly_digests": weekly_digests,
            "report_action_reminders": report_action_reminders,
            "retention": retention,
        },
    )


def start_consumer_thread(queue: Queue, *, workers: int = 1) -> Consumer:
    """Run a Huey consumer inside this process (signal handlers are left alone)."""
    consumer = queue.huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    thread = threading.Thread(target=consumer.run, name="afteraction-jobs", daemon=True)
    consumer._set_signal_handlers = lambda: None
    thread.start()
    return consumer
