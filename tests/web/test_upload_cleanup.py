"""Uploaded files do not outlive their import job: deleted when the job completes or fails,
at once when the job cannot be queued, and swept when a crash left one behind. The job row
stays consistent: final status, summary or error, and no path to a file that is gone."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.config import Settings
from afteraction.services.imports.kinds import run_job
from afteraction.storage import import_jobs
from tests.web.test_api_imports import export_zip, upload


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _job(db: Session, job_id: int) -> import_jobs.ImportJob:
    db.rollback()  # read what the job's own sessions committed
    return import_jobs.get_job(db, job_id)


def test_a_complete_job_leaves_no_upload(
    admin: TestClient, settings: Settings, db: Session
) -> None:
    uploads = settings.uploads_path()
    response = upload(admin)
    assert response.status_code == 202
    job_id = response.json()["job"]
    status = admin.get(response.json()["status_url"]).json()
    assert status["status"] == "complete" and status["summary"]["counts"]["messages"] == 2
    assert status["heartbeat_at"] is not None  # stamped when it started running
    assert uploads.is_dir() and _files(uploads) == []  # neither the upload nor its progress
    job = _job(db, job_id)
    assert (job.status, job.path, job.filename) == ("complete", "", "export.zip")
    assert job.source_id == status["summary"]["source_id"]
    # the job page still answers, and running the finished job again changes nothing
    page = admin.get(f"/imports/jobs/{job_id}")
    assert page.status_code == 200 and "complete" in page.text
    assert run_job(settings.database_url, job_id) == "complete"
    assert _job(db, job_id).summary == status["summary"]


def test_a_failed_job_leaves_no_upload(admin: TestClient, settings: Settings, db: Session) -> None:
    response = upload(admin, data=b"not a zip at all")
    job_id = response.json()["job"]
    status = admin.get(response.json()["status_url"]).json()
    assert status["status"] == "failed" and "export.zip" in status["error"]
    assert _files(settings.uploads_path()) == []
    job = _job(db, job_id)
    assert (job.status, job.path, job.summary, job.source_id) == ("failed", "", None, None)


def test_an_upload_that_cannot_be_queued_is_deleted(
    app: Any, admin: TestClient, settings: Settings, db: Session
) -> None:
    class Down:
        def enqueue(self, name: str, *args: Any) -> Any:
            raise ConnectionError("queue is down")

    app.state.queue = Down()
    with TestClient(app, raise_server_exceptions=False) as client:
        client.cookies = admin.cookies
        client.headers["X-CSRF-Token"] = str(admin.headers["X-CSRF-Token"])
        response = upload(client)
    assert response.status_code == 500
    assert _files(settings.uploads_path()) == []
    [job] = import_jobs.list_jobs(db)
    db.rollback()
    assert job.status == "failed" and job.path == ""
    assert job.error == "could not queue the import; try again later"  # not the queue's text


def test_leftovers_are_swept_but_queued_uploads_are_kept(
    admin: TestClient, settings: Settings, db: Session
) -> None:
    uploads = settings.uploads_path()
    uploads.mkdir(parents=True)
    stale = uploads / "0123456789abcdef-crashed.zip"
    stale.write_bytes(export_zip())
    waiting = uploads / "fedcba9876543210-waiting.zip"
    waiting.write_bytes(export_zip())
    fresh = uploads / "00000000deadbeef-being-stored.zip"
    fresh.write_bytes(b"partial")
    old = time.time() - 3600
    for path in (stale, waiting):
        os.utime(path, (old, old))
    queued = import_jobs.create_job(
        db,
        kind="slack",
        path=str(waiting),
        filename="waiting.zip",
        options={},
        created_by="someone",
        created_by_user_id=None,
    )
    response = upload(admin)
    assert admin.get(response.json()["status_url"]).json()["status"] == "complete"
    assert _files(uploads) == [fresh.name, waiting.name]
    assert _job(db, queued.id).status == "queued"
