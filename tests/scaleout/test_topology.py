"""The scaled-out topology, as docs/install.md and deploy/ describe it, over real processes:
PostgreSQL, a Redis job queue, two `afteraction serve --no-worker` web processes sharing the
secret key and the uploads folder, and one `afteraction worker`.

Runs when the suite's database is PostgreSQL and AFTERACTION_TEST_REDIS_URL names a Redis
server (`.ci/run` starts both on loopback); skips otherwise, saying which is missing.
What it proves: a write on one web process is read on the other at once (no read cache
serves a stale answer across processes), a login made on one is valid on the other and a
logout on one ends it on both, and an import queued by a web process is run by the worker.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from afteraction.storage.db import make_session_factory
from tests.browser.conftest import _free_port
from tests.conftest import PASSWORD, _empty, make_user
from tests.load.conftest import admin_token

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("AFTERACTION_TEST_REDIS_URL", "")


@pytest.fixture(scope="module")
def topology(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, object]]:
    if engine.dialect.name != "postgresql":
        pytest.skip("the scaled-out topology needs PostgreSQL (AFTERACTION_TEST_DATABASE_URL)")
    if not REDIS_URL:
        pytest.skip("the scaled-out topology needs Redis (AFTERACTION_TEST_REDIS_URL)")
    pytest.importorskip("redis", reason="the redis extra is not installed")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    _empty(engine)
    folder = tmp_path_factory.mktemp("scaleout")
    env = {
        **os.environ,
        "AFTERACTION_DATABASE_URL": database_url,
        "AFTERACTION_QUEUE_URL": REDIS_URL,
        "AFTERACTION_SECRET_KEY": secrets.token_urlsafe(32),
        "AFTERACTION_UPLOADS_DIR": str(folder / "uploads"),
        "AFTERACTION_ENVIRONMENT": "development",
        "AFTERACTION_RUN_WORKER_IN_PROCESS": "false",
    }
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        log = folder / f"{args[0]}-{len(processes)}.log"
        logs.append(log)
        process = subprocess.Popen(
            [sys.executable, "-m", "afteraction.cli.main", *args],
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process

    try:
        bases = []
        for _ in range(2):
            port = _free_port()
            start("serve", "--no-worker", "--no-migrate", "--port", str(port))
            bases.append(f"http://127.0.0.1:{port}")
        start("worker", "--workers", "1")
        for base in bases:
            _wait_healthy(base, processes, logs)
        with make_session_factory(engine)() as db:
            make_user(db, "viewer@example.com", "viewer")
        yield {"bases": bases, "token": admin_token(engine), "processes": processes}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        _empty(engine)


def _wait_healthy(base: str, processes: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            text = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in logs)
            raise RuntimeError(f"the topology did not start:\n{text}")
        time.sleep(0.2)


def _api(base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)


@contextmanager
def _login(base: str, email: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/login")
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf}
        )
        assert answer.status_code == 303, answer.text
        yield client


def test_a_write_on_one_web_process_is_read_on_the_other(topology: dict) -> None:
    first, second = topology["bases"]
    token = topology["token"]
    with _api(first, token) as a, _api(second, token) as b:
        # warm both processes' read caches on the list before the writes
        assert a.get("/api/v1/incidents").json()["items"] == []
        assert b.get("/api/v1/incidents").json()["items"] == []
        created = a.post("/api/v1/incidents", json={"title": "Checkout down", "severity": "SEV2"})
        assert created.status_code == 201, created.text
        key = created.json()["id"]
        listed = b.get("/api/v1/incidents").json()["items"]
        assert [item["id"] for item in listed] == [key]
        version = b.get(f"/api/v1/incidents/{key}").json()["version"]
        edited = b.patch(
            f"/api/v1/incidents/{key}", json={"version": version, "summary": "edited on B"}
        )
        assert edited.status_code == 200, edited.text
        assert a.get(f"/api/v1/incidents/{key}").json()["summary"] == "edited on B"
        stale = a.patch(f"/api/v1/incidents/{key}", json={"version": version, "summary": "late"})
        assert stale.status_code == 409, stale.text


def test_a_login_on_one_process_holds_on_the_other_until_logout(topology: dict) -> None:
    first, second = topology["bases"]
    with _login(first, "viewer@example.com") as browser:
        assert browser.get("/incidents").status_code == 200
        cookies = dict(browser.cookies)
        with httpx.Client(base_url=second, cookies=cookies, timeout=30) as other:
            assert other.get("/incidents").status_code == 200  # the same session, on B
            page = other.get("/incidents")
            csrf = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
            out = other.post("/logout", data={"csrf_token": csrf})
            assert out.status_code == 303, out.text
        # the cookie copied before the logout no longer opens anything, on either process
        for base in (first, second):
            with httpx.Client(base_url=base, cookies=cookies, timeout=30) as replay:
                answer = replay.get("/incidents")
                assert answer.status_code == 303
                assert answer.headers["location"].startswith("/login")


def _export() -> bytes:
    start = datetime(2026, 3, 2, 10, tzinfo=UTC)
    users = [{"id": "U1", "name": "ada", "real_name": "Ada Lovelace", "profile": {}}]
    channels = [{"id": "C1", "name": "inc-db", "created": int(start.timestamp())}]
    day = [
        {"type": "message", "ts": f"{int(start.timestamp()) + i * 60}.000100", "user": "U1",
         "text": f"step {i}"}
        for i in range(25)
    ]  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("users.json", json.dumps(users))
        archive.writestr("channels.json", json.dumps(channels))
        archive.writestr("inc-db/2026-03-02.json", json.dumps(day))
    return buffer.getvalue()


def test_an_import_queued_by_a_web_process_is_run_by_the_worker(topology: dict) -> None:
    first, second = topology["bases"]
    token = topology["token"]
    worker = topology["processes"][-1]
    with _api(first, token) as a, _api(second, token) as b:
        worker.send_signal(signal.SIGSTOP)  # the web processes alone must leave it queued
        try:
            queued = a.post(
                "/api/v1/imports",
                data={"kind": "slack"},
                files={"file": ("export.zip", _export(), "application/zip")},
            )
            assert queued.status_code == 202, queued.text
            status_url = queued.json()["status_url"]
            time.sleep(3)
            assert b.get(status_url).json()["status"] == "queued"
        finally:
            worker.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + 90
        while (status := b.get(status_url).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, f"the worker never ran the import: {status}"
            time.sleep(0.2)
        assert status["status"] == "complete", status
        assert status["summary"]["counts"]["messages"] == 25
        sources = b.get("/api/v1/sources").json()["items"]
        assert [s["id"] for s in sources] == [status["summary"]["source_id"]]
