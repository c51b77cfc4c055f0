"""Changing and resetting passwords: a user changes their own (current password required),
an admin or the command line sets one, and an admin forces a reset so that the user must
choose a new password at their next login. Each ends the user's other sessions and is
audited. New passwords follow `afteraction.core.passwords`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import Actor, require_admin
from afteraction.core.errors import NotFound, ValidationError
from afteraction.services import sessions
from afteraction.services.users import hash_password, verify_password
from afteraction.storage import audit
from afteraction.storage.tables import User


def user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound("user", email.strip().lower())
    return user


def change_own(
    session: Session,
    actor: Actor,
    *,
    current: str,
    new: str,
    now: datetime,
    keep_session: str | None = None,
) -> User:
    """The signed-in user changes their password; their other sessions end."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise NotFound("user", actor.user_id)
    if not verify_password(user, current):
        raise ValidationError("the current password is wrong", field="current_password")
    if new == current:
        raise ValidationError("choose a password you have not used here", field="password")
    _set(session, actor, user, new, now=now, keep_session=keep_session)
    return user


def set_password(session: Session, actor: Actor, user: User, new: str, *, now: datetime) -> User:
    """An admin (or the command line) sets a user's password; all their sessions end."""
    require_admin(actor)
    _set(session, actor, user, new, now=now, keep_session=None)
    return user


def force_reset(session: Session, actor: Actor, user: User, *, now: datetime) -> User:
    """The user must choose a new password at their next login; their sessions end now."""
    require_admin(actor)
    user.must_change_password = True
    sessions.end_all(session, actor, user.id, now=now, reason="password reset")
    audit.record(
        session, actor, "user.password_reset_forced", target_type="user", target_id=user.id
    )
    return user


def _set(
    session: Session,
    actor: Actor,
    user: User,
    new: str,
    *,
    now: datetime,
    keep_session: str | None,
) -> None:
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = now
    sessions.end_all(session, actor, user.id, now=now, reason="password changed", keep=keep_session)
    audit.record(session, actor, "user.password_changed", target_type="user", target_id=user.id)
