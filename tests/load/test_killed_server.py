"""A server killed (SIGKILL) in the middle of an import does not leave its job "running"
forever: started again, it fails the job with the reason and deletes its upload. A real
`afteraction serve` process imports a large synthetic Slack export when it is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from afteraction.services.imports.jobs import STOPPED
from afteraction.storage import import_jobs
from tests.browser.conftest import _free_port
from tests.load.conftest import admin_token, slack_export_zip

pytestmark = pytest.mark.slow
STALE_AFTER = 2


def _serve(env: dict[str, str], port: int) -> tuple[subprocess.Popen[bytes], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "afteraction.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the server did not start: {process.stderr.read()!r}")  # type: ignore[union-attr]
        time.sleep(0.1)


def _job(db: Session, job_id: int) -> import_jobs.ImportJob:
    db.rollback()  # see what the server committed
    return import_jobs.get_job(db, job_id)


def test_a_job_killed_with_its_server_fails_with_the_reason_on_restart(
    database_url: str, engine: Engine, db: Session, tmp_path: Path
) -> None:
    token = admin_token(engine)
    archive = slack_export_zip(tmp_path, messages=150_000)
    uploads = tmp_path / "uploads"
    env = {
        **os.environ,
        "AFTERACTION_DATABASE_URL": database_url,
        "AFTERACTION_ENVIRONMENT": "development",
        "AFTERACTION_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.db'}",
        "AFTERACTION_UPLOADS_DIR": str(uploads),
        "AFTERACTION_QUEUE_STALE_AFTER": str(STALE_AFTER),
    }
    server, base = _serve(env, _free_port())
    try:
        with archive.open("rb") as body:
            queued = httpx.post(
                f"{base}/api/v1/imports",
                headers={"Authorization": f"Bearer {token}"},
                data={"kind": "slack"},
                files={"file": ("export.zip", body, "application/zip")},
                timeout=120,
            )
        assert queued.status_code == 202, queued.text
        job_id = queued.json()["job"]
        deadline = time.monotonic() + 60
        while _job(db, job_id).status == "queued":
            assert time.monotonic() < deadline, "the import never started"
            time.sleep(0.05)
        time.sleep(0.2)  # inside the import: 150,000 messages take seconds on any machine
        assert _job(db, job_id).status == "running", "the import ended before it was killed"
        upload = Path(_job(db, job_id).path)
        assert upload.is_file()
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
    assert server.returncode == -signal.SIGKILL
    assert _job(db, job_id).status == "running"  # nobody is left to say otherwise
    time.sleep(STALE_AFTER + 1)  # its heartbeat is now older than the timeout

    again, _base = _serve(env, _free_port())
    try:
        deadline = time.monotonic() + 60
        while _job(db, job_id).status == "running":
            assert time.monotonic() < deadline, "the stopped job was never failed"
            time.sleep(0.1)
        job = _job(db, job_id)
        assert (job.status, job.error, job.path) == ("failed", STOPPED, "")
        assert not upload.exists()
        assert not [p.name for p in uploads.iterdir() if p.name.startswith(upload.name)]
    finally:
        again.terminate()
        again.wait(timeout=30)
