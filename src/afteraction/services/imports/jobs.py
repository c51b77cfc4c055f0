"""Import jobs: which one a caller may see (`visible_job`), and those whose worker died.
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
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from afteraction.core.access import Actor
from afteraction.core.errors import NotFound
from afteraction.services.imports.kinds import discard_upload
from afteraction.services.imports.stage_dirs import sweep_stage_dirs
from afteraction.storage import import_jobs
from afteraction.storage.db import make_engine, make_session_factory, writing
from afteraction.storage.types import utcnow

STOPPED = "the worker stopped while running this import; start it again"
log = logging.getLogger(__name__)


def visible_job(session: Session, actor: Actor, job_id: int) -> import_jobs.ImportJob:
    """The import job, for an admin or the user who started it; NotFound to anyone else."""
    job = import_jobs.get_job(session, job_id)
    if not actor.is_admin and job.created_by_user_id != actor.user_id:
        raise NotFound("import job", job_id)
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
