"""Import jobs whose worker stopped: a running job without a heartbeat for the timeout is
failed with the reason and its upload deleted; fresh, queued and finished jobs are left."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from afteraction.services.imports.jobs import STOPPED, fail_stale_jobs, heartbeat_every
from afteraction.services.imports.kinds import progress_path
from afteraction.storage import import_jobs
from afteraction.storage.db import make_session_factory, writing
from afteraction.storage.types import utcnow


def _job(db: Session, path: Path, status: str) -> int:
    path.write_bytes(b"upload")
    job = import_jobs.create_job(
        db, kind="slack", path=str(path), filename=path.name, options={},
        created_by="t", created_by_user_id=None,
    )  # fmt: skip
    if status != "queued":
        import_jobs.set_state(db, job.id, status)
    return job.id


def test_only_running_jobs_with_an_old_heartbeat_are_failed(db: Session, tmp_path: Path) -> None:
    dead = _job(db, tmp_path / "dead.zip", "running")
    progress_path(tmp_path / "dead.zip").write_text("{}")
    alive = _job(db, tmp_path / "alive.zip", "running")
    queued = _job(db, tmp_path / "queued.zip", "queued")
    with writing(db):
        db.execute(
            update(import_jobs.ImportJob)
            .where(import_jobs.ImportJob.id == dead)
            .values(heartbeat_at=utcnow() - timedelta(seconds=61))
        )
    assert fail_stale_jobs(db, stale_after=60) == [dead]
    db.rollback()
    job = import_jobs.get_job(db, dead)
    assert (job.status, job.error, job.path) == ("failed", STOPPED, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alive.zip", "queued.zip"]
    assert import_jobs.get_job(db, alive).status == "running"
    assert import_jobs.get_job(db, queued).status == "queued"
    assert fail_stale_jobs(db, stale_after=60) == []  # nothing twice


def test_the_heartbeat_keeps_a_running_job_fresh(
    db: Session, engine: Engine, tmp_path: Path
) -> None:
    job_id = _job(db, tmp_path / "upload.zip", "running")
    started = import_jobs.get_job(db, job_id).heartbeat_at
    assert started is not None
    db.rollback()
    with import_jobs.Heartbeat(make_session_factory(engine), job_id, every=0.05):
        time.sleep(0.5)
    db.rollback()
    beaten = import_jobs.get_job(db, job_id).heartbeat_at
    assert beaten is not None and beaten > started
    assert fail_stale_jobs(db, stale_after=0.4) == []
    assert heartbeat_every(120) == 30
