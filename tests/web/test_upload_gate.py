"""Uploads (issue 17, point 8): refused before a byte of the body is read when the caller
is anonymous or may not import, or declares a body over the limit; bounded while it
streams when it declares nothing. Driven through the ASGI interface, counting the body
bytes the app pulls."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.config import Settings
from afteraction.core.access import SYSTEM
from afteraction.services import users
from afteraction.storage.db import writing
from afteraction.web.app import create_app
from afteraction.web.uploads import FORM_ALLOWANCE
from tests.conftest import login, make_user

CHUNK = 64 * 1024
LIMIT = 4096
BOUNDARY = "gate"


class Sent:
    """What one ASGI request answered, and how many body bytes the app read."""

    def __init__(self) -> None:
        self.status = 0
        self.read = 0
        self.body = b""


def _multipart_chunks(total: int) -> Iterator[bytes]:
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.zip"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()
    for _ in range(total // CHUNK):
        yield b"x" * CHUNK
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def call(
    app: FastAPI,
    path: str,
    chunks: Iterator[bytes],
    *,
    headers: dict[str, str],
    declare: int | None = None,
) -> Sent:
    sent = Sent()
    pending = list(chunks)
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if declare is not None:
        raw.append((b"content-length", str(declare).encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": raw,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> dict[str, Any]:
        if not pending:
            await asyncio.sleep(0)
            return {"type": "http.disconnect"}
        chunk = pending.pop(0)
        sent.read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent.status = message["status"]
        elif message["type"] == "http.response.body":
            sent.body += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return sent


@pytest.fixture
def small(settings: Settings) -> FastAPI:
    return create_app(settings.model_copy(update={"max_upload_bytes": LIMIT}))


def _token(db: Session, email: str, role: str) -> str:
    user_id = make_user(db, email, role)
    with writing(db):
        return users.issue_token(db, SYSTEM, user_id=user_id, name="gate").secret


MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
BIG = 10 * 1024 * 1024


@pytest.mark.parametrize("path", ["/api/v1/imports", "/api/v1/slos/1/counts"])
def test_anonymous_and_viewers_are_refused_unread(small: FastAPI, db: Session, path: str) -> None:
    anonymous = call(small, path, _multipart_chunks(BIG), headers=MULTIPART, declare=BIG)
    assert (anonymous.status, anonymous.read) == (401, 0)
    viewer = {"authorization": f"Bearer {_token(db, 'viewer@example.com', 'viewer')}"}
    refused = call(small, path, _multipart_chunks(BIG), headers=MULTIPART | viewer)
    assert (refused.status, refused.read) == (403, 0)
    assert b"may read but not change" in refused.body


def test_pages_refuse_anonymous_uploads_unread(small: FastAPI) -> None:
    for path in ("/imports", "/slos/1/counts"):
        sent = call(small, path, _multipart_chunks(BIG), headers=MULTIPART)
        assert (sent.status, sent.read) == (303, 0), path  # to the login page


def test_a_declared_length_over_the_limit_is_refused_unread(small: FastAPI, db: Session) -> None:
    admin = {"authorization": f"Bearer {_token(db, 'admin@example.com', 'admin')}"}
    sent = call(small, "/api/v1/imports", _multipart_chunks(BIG), headers=MULTIPART | admin,
                declare=BIG)  # fmt: skip
    assert (sent.status, sent.read) == (413, 0)
    assert b"larger than" in sent.body


def test_an_undeclared_body_stops_at_the_limit(small: FastAPI, db: Session) -> None:
    admin = {"authorization": f"Bearer {_token(db, 'admin@example.com', 'admin')}"}
    for path, headers, chunks in (
        ("/api/v1/imports", MULTIPART, _multipart_chunks(BIG)),
        ("/api/v1/slos/1/counts", {"content-type": "text/csv"}, iter([b"y" * CHUNK] * 160)),
    ):
        sent = call(small, path, chunks, headers=headers | admin)
        assert sent.status == 413, (path, sent.body)
        assert sent.read <= LIMIT + FORM_ALLOWANCE + CHUNK, path  # not the whole 10 MB


def test_a_viewer_session_is_refused_on_the_page_unread(small: FastAPI, db: Session) -> None:
    make_user(db, "viewer@example.com", "viewer")
    with TestClient(small) as client:
        login(client, "viewer@example.com")
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    sent = call(small, "/imports", _multipart_chunks(BIG), headers=MULTIPART | {"cookie": cookie})
    assert (sent.status, sent.read) == (403, 0)


def test_an_allowed_upload_within_the_limit_still_works(small: FastAPI, db: Session) -> None:
    make_user(db, "admin@example.com", "admin")
    with TestClient(small) as client:
        login(client, "admin@example.com")
        answer = client.post(
            "/api/v1/imports",
            data={"kind": "slack"},
            files={"file": ("export.zip", b"not a zip", "application/zip")},
        )
        assert answer.status_code == 202, answer.text
        missing = client.post("/api/v1/imports", data={"kind": "slack"})
        assert missing.status_code == 422 and missing.json()["error"]["details"]["field"] == "file"
        no_csrf = client.post(
            "/imports",
            data={"kind": "slack"},
            files={"file": ("export.zip", b"x", "application/zip")},
            headers={"X-CSRF-Token": ""},
        )
        assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
