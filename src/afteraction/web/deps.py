"""FastAPI dependencies as `Annotated` aliases: the database session, the current user
(from the session cookie's server-side session or an API token), the acting principal and
CSRF checks.

The signed cookie carries only a random session secret (`SESSION_KEY`); the session itself
lives in the database (`afteraction.services.sessions`), so ending it there stops every copy
of the cookie. Bearer tokens and passwords are throttled per client address
(`afteraction.services.throttle`). `app.state.clock` gives the time (tests move it).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from afteraction.config import Settings
from afteraction.core.access import Actor
from afteraction.core.errors import PermissionDenied
from afteraction.services import sessions, users
from afteraction.storage.db import writing
from afteraction.storage.tables import User
from afteraction.web.errors import LoginRequired, PasswordChangeRequired
from afteraction.web.fastpath import actor_key, session_key
from afteraction.web.readcache import ReadCache

T = TypeVar("T")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_KEY = "sid"
# Where a user whose password an admin reset may still go before choosing a new one.
PASSWORD_CHANGE_PATHS = frozenset({"/account", "/account/password", "/logout"})


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbSession = Annotated[Session, Depends(get_db)]


def now_of(request: Request) -> datetime:
    """The app's clock: `utcnow` unless a test put another on `app.state.clock`."""
    now: datetime = request.app.state.clock()
    return now


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def lifetimes(settings: Settings) -> sessions.Lifetimes:
    return sessions.Lifetimes(
        idle=timedelta(seconds=settings.session_idle_timeout),
        absolute=timedelta(seconds=settings.session_max_age),
    )


def session_secret(request: Request) -> str | None:
    secret = request.session.get(SESSION_KEY)
    return secret if isinstance(secret, str) and secret else None


def current_session_id(request: Request) -> str | None:
    """The server-side id of this request's login session (None for tokens and anonymous)."""
    secret = session_secret(request)
    return sessions.session_id(secret) if secret else None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def get_optional_user(request: Request, db: DbSession) -> User | None:
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = _bearer(request)
    if token is not None:
        user = token_user(request, db, token)
        if user is None:
            raise LoginRequired()
        request.state.via_token = True
    else:
        user = session_user(request, db)
    request.state.user = user
    return user


def token_user(request: Request, db: Session, token: str) -> User | None:
    """The active user behind a bearer token; an unknown one counts against the address."""
    return _throttled(request, db, token, users.sign_in_with_token)


def _throttled(request: Request, db: Session, token: str, sign_in: Callable[..., T]) -> T | None:
    """`sign_in(db, token, client_address=..., now=...)`, which raises Throttled while the
    address is locked; a token it does not accept counts against the address."""
    now, address = now_of(request), client_address(request)
    found: T | None = sign_in(db, token, client_address=address, now=now)
    if found is None:
        with writing(db):
            users.token_failed(db, address, now=now)
    return found


def session_user(request: Request, db: Session) -> User | None:
    """The user of this request's live server-side session (its activity recorded at most
    once a minute), or None."""
    secret = session_secret(request)
    if secret is None:
        return None
    now = now_of(request)
    live = sessions.resolve(db, secret, now=now, lifetimes=lifetimes(request.app.state.settings))
    if live is None:
        request.session.pop(SESSION_KEY, None)
        return None
    if sessions.needs_touch(live, now):
        with writing(db):
            sessions.touch(db, live.row.id, now)
    return live.user


async def load_form_csrf(
    request: Request, user: Annotated[User | None, Depends(get_optional_user)]
) -> None:
    """Read `csrf_token` from a submitted form (the parsed form is cached on the request).
    Nothing is read for an anonymous caller (refused next) or a bearer token (no CSRF)."""
    if user is None or getattr(request.state, "via_token", False):
        return
    content_type = request.headers.get("content-type", "")
    if request.method not in SAFE_METHODS and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        request.state.form_csrf = value if isinstance(value, str) else None


def get_current_user(
    request: Request,
    user: Annotated[User | None, Depends(get_optional_user)],
    _form: Annotated[None, Depends(load_form_csrf)],
) -> User:
    return require_user(request, user)


def require_user(request: Request, user: User | None) -> User:
    """`user`, once signed in, with the CSRF token a cookie session's write needs (from the
    header or `request.state.form_csrf`), and no forced password change pending."""
    if user is None:
        raise LoginRequired()
    via_token = getattr(request.state, "via_token", False)
    if request.method not in SAFE_METHODS and not via_token:
        check_csrf(request)
    if user.must_change_password and not via_token:
        if request.url.path not in PASSWORD_CHANGE_PATHS:
            raise PasswordChangeRequired()
    return user


def check_csrf(request: Request) -> None:
    """The session's CSRF token must come back in the X-CSRF-Token header or the form."""
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token") or getattr(request.state, "form_csrf", None)
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        raise PermissionDenied(
            "missing or wrong CSRF token; reload the page and try again",
            details={"field": "csrf_token"},
        )


CurrentUser = Annotated[User, Depends(get_current_user)]
OptionalUser = Annotated[User | None, Depends(get_optional_user)]


def get_actor(user: CurrentUser) -> Actor:
    return users.actor_for(user)


CurrentActor = Annotated[Actor, Depends(get_actor)]


def known_actor(request: Request, token: str) -> Actor | None:
    """The caller's principal for read-only endpoints from the read cache, when the database
    is unchanged since it was looked up (a revoked token, ended session or changed role is a
    commit, which empties the cache), else None; `load_actor` then reads it. A session's
    entry is keyed by its server-side id and is trusted only until its next activity stamp
    or timeout is due. No I/O: safe on the event loop."""
    bearer = _bearer(request)
    if bearer is not None:
        known: Actor | None = request.app.state.read_cache.get(actor_key(bearer), token)
        return known
    return cached_session_actor(request, token)


def cached_session_actor(request: Request, token: str) -> Actor | None:
    """The session's principal from the read cache while it may be trusted, else None."""
    session_id = current_session_id(request)
    if session_id is None:
        raise LoginRequired()
    cache: ReadCache = request.app.state.read_cache
    entry: tuple[Actor, datetime] | None = cache.get(session_key(session_id), token)
    if entry is not None and now_of(request) < entry[1]:
        return entry[0]
    return None


def load_actor(request: Request, db: Session, token: str) -> Actor:
    """The caller's principal from the database (in a worker thread, with the caller's
    session), kept in the read cache under `token` for `known_actor`."""
    cache: ReadCache = request.app.state.read_cache
    bearer = _bearer(request)
    if bearer is not None:
        actor: Actor | None = _throttled(request, db, bearer, users.actor_for_token)
        if actor is None:
            raise LoginRequired()
        cache.put(actor_key(bearer), token, actor)
        return actor
    session_id = current_session_id(request)
    if session_id is None:
        raise LoginRequired()
    actor, fresh_until = _session_actor(request, db)
    cache.put(session_key(session_id), token, (actor, fresh_until))
    return actor


def remember_session_actor(request: Request, token: str) -> Actor:
    """`load_actor` in a session of its own, for a caller that holds none (the page cache,
    after a render): `token` was read before this call, so a commit meanwhile wins."""
    with request.app.state.session_factory() as db:
        return load_actor(request, db, token)


def _session_actor(request: Request, db: Session) -> tuple[Actor, datetime]:
    """(principal, until when a cache may trust it) for the request's session."""
    secret = session_secret(request)
    now = now_of(request)
    settings = request.app.state.settings
    live = sessions.resolve(db, secret, now=now, lifetimes=lifetimes(settings)) if secret else None
    if live is None:
        raise LoginRequired()
    if live.user.must_change_password:
        raise PasswordChangeRequired()
    actor = users.actor_for(live.user)
    if sessions.needs_touch(live, now):
        with writing(db):
            sessions.touch(db, live.row.id, now)
        return actor, now
    return actor, live.fresh_until


def queue_of(request: Request) -> Any:
    """The app's job queue, built from its settings on first use (`create_app` puts the
    builder on `app.state`, so routes never import the jobs module)."""
    state = request.app.state
    if state.queue is None:
        state.queue = state.build_queue(state.settings)
    return state.queue
