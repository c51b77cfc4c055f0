"""Login sessions kept on the server: start one at login, resolve a cookie's secret to its
user on every request, end one (logout), end all of a user's (sign out everywhere, a
disabled account, a changed password), and list the open ones for the account page.

The browser holds a random secret; the `user_sessions` row is keyed by its SHA-256. A
session is live while it is not ended, was seen within the idle timeout, is younger than
the absolute timeout, and its user is active. `last_seen_at` is written at most once a
minute (`needs_touch`), so reads do not turn into writes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from afteraction.core.access import Actor, require_admin
from afteraction.core.errors import NotFound
from afteraction.storage import audit
from afteraction.storage.auth_tables import UserSession
from afteraction.storage.tables import User

TOUCH_EVERY = timedelta(minutes=1)
KEEP_ENDED = timedelta(days=30)  # ended sessions stay listed in the database this long


@dataclass(frozen=True, slots=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True, slots=True)
class Live:
    """A resolved session: its row, its user, and until when it is sure to stay live
    without another look at the database (the next touch or the first timeout)."""

    row: UserSession
    user: User
    fresh_until: datetime


def session_id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(
    session: Session, user: User, *, now: datetime, user_agent: str = "", client_address: str = ""
) -> str:
    """Open a session for `user`; returns the secret for the cookie (never stored). Forgets
    the user's sessions that ended or went idle more than `KEEP_ENDED` ago."""
    stale = now - KEEP_ENDED
    session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(UserSession.ended_at < stale, UserSession.last_seen_at < stale),
        )
    )
    secret = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id=session_id(secret),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            user_agent=user_agent[:300],
            client_address=client_address[:64],
        )
    )
    session.flush()
    return secret


def expires_at(row: UserSession, lifetimes: Lifetimes) -> datetime:
    """When the session times out: idle from its last activity, or absolute from its start."""
    return min(row.last_seen_at + lifetimes.idle, row.created_at + lifetimes.absolute)


def resolve(session: Session, secret: str, *, now: datetime, lifetimes: Lifetimes) -> Live | None:
    """The live session behind a cookie's secret, or None (unknown, ended, timed out, or
    its user disabled). Never writes."""
    found = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == session_id(secret), UserSession.ended_at.is_(None))
    ).one_or_none()
    if found is None:
        return None
    row, user = found
    if expires_at(row, lifetimes) <= now or not user.is_active:
        return None
    fresh_until = min(expires_at(row, lifetimes), row.last_seen_at + TOUCH_EVERY)
    return Live(row=row, user=user, fresh_until=fresh_until)


def needs_touch(live: Live, now: datetime) -> bool:
    return now - live.row.last_seen_at >= TOUCH_EVERY


def touch(session: Session, row_id: str, now: datetime) -> None:
    """Record activity (the idle timeout counts from here)."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == row_id, UserSession.ended_at.is_(None))
        .values(last_seen_at=now)
    )


def end(session: Session, secret: str, *, now: datetime) -> None:
    """Log out: end the session behind this secret, if it is still open."""
    row = session.get(UserSession, session_id(secret))
    if row is not None and row.ended_at is None:
        row.ended_at = now
        row.end_reason = "logout"


def end_one(session: Session, actor: Actor, row_id: str, *, now: datetime) -> UserSession:
    """End one session (its owner, or an admin) from the account page."""
    row = session.get(UserSession, row_id)
    if row is None or (row.user_id != actor.user_id and not actor.is_admin):
        raise NotFound("session", row_id[:8])
    if row.ended_at is None:
        row.ended_at = now
        row.end_reason = "signed out"
        audit.record(
            session,
            actor,
            "session.ended",
            target_type="user",
            target_id=row.user_id,
            after={"session": row_id[:8]},
        )
    return row


def end_all(
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    now: datetime,
    reason: str,
    keep: str | None = None,
) -> int:
    """End every open session of a user (except `keep`, a session id); returns how many."""
    if actor.user_id != user_id:
        require_admin(actor)
    query = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason[:40])
    )
    if keep is not None:
        query = query.where(UserSession.id != keep)
    ended = int(getattr(session.execute(query), "rowcount", 0) or 0)
    if ended:
        audit.record(
            session,
            actor,
            "session.ended_all",
            target_type="user",
            target_id=user_id,
            after={"sessions": ended, "reason": reason},
        )
    return ended


def list_open(
    session: Session, user_id: int, *, now: datetime, lifetimes: Lifetimes
) -> list[UserSession]:
    """A user's live sessions, most recently seen first."""
    query = (
        select(UserSession)
        .where(
            UserSession.user_id == user_id,
            UserSession.ended_at.is_(None),
            UserSession.last_seen_at > now - lifetimes.idle,
            UserSession.created_at > now - lifetimes.absolute,
        )
        .order_by(UserSession.last_seen_at.desc())
        .limit(200)
    )
    return list(session.scalars(query))
