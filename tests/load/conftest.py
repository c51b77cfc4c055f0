"""A real server for load and fault tests: the app under uvicorn in a background thread on
a free loopback port, over the session's test database (SQLite, or PostgreSQL with
AFTERACTION_TEST_DATABASE_URL), with an admin's API token; and helpers shared by the tests
that start `afteraction` itself as a subprocess."""

from __future__ import annotations

import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from afteraction.config import Settings, development_settings
from afteraction.core.access import SYSTEM
from afteraction.services import users
from afteraction.storage.db import make_session_factory, writing
from tests.browser.conftest import _free_port
from tests.conftest import PASSWORD, _empty

REPO = Path(__file__).resolve().parents[2]


def admin_token(engine: Engine) -> str:
    session = make_session_factory(engine)()
    with writing(session):
        user = users.create_user(
            session, SYSTEM, email="load@example.com", password=PASSWORD, role="admin"
        )
        token = users.issue_token(session, SYSTEM, user_id=user.id, name="load").secret
    session.close()
    return token


def server_settings(database_url: str, folder: Path) -> Settings:
    """Settings of a served test app: its own SQLite job queue and uploads in `folder`."""
    return development_settings(
        database_url=database_url,
        environment="test",
        queue_url=f"sqlite:///{folder / 'queue.db'}",
        uploads_dir=folder / "uploads",
    )


@pytest.fixture
def serve(engine: Engine) -> Iterator[Callable[..., str]]:
    """`serve(settings, start_worker=False)` → the base URL of the app under uvicorn;
    stopped, and the database emptied, after the test."""
    import uvicorn

    from afteraction.web.app import create_app

    servers: list[tuple[Any, threading.Thread]] = []

    def start(settings: Settings, *, start_worker: bool = False) -> str:
        port = _free_port()
        config = uvicorn.Config(
            create_app(settings, start_worker=start_worker),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ws="none",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    _empty(engine)
    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=30)
    _empty(engine)


def slack_export_zip(folder: Path, messages: int) -> Path:
    """A synthetic Slack export of `messages` messages (benchmarks/slack_synth.py), zipped."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from slack_synth import generate
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    export = folder / "export"
    generate(export, messages=messages, channels=10, users=200)
    target = folder / "export.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path in sorted(export.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(export).as_posix())
    return target
