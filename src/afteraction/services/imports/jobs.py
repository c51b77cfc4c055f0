"""Import jobs, from upload to done, for every entry point (the API's `/api/v1/imports`,
the `/imports` page): starting one (`start_import`: check, record, then queue it or preview
it), a preview's confirm, new window or discard, which jobs a caller may see
(`visible_job`, `visible_jobs`), and those whose worker died. The web stores the upload
(`store` below is its callback) and renders; the rules are here, once.

A job moves queued → running → complete or failed; a Slack upload may first wait in
`preview` (what it holds per day and what the window catches, counted without importing)
until its user confirms it (queued, same upload and options) or discards it (failed,
upload deleted). A job and its upload are visible to whoever started it and to admins.

A server or worker killed mid-import (kill -9, power cut, out of memory) leaves its job
"running" with a heartbeat that stops. `fail_stale_jobs` fails every running job whose
heartbeat is older than the timeout, with the reason, and deletes its upload, so a job is
always queued, running (fresh heartbeat), complete or failed.

It runs when a web process or `afteraction worker` starts and every minute on the queue
(`afteraction.jobs`), with the sweep of stage folders killed imports left
(`stage_dirs`). On SQLite a running import holds the write lock until it commits; the
check needs that lock too, so it only ever sees a running job when no import is writing:
its heartbeat stamped when it started is then all there is to go by.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from afteraction.core.access import Actor, require_write
from afteraction.core.errors import AfteractionError, NotFound, ValidationError
from afteraction.services import incidents as repo
from afteraction.services.imports.kinds import (
    IMPORT_KINDS,
    check_options,
    discard_upload,
    preview_slack,
    sweep_uploads,
)
from afteraction.services.imports.stage_dirs import sweep_stage_dirs
from afteraction.storage import import_jobs
from afteraction.storage.db import make_engine, make_session_factory, writing
from afteraction.storage.types import utcnow

STOPPED = "the worker stopped while running this import; start it again"
log = logging.getLogger(__name__)


DISCARDED = "discarded after the preview"


class Queue(Protocol):
    """Where a recorded job is sent to run (`afteraction.jobs`' queue)."""

    def enqueue(self, task: str, *args: Any) -> Any: ...


def visible_job(session: Session, actor: Actor, job_id: int) -> import_jobs.ImportJob:
    """The import job, for an admin or the user who started it; NotFound to anyone else."""
    job = import_jobs.get_job(session, job_id)
    if not actor.is_admin and job.created_by_user_id != actor.user_id:
        raise NotFound("import job", job_id)
    return job


def visible_jobs(session: Session, actor: Actor, *, limit: int = 10) -> list[import_jobs.ImportJob]:
    """The latest jobs `actor` may see (as `visible_job` decides), newest first."""
    return import_jobs.list_jobs(
        session, limit=limit, created_by_user_id=actor.user_id, only_owned=not actor.is_admin
    )


def start_import(
    session: Session,
    actor: Actor,
    queue: Queue,
    *,
    kind: str,
    options: dict[str, Any],
    store: Callable[[], Path],
    filename: str | None,
    uploads: Path,
    preview: bool = False,
) -> import_jobs.ImportJob:
    """Record an import of what `store()` saves (it returns the stored file's path) and
    queue it, or with `preview` count what it holds and leave it waiting in `preview` for
    `confirm`. Checked first (the right to import, the kind, the options, the incident),
    uploads no job uses are swept before this one is stored, and a job that cannot be
    recorded, queued or previewed leaves no upload behind. Blocking I/O: not on an event
    loop."""
    require_write(actor)
    if kind not in IMPORT_KINDS:
        known = ", ".join(sorted(IMPORT_KINDS))
        raise ValidationError(f"unknown import kind {kind!r}; known: {known}", field="kind")
    if preview and kind != "slack":
        raise ValidationError("only a Slack export can be previewed", field="kind")
    check_options(options)
    incident_id = None
    if options.get("incident"):
        incident_id = repo.get_incident(session, actor, options["incident"]).id
        session.rollback()
    sweep_uploads(session, uploads)
    path = store()
    try:
        job = import_jobs.create_job(
            session,
            kind=kind,
            path=str(path),
            filename=filename or path.name,
            options=options,
            created_by=actor.label,
            created_by_user_id=actor.user_id,
            incident_id=incident_id,
            status="preview" if preview else "queued",
        )
    except BaseException:
        discard_upload(path)
        raise
    if preview:
        _preview(session, actor, job.id)
    else:
        queue_job(session, queue, job)
    session.refresh(job)
    return job


def queue_job(session: Session, queue: Queue, job: import_jobs.ImportJob) -> None:
    """Queue a recorded job's `run_import`; a queue that refuses fails the job and deletes
    its upload."""
    path, job_id = Path(job.path), job.id
    try:
        queue.enqueue("run_import", job_id)
    except Exception as error:
        session.rollback()
        log.error("could not queue import job %s: %s", job_id, error)  # may name the queue
        import_jobs.set_state(
            session, job_id, "failed", path="", error="could not queue the import; try again later"
        )
        discard_upload(path)
        raise
    session.expire_all()


def confirm(session: Session, actor: Actor, queue: Queue, job_id: int) -> import_jobs.ImportJob:
    """Queue a previewed import as it was previewed (same upload, same options)."""
    job = _waiting(session, actor, job_id)
    import_jobs.set_state(session, job_id, "queued", summary=None)
    queue_job(session, queue, job)
    return job


def preview_again(
    session: Session, actor: Actor, job_id: int, *, since: str | None, until: str | None
) -> import_jobs.ImportJob:
    """Preview the same upload again with another window (the one a preview suggests),
    without uploading it again; returns the job, still waiting, with its new options and
    counts. A window that cannot be read is refused and the job stays as it was."""
    job = _waiting(session, actor, job_id)
    options = dict(job.options or {})
    options["since"], options["until"] = since or None, until or None
    check_options(options)
    session.rollback()
    import_jobs.set_state(session, job_id, "preview", options=options)
    _preview(session, actor, job_id)
    return import_jobs.get_job(session, job_id)


def discard(session: Session, actor: Actor, job_id: int) -> import_jobs.ImportJob:
    """Drop a previewed import: the job fails as discarded and its upload is deleted."""
    job = _waiting(session, actor, job_id)
    path = Path(job.path)
    import_jobs.set_state(session, job_id, "failed", path="", error=DISCARDED)
    discard_upload(path)
    return job


def _preview(session: Session, actor: Actor, job_id: int) -> None:
    """Count what the job's upload holds and keep it on the job (still in `preview`); an
    export that cannot be read fails the job, deletes the upload and raises."""
    job = import_jobs.get_job(session, job_id)
    path, options = Path(job.path), dict(job.options or {})
    try:
        found = preview_slack(session, actor, path, options)
    except AfteractionError as error:
        session.rollback()
        import_jobs.set_state(session, job_id, "failed", path="", error=error.message)
        discard_upload(path)
        raise
    session.rollback()
    import_jobs.set_state(session, job_id, "preview", summary=found)


def _waiting(session: Session, actor: Actor, job_id: int) -> import_jobs.ImportJob:
    """A visible job still in `preview`, whose upload is still stored."""
    require_write(actor)
    job = visible_job(session, actor, job_id)
    if job.status != "preview":
        raise ValidationError(f"import job {job_id} is {job.status}, not waiting in preview")
    if not job.path or not Path(job.path).is_file():
        raise ValidationError(f"the upload of import job {job_id} is gone; upload it again")
    return job


def heartbeat_every(stale_after: float) -> float:
    """How often a running job stamps its heartbeat: four beats fit in the timeout."""
    return max(stale_after / 4, 0.25)


def fail_stale_jobs(session: Session, *, stale_after: float) -> list[int]:
    """Fail running jobs without a heartbeat for `stale_after` seconds (with `STOPPED` as the
    error) and delete their uploads; returns their ids. Commits."""
    cutoff = utcnow() - timedelta(seconds=stale_after)
    uploads: list[Path] = []
    # looked for first without the write lock: every process start runs this, and a write
    # transaction, even an empty one, makes another connection's read-then-write fail at once
    stale = bool(import_jobs.stale_jobs(session, cutoff))
    session.rollback()
    if not stale:
        return []
    with writing(session):
        jobs = import_jobs.stale_jobs(session, cutoff)
        for job in jobs:
            if job.path:
                uploads.append(Path(job.path))
            import_jobs.finish(session, job.id, "failed", path="", error=STOPPED)
        failed = [job.id for job in jobs]
    for upload in uploads:
        discard_upload(upload)
    if failed:
        log.warning("failed import jobs %s: %s", failed, STOPPED)
    return failed


def recover(database_url: str, *, stale_after: float) -> list[int]:
    """`fail_stale_jobs` on a fresh engine, for a process starting or the periodic task. A
    database that is busy (a SQLite import holding the lock past the busy timeout) or away
    is logged and left for the next run. Stage folders of killed imports are deleted too."""
    sweep_stage_dirs()
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            return fail_stale_jobs(session, stale_after=stale_after)
    except OperationalError as error:
        log.warning("could not check for stopped import jobs now: %s", error)
        return []
    finally:
        engine.dispose()
