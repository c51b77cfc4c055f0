"""Background import jobs kept in the database, so any web process or worker can answer
"how far is job 12?": the `import_jobs` row and the few writes that move it along
(queued → running → complete | failed; an upload shown for confirmation first starts as
preview → queued), and the heartbeat of a running job.

Lives here: the `ImportJob` table and its state changes. Does not live here: running an
import (`afteraction.services.imports`), the queue (`afteraction.jobs`), HTTP (`web`).
Every state change is its own short transaction: a job's progress must be visible while the
import itself is still inside its one, uncommitted, write transaction. The one exception is
`finish`, which completes a job inside the import's own transaction, so that the import
and its job's "complete" commit together.

Heartbeat: `set_state(..., "running")` stamps `heartbeat_at`, and `Heartbeat` (a thread
beside the import) stamps it again every few seconds; `stale_jobs` lists running jobs
whose heartbeat is older than a cutoff: their worker died.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from afteraction.core.errors import NotFound
from afteraction.storage.db import writing
from afteraction.storage.tables import Base
from afteraction.storage.types import utcnow

STATUSES = ("preview", "queued", "running", "complete", "failed")
log = logging.getLogger(__name__)


class ImportJob(Base):
    """One requested import: what to import (kind, stored upload, options) and how it went."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(String(2000))
    filename: Mapped[str] = mapped_column(String(500), default="")
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL"), index=True
    )
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column()


def create_job(
    session: Session,
    *,
    kind: str,
    path: str,
    filename: str,
    options: dict[str, Any],
    created_by: str,
    created_by_user_id: int | None,
    incident_id: int | None = None,
    status: str = "queued",
) -> ImportJob:
    """A queued job (or one in `preview`, waiting for its user to confirm it), committed
    at once so the worker (maybe another process) can see it."""
    if status not in ("preview", "queued"):
        raise ValueError(f"a job starts queued or in preview, not {status!r}")
    with writing(session):
        job = ImportJob(
            kind=kind,
            path=path,
            filename=filename[:500],
            options=options,
            status=status,
            created_by=created_by[:320],
            created_by_user_id=created_by_user_id,
            incident_id=incident_id,
        )
        session.add(job)
        session.flush()
    return job


def get_job(session: Session, job_id: int) -> ImportJob:
    job = session.get(ImportJob, job_id)
    if job is None:
        raise NotFound("import job", job_id)
    return job


def list_jobs(
    session: Session,
    *,
    limit: int | None = 20,
    statuses: tuple[str, ...] | None = None,
    created_by_user_id: int | None = None,
    only_owned: bool = False,
) -> list[ImportJob]:
    """The latest jobs, newest first; with `only_owned`, those of `created_by_user_id`."""
    query = select(ImportJob).order_by(ImportJob.id.desc())
    if only_owned:
        query = query.where(ImportJob.created_by_user_id == created_by_user_id)
    if statuses is not None:
        query = query.where(ImportJob.status.in_(statuses))
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def set_state(session: Session, job_id: int, status: str, **fields: Any) -> None:
    """Move a job to `status` (and set `fields`: summary, error, source_id...) and commit;
    a job set running gets a fresh heartbeat."""
    with writing(session):
        finish(session, job_id, status, **fields)


def finish(session: Session, job_id: int, status: str, **fields: Any) -> None:
    """`set_state` inside the caller's transaction (committed with it)."""
    if status not in STATUSES:
        raise ValueError(f"unknown job status {status!r}")
    job = get_job(session, job_id)
    job.status = status
    job.updated_at = utcnow()
    if status == "running":
        job.heartbeat_at = job.updated_at
    for name, value in fields.items():
        setattr(job, name, value)


def beat(session: Session, job_id: int) -> None:
    """Stamp a running job's heartbeat (own short transaction)."""
    with writing(session):
        session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.status == "running")
            .values(heartbeat_at=utcnow())
        )


def stale_jobs(session: Session, cutoff: datetime) -> list[ImportJob]:
    """Running jobs whose heartbeat is older than `cutoff` (or missing)."""
    query = select(ImportJob).where(
        ImportJob.status == "running",
        or_(ImportJob.heartbeat_at.is_(None), ImportJob.heartbeat_at < cutoff),
    )
    return list(session.scalars(query.order_by(ImportJob.id)))


class Heartbeat:
    """`with Heartbeat(factory, job_id, every=10):` stamps the job's heartbeat every `every`
    seconds on a thread and session of its own until the block ends. A beat that fails
    (the database busy or away for a moment) is logged and tried again at the next one."""

    def __init__(self, factory: sessionmaker[Session], job_id: int, *, every: float) -> None:
        self._factory, self._job_id, self._every = factory, job_id, every
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"import-job-{job_id}-heartbeat", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with self._factory() as session:
            while not self._stop.wait(self._every):
                try:
                    beat(session, self._job_id)
                except Exception as error:  # the next beat tries again
                    log.warning("heartbeat of import job %s failed: %s", self._job_id, error)


def set_progress(session: Session, job_id: int, done: int, total: int | None, stage: str) -> None:
    """Record progress (own short transaction on its own session)."""
    with writing(session):
        job = get_job(session, job_id)
        job.done, job.total, job.stage = done, total, stage[:200]
        job.updated_at = utcnow()
