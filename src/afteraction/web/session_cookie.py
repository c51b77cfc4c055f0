"""The signed session cookie, checked once per distinct cookie rather than on every request.

Starlette's `SessionMiddleware` keeps the session in a cookie signed with the app's secret
(itsdangerous' `TimestampSigner`) and verifies the signature on every request: deriving the
key and computing the HMAC cost about a fifth of a cached page's time in the app. A browser
sends the same cookie until the session changes, so `SessionCookies` remembers the payloads
of the last `REMEMBERED` cookies it verified, keyed by the whole signed value. A cookie is
found there only if it is byte for byte one that passed the check; its age is still checked
against `max_age` on every request, as the signer would. Anything else (a new, forged or
expired cookie) goes to the signer, which decides as before.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Literal

import itsdangerous
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

REMEMBERED = 4096
"""Verified cookies kept (about 300 bytes each): a few per signed-in user."""


class _RememberingSigner:
    """`sign` as the signer does; `unsign` from memory for a cookie already verified."""

    def __init__(self, signer: itsdangerous.TimestampSigner) -> None:
        self.signer = signer
        self._verified: OrderedDict[bytes, tuple[bytes, int]] = OrderedDict()

    def sign(self, value: str | bytes) -> bytes:
        return self.signer.sign(value)

    def unsign(self, value: bytes, max_age: int | None = None) -> bytes:
        found = self._verified.get(value)
        if found is not None:
            payload, signed_at = found
            age = int(time.time()) - signed_at
            if max_age is None or 0 <= age <= max_age:
                return payload
            del self._verified[value]  # expired: the signer says so
        payload, stamp = self.signer.unsign(value, max_age=max_age, return_timestamp=True)
        self._verified[value] = (payload, int(stamp.timestamp()))
        if len(self._verified) > REMEMBERED:
            self._verified.popitem(last=False)
        return payload


class SessionCookies(SessionMiddleware):
    """`SessionMiddleware` whose signature check is done once per distinct cookie."""

    def __init__(
        self,
        app: ASGIApp,
        secret_key: str,
        session_cookie: str,
        max_age: int,
        same_site: Literal["lax", "strict", "none"],
        https_only: bool,
    ) -> None:
        super().__init__(
            app,
            secret_key=secret_key,
            session_cookie=session_cookie,
            max_age=max_age,
            same_site=same_site,
            https_only=https_only,
        )
        self.signer = _RememberingSigner(self.signer)  # type: ignore[assignment]
