"""Whole HTML pages served again while the database is unchanged.

During an incident, writes arrive every few seconds while many people keep the same pages
open; rendering the incident page, the transcript or the people analysis for each of them
costs tens of milliseconds. `cached_page` keeps a page's bytes per (URL, user) under the
read cache's change token (`afteraction.storage.changes`): any commit anywhere, or the
page's age passing `MAX_AGE` (pages that show "overdue" or "ongoing for" read the clock),
renders it afresh. One request renders a missing page while the others asking for the same
page wait for it, so a write followed by a burst of readers costs one render, not one each.

What a cached body must not hold: the session's CSRF token. The body is kept cut where the
token stood, and joined with the requesting session's token when served (a join copies the
bytes once; searching a 50-500 KB page for a placeholder on every hit cost 30-40 µs). A page
with a one-shot notice waiting in the session is rendered, not cached, so the notice is
shown once. Only the user who rendered a page is ever served it (the key holds their id),
so visibility rules apply unchanged; the session must still be live: `CachedPages`, a pure
ASGI middleware outside the others, serves a hit before the framework runs only for a
session whose principal the read cache holds and may still trust
(`deps.cached_session_actor`: an ended session, a role change or a due activity stamp sends
the request through the app, which checks it afresh).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from afteraction.web.csrf import csrf_token
from afteraction.web.deps import cached_session_actor, remember_session_actor
from afteraction.web.errors import LoginRequired, PasswordChangeRequired
from afteraction.web.fastpath import ASGIApp, Scope
from afteraction.web.readcache import ReadCache
from afteraction.web.security import with_security_headers
from afteraction.web.session_cookie import SignedSessions

MAX_AGE = 30.0  # seconds a page may be served again with no commit in between
MAX_ENTRIES = 128
MAX_BODY = 4 * 1024 * 1024  # larger pages are rendered every time rather than kept

Handler = TypeVar("Handler", bound=Callable[..., Response])


class _Flights:
    """One lock per page key while it is being rendered, so concurrent misses render once."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, tuple[threading.Lock, int]] = {}

    def run(self, key: Hashable, work: Callable[[], Any]) -> Any:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                return work()
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


_flights = _Flights()


def page_cache(detector: Any, *, enabled: bool) -> ReadCache:
    """The app's page cache: the read cache's kind, with room for fewer, larger entries."""
    return ReadCache(detector, max_entries=MAX_ENTRIES, enabled=enabled)


def cached_page(handler: Handler) -> Handler:
    """Serve a GET page route (with `request` and `user` parameters) through the page cache."""

    @functools.wraps(handler)
    def serve(*args: Any, **kwargs: Any) -> Response:
        request: Request = kwargs["request"]
        database = kwargs.get("db")
        release = database.rollback if database is not None else None
        return _serve(request, kwargs["user"].id, lambda: handler(*args, **kwargs), release)

    return serve  # type: ignore[return-value]


def _key(path: str, query: bytes, user_id: int | None) -> tuple[str, str, bytes, int | None]:
    return ("page", path, query, user_id)


def _fresh(cache: ReadCache, key: Hashable, token: str) -> tuple[list[bytes], str] | None:
    """(the page's body cut where the CSRF token goes, its media type), while fresh."""
    entry = cache.get(key, token)
    if entry is None or entry[0] < time.monotonic():
        return None
    return entry[1], entry[2]


def _serve(
    request: Request,
    user_id: int,
    render: Callable[[], Response],
    release: Callable[[], None] | None = None,
) -> Response:
    """`release` gives the request's database connection back to the pool before waiting
    for another request's render: waiting while holding it, 32 readers of one page held
    every pooled connection, and the render, needing one more, waited for them."""
    cache: ReadCache = request.app.state.page_cache
    if not cache.enabled or request.method != "GET" or "notice" in request.session:
        return render()
    csrf = csrf_token(request).encode()
    key = _key(request.scope["path"], request.scope.get("query_string", b""), user_id)

    def fill() -> Response | tuple[list[bytes], str]:
        token = cache.token()  # read before rendering: a commit meanwhile changes the next
        found = _fresh(cache, key, token)  # another request may have rendered it meanwhile
        if found is not None:
            return found
        response = render()
        body = bytes(response.body)
        if response.status_code == 200 and len(body) <= MAX_BODY:
            kept = body.split(csrf)  # joined with each session's own token when served
            media = response.headers.get("content-type", "text/html; charset=utf-8")
            cache.put(key, token, (time.monotonic() + MAX_AGE, kept, media))
            try:  # so that the next hit skips the framework
                remember_session_actor(request, token)
            except (LoginRequired, PasswordChangeRequired):
                pass  # served through the app each time, which decides
        return response

    found = _fresh(cache, key, cache.request_token(request.scope))
    if found is None:
        if release is not None:
            release()
        result = _flights.run(key, fill)
        if isinstance(result, Response):
            return result
        found = result
    parts, media = found
    return Response(csrf.join(parts), headers={"content-type": media})


class CachedPages:
    """Send a cached page before the framework runs (see the module's docstring). It is the
    outermost middleware: a hit reads the session cookie itself (`SignedSessions.read`),
    and carries the headers the session and security middlewares would add."""

    def __init__(self, app: ASGIApp, cache: ReadCache, sessions: SignedSessions) -> None:
        self.app = app
        self.cache = cache
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        session = self._signed_in(scope)
        if session is not None:
            if self.cache.detector.waits:  # a query on PostgreSQL: not on the event loop
                found = await run_in_threadpool(self._cached, scope, session)
            else:
                found = self._cached(scope, session)
            if found is not None:
                body, media = found
                headers = [
                    (b"content-type", media),
                    (b"content-length", b"%d" % len(body)),
                    (b"vary", b"Cookie"),  # as the session middleware says of what it read
                ]
                headers = with_security_headers(headers, scope["path"])
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def _signed_in(self, scope: Scope) -> Mapping[str, Any] | None:
        """The session of a GET that a cached page may answer: signed in, with its CSRF
        token and no notice waiting (read without the database)."""
        if scope["type"] != "http" or scope["method"] != "GET" or not self.cache.enabled:
            return None
        session = self.sessions.read(scope)
        if session is None or "notice" in session:
            return None
        csrf = session.get("csrf")
        return session if isinstance(csrf, str) and csrf else None

    def _cached(self, scope: Scope, session: Mapping[str, Any]) -> tuple[bytes, bytes] | None:
        token = self.cache.request_token(scope)
        try:
            actor = cached_session_actor(Request({**scope, "session": session}), token)
        except LoginRequired:
            return None
        if actor is None:
            return None
        key = _key(scope["path"], scope.get("query_string", b""), actor.user_id)
        found = _fresh(self.cache, key, token)
        if found is None:
            return None
        parts, media = found
        return str(session["csrf"]).encode().join(parts), media.encode("latin-1")
