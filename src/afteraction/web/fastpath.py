"""Serve cached GET responses before the framework runs, for token-authenticated API reads.

A pure ASGI middleware in front of the app: for a GET to a path registered as cacheable
whose bearer token maps to a principal already in the read cache, and whose response for
that principal's visibility and that exact query string is cached under the current
database token, it sends the cached bytes itself. Anything else — a miss, a session
cookie, an unknown token, another path — goes to the app unchanged, which computes the
response and fills the cache. Correctness rests on `ReadCache`: any commit empties it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.concurrency import run_in_threadpool

from afteraction.core.access import Actor
from afteraction.web.readcache import ReadCache

Scope = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]
]

CACHEABLE_PATHS = frozenset({"/api/v1/incidents"})


def visibility_key(actor: Actor) -> object:
    """What decides which incidents a principal sees: admin, or the user and their person."""
    return "admin" if actor.is_admin else (actor.user_id, actor.person_id)


def actor_key(bearer: str) -> tuple[str, str]:
    """The cache key of a bearer token's principal (never the token itself)."""
    return ("actor", hashlib.sha256(bearer.encode()).hexdigest())


def session_key(session_id: str) -> tuple[str, str]:
    """The cache key of a login session's principal: its server-side id, so that ending
    the session (a commit) and nothing else about the cookie decides."""
    return ("session", session_id)


def body_key(path: str, actor: Actor, query: str) -> tuple[str, str, object, str]:
    return ("body", path, visibility_key(actor), query)


class CachedReads:
    def __init__(self, app: ASGIApp, cache: ReadCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"] in CACHEABLE_PATHS
        ):
            if self.cache.detector.waits:  # a query on PostgreSQL: not on the event loop
                body = await run_in_threadpool(self._cached, scope)
            else:
                body = self._cached(scope)
            if body is not None:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def _cached(self, scope: Scope) -> bytes | None:
        bearer = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    bearer = token.strip()
                break
        if bearer is None:
            return None
        token = self.cache.request_token(scope)
        actor: Actor | None = self.cache.get(actor_key(bearer), token)
        if actor is None:
            return None
        query = scope.get("query_string", b"").decode("latin-1")
        body: bytes | None = self.cache.get(body_key(scope["path"], actor, query), token)
        return body
