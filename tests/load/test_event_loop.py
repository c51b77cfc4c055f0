"""No request waits for another's blocking work: while an import job runs, and while a
second upload waits for the write lock to record its job, concurrent readers are answered as
fast as without the uploads (within a second), on a real server over loopback.

The wait for the lock is made certain by holding it here for as long as the readers read:
how long a real import keeps it depends on the machine's speed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import incidents as repo
from afteraction.storage.db import make_session_factory, writing
from tests.load.conftest import admin_token, server_settings, slack_export_zip

pytestmark = pytest.mark.slow
CLIENTS = 10
WINDOW = 3.0


def _declare(engine: Engine, count: int) -> list[str]:
    session: Session = make_session_factory(engine)()
    keys = []
    with writing(session):
        for n in range(count):
            incident, _ = repo.declare(
                session, SYSTEM, repo.IncidentInput(title=f"outage {n}", severity="SEV2")
            )
            keys.append(incident.public_id)
    session.close()
    return keys


def _slowest(base: str, token: str, keys: list[str], seconds: float) -> float:
    """The slowest answer any of CLIENTS threads got reading for `seconds`."""
    slowest = [0.0] * CLIENTS
    failures: list[str] = []

    def client(n: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            end = time.monotonic() + seconds
            i = 0
            while time.monotonic() < end:
                path = f"/api/v1/incidents/{keys[(n + i) % len(keys)]}" if i % 2 else "/healthz"
                started = time.monotonic()
                response = http.get(path)
                slowest[n] = max(slowest[n], time.monotonic() - started)
                if response.status_code != 200:
                    failures.append(f"{path}: {response.status_code}")
                i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:5]
    return max(slowest)


@contextmanager
def _write_lock_held(engine: Engine) -> Iterator[None]:
    """Hold what an upload needs to record its job until the block ends: SQLite's write
    lock, or on PostgreSQL a lock on the job table that lets reads through."""
    session: Session = make_session_factory(engine)()
    try:
        with writing(session):
            if engine.dialect.name != "sqlite":
                session.execute(text("LOCK TABLE import_jobs IN SHARE ROW EXCLUSIVE MODE"))
            yield
    finally:
        session.close()


def test_uploads_never_hold_up_other_requests(
    serve, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    base = serve(server_settings(database_url, tmp_path), start_worker=True)
    token = admin_token(engine)
    keys = _declare(engine, 20)
    archive = slack_export_zip(tmp_path, messages=100_000)
    headers = {"Authorization": f"Bearer {token}"}
    _slowest(base, token, keys, 0.5)  # connections, caches and the pool warm up first
    baseline = _slowest(base, token, keys, WINDOW)

    def post() -> httpx.Response:
        with archive.open("rb") as body:
            return httpx.post(
                f"{base}/api/v1/imports",
                headers=headers,
                data={"kind": "slack"},
                files={"file": ("export.zip", body, "application/zip")},
                timeout=120,
            )

    first = post()
    assert first.status_code == 202, first.text
    status_url = base + first.json()["status_url"]

    def status(url: str) -> str:
        return str(httpx.get(url, headers=headers).json()["status"])

    deadline = time.monotonic() + 60
    while status(status_url) == "queued":
        assert time.monotonic() < deadline, "the import never started"
        time.sleep(0.05)
    during_import = _slowest(base, token, keys, WINDOW)
    assert during_import <= baseline + 1.0, (
        f"slowest read {during_import:.2f}s while importing, {baseline:.2f}s without"
    )
    _finished(status_url, status)

    second: list[httpx.Response] = []
    uploader = threading.Thread(target=lambda: second.append(post()))
    with _write_lock_held(engine):
        uploader.start()
        waiting = _slowest(base, token, keys, WINDOW)
        upload_waited = uploader.is_alive() and not second
    uploader.join(timeout=120)
    assert waiting <= baseline + 1.0, (
        f"slowest read {waiting:.2f}s while an upload waited, {baseline:.2f}s without"
    )
    assert upload_waited, "the upload did not wait for the lock"
    assert second and second[0].status_code == 202, second[0].text if second else "no answer"
    _finished(base + second[0].json()["status_url"], status)


def _finished(url: str, status: Callable[[str], str]) -> None:
    deadline = time.monotonic() + 120
    while (state := status(url)) not in ("complete", "failed"):
        assert time.monotonic() < deadline, f"the import is still {state}"
        time.sleep(0.2)
    assert state == "complete"
