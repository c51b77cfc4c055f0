"""FastAPI dependencies as `Annotated` aliases: the database session, the current user
(from the session cookie or an API token), the acting principal and CSRF checks.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from afteraction.config import Settings
from afteraction.core.access import Actor
from afteraction.core.errors import PermissionDenied
from afteraction.services import users
from afteraction.storage.tables import User
from afteraction.web.errors import LoginRequired
from afteraction.web.fastpath import actor_key
from afteraction.web.readcache import ReadCache

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
    user = lookup_user(db, token, request.session.get("user_id"))
    if token is not None:
        if user is None:
            raise LoginRequired()
        request.state.via_token = True
    request.state.user = user
    return user


def lookup_user(db: Session, bearer: str | None, user_id: object) -> User | None:
    """The active user behind a bearer token, or else behind a session's user id."""
    if bearer is not None:
        return users.user_for_token(db, bearer)
    if not isinstance(user_id, int):
        return None
    user = db.get(User, user_id)
    return user if user is not None and user.is_active else None


async def load_form_csrf(request: Request) -> None:
    """Read `csrf_token` from a submitted form (the parsed form is cached on the request)."""
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
    if user is None:
        raise LoginRequired()
    if request.method not in SAFE_METHODS and not getattr(request.state, "via_token", False):
        _check_csrf_header_or_form(request)
    return user


def _check_csrf_header_or_form(request: Request) -> None:
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


async def cached_actor(request: Request, token: str) -> Actor:
    """The caller's principal for read-only endpoints, from the read cache when the database
    is unchanged since it was looked up (a revoked token or changed role is a commit, which
    empties the cache). Falls back to the database in a worker thread."""
    cache: ReadCache = request.app.state.read_cache
    bearer = _bearer(request)
    user_id = None if bearer else request.session.get("user_id")
    if bearer is None and not isinstance(user_id, int):
        raise LoginRequired()
    key = actor_key(bearer, user_id)
    actor: Actor | None = cache.get(key, token)
    if actor is None:
        actor = await run_in_threadpool(_load_actor, request, bearer, user_id)
        if actor is None:
            raise LoginRequired()
        cache.put(key, token, actor)
    return actor


def _load_actor(request: Request, bearer: str | None, user_id: object) -> Actor | None:
    with request.app.state.session_factory() as db:
        user = lookup_user(db, bearer, user_id)
        return users.actor_for(user) if user is not None else None


def queue_of(request: Request) -> Any:
    """The app's job queue, built from its settings on first use (`create_app` puts the
    builder on `app.state`, so routes never import the jobs module)."""
    state = request.app.state
    if state.queue is None:
        state.queue = state.build_queue(state.settings)
    return state.queue
