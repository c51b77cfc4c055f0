"""The session cookie's signature is checked once per distinct cookie: a remembered cookie
skips the HMAC, a changed byte or an expired cookie is still refused."""

from __future__ import annotations

from typing import Any

import itsdangerous
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.web import session_cookie
from afteraction.web.session_cookie import _RememberingSigner
from tests.conftest import login, make_user

COOKIE = "afteraction_session"


class CountingSigner(itsdangerous.TimestampSigner):
    checks = 0

    def unsign(self, value: Any, max_age: Any = None, return_timestamp: bool = False) -> Any:
        CountingSigner.checks += 1
        return super().unsign(value, max_age=max_age, return_timestamp=return_timestamp)


def test_a_verified_cookie_is_not_checked_again_but_a_changed_one_is() -> None:
    signer = _RememberingSigner(CountingSigner("secret"))
    cookie = signer.sign(b"payload")
    CountingSigner.checks = 0
    assert signer.unsign(cookie, max_age=60) == b"payload"
    assert signer.unsign(cookie, max_age=60) == b"payload"
    assert CountingSigner.checks == 1
    # the signature's first character: every bit of it counts (its last one holds bits
    # base64 ignores, so changing that one may leave the signature as it was)
    head, _, signature = cookie.rpartition(b".")
    forged = head + b"." + (b"A" if signature[:1] != b"A" else b"B") + signature[1:]
    with pytest.raises(itsdangerous.BadSignature):
        signer.unsign(forged, max_age=60)
    other = _RememberingSigner(itsdangerous.TimestampSigner("another secret"))
    with pytest.raises(itsdangerous.BadSignature):
        other.unsign(cookie, max_age=60)


def test_a_remembered_cookie_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = _RememberingSigner(itsdangerous.TimestampSigner("secret"))
    cookie = signer.sign(b"payload")
    assert signer.unsign(cookie, max_age=60) == b"payload"
    later = session_cookie.time.time() + 120
    monkeypatch.setattr(session_cookie.time, "time", lambda: later)
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    with pytest.raises(itsdangerous.SignatureExpired):
        signer.unsign(cookie, max_age=60)


def test_only_the_cookie_that_was_signed_opens_the_session(client: TestClient, db: Session) -> None:
    make_user(db, "ops@example.com", "responder")
    login(client, "ops@example.com")
    assert client.get("/incidents", follow_redirects=False).status_code == 200
    assert client.get("/incidents", follow_redirects=False).status_code == 200  # remembered
    good = client.cookies[COOKIE]
    value, _, signature = good.rpartition(".")
    client.cookies.clear()
    client.cookies.set(COOKIE, f"{value}.{signature[::-1]}")
    refused = client.get("/incidents", follow_redirects=False)
    assert refused.status_code in (302, 303) and "/login" in refused.headers["location"]
    client.cookies.clear()
    client.cookies.set(COOKIE, good)
    assert client.get("/incidents", follow_redirects=False).status_code == 200
