"""The signed session cookie, checked once per distinct cookie rather than on every request.

Starlette's `SessionMiddleware` keeps the session in a cookie signed with the app's secret
(itsdangerous' `TimestampSigner`) and verifies the signature on every request: deriving the
key and computing the HMAC cost about a fifth of a cached page's time in the app. A browser
sends the same cookie until the session changes, so `SignedSessions` remembers the payloads
of the last `REMEMBERED` cookies it verified, keyed by the whole signed value. A cookie is
found there only if it is byte for byte one that passed the check; its age is still checked
against `max_age` on every request, as the signer would. Anything else (a new, forged or
expired cookie) goes to the signer, which decides as before.

One `SignedSessions` serves both readers of the cookie: `SessionCookies` (the session
middleware every request passes) and the page cache, which serves a page before that
middleware runs and only reads the session (`SignedSessions.read`).
"""

from __future__ import annotations

import json
import time
from base64 import b64decode
from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

import itsdangerous
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Scope

REMEMBERED = 4096
"""Verified cookies kept (about 300 bytes each): a few per signed-in user."""
COOKIE = "afteraction_session"
_SCALARS = (str, int, float, bool, type(None))


class _RememberingSigner:
    """`sign` as the signer does; `unsign` from memory for a cookie already verified."""

    def __init__(self, signer: itsdangerous.TimestampSigner) -> None:
        self.signer = signer
        self._verified: OrderedDict[bytes, tuple[bytes, int, Mapping[str, Any] | None]] = (
            OrderedDict()
        )

    def sign(self, value: str | bytes) -> bytes:
        return self.signer.sign(value)

    def unsign(self, value: bytes, max_age: int | None = None) -> bytes:
        return self._entry(value, max_age)[0]

    def decoded(self, value: bytes, max_age: int | None) -> Mapping[str, Any] | None:
        """The session the cookie `value` holds, to read only; None when it holds anything
        but plain values (kept only then, so no reader can change what the next one sees)."""
        payload, signed_at, data = self._entry(value, max_age)
        if data is None:
            loaded = json.loads(b64decode(payload))
            if isinstance(loaded, dict) and all(isinstance(v, _SCALARS) for v in loaded.values()):
                data = MappingProxyType(loaded)  # shared by every reader: none may change it
                self._verified[value] = (payload, signed_at, data)
        return data

    def _entry(
        self, value: bytes, max_age: int | None
    ) -> tuple[bytes, int, Mapping[str, Any] | None]:
        found = self._verified.get(value)
        if found is not None:
            age = int(time.time()) - found[1]
            if max_age is None or 0 <= age <= max_age:
                return found
            del self._verified[value]  # expired: the signer says so
        payload, stamp = self.signer.unsign(value, max_age=max_age, return_timestamp=True)
        entry = (payload, int(stamp.timestamp()), None)
        self._verified[value] = entry
        if len(self._verified) > REMEMBERED:
            self._verified.popitem(last=False)
        return entry


class SignedSessions:
    """The app's session cookie: its name, lifetime and remembering signer."""

    def __init__(self, secret_key: str, max_age: int, cookie: str = COOKIE) -> None:
        self.secret_key, self.max_age, self.cookie = secret_key, max_age, cookie
        self.signer = _RememberingSigner(itsdangerous.TimestampSigner(secret_key))

    def read(self, scope: Scope) -> Mapping[str, Any] | None:
        """The request's session, to read only, or None without a valid cookie (or with
        one holding more than plain values: the session middleware then decides)."""
        header = next((v for k, v in scope.get("headers", ()) if k == b"cookie"), None)
        signed = cookie_parser(header.decode("latin-1")).get(self.cookie) if header else None
        if not signed:
            return None
        try:
            return self.signer.decoded(signed.encode("utf-8"), self.max_age)
        except (itsdangerous.BadSignature, ValueError):
            return None


class SessionCookies(SessionMiddleware):
    """`SessionMiddleware` whose signature check is done once per distinct cookie."""

    def __init__(
        self,
        app: ASGIApp,
        sessions: SignedSessions,
        same_site: Literal["lax", "strict", "none"],
        https_only: bool,
    ) -> None:
        super().__init__(
            app,
            secret_key=sessions.secret_key,
            session_cookie=sessions.cookie,
            max_age=sessions.max_age,
            same_site=same_site,
            https_only=https_only,
        )
        self.signer = sessions.signer  # type: ignore[assignment]
