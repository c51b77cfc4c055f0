"""Users, password hashes (argon2), signing in with a password or an API token (both
throttled, see `afteraction.services.throttle`) and API tokens (random, shown once, stored as
SHA-256). Changing and resetting passwords is `afteraction.services.passwords`.

A token looks like `aa_<prefix>_<secret>`; only its SHA-256 digest is stored, so a leaked
database does not leak usable tokens. Password hashing is argon2id via argon2-cffi.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, bindparam, select, true
from sqlalchemy.orm import Session

from afteraction.core.access import Actor, check_role, require_admin
from afteraction.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from afteraction.core.passwords import check_new_password
from afteraction.services import sessions, throttle
from afteraction.storage import audit
from afteraction.storage.tables import ApiToken, Person, User
from afteraction.storage.types import utcnow

# OWASP's recommended argon2id parameters (19 MiB, 2 passes, 1 lane): about 0.1 s a hash
# here, against 0.9 s for argon2-cffi's defaults on a 2-core machine. Stored hashes carry
# their parameters; `authenticate` rehashes any that differ.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def hash_password(password: str) -> str:
    """The hash of a new password, which must follow `core.passwords`' rules."""
    return _hasher.hash(check_new_password(password))


def verify_password(user: User, password: str) -> bool:
    try:
        return bool(_hasher.verify(user.password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def actor_for(user: User) -> Actor:
    return Actor(user_id=user.id, label=user.email, role=user.role, person_id=user.person_id)


def create_user(
    session: Session,
    actor: Actor,
    *,
    email: str,
    password: str,
    role: str,
    name: str = "",
    person_id: int | None = None,
) -> User:
    require_admin(actor)
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise ValidationError(f"{email!r} is not an email address", field="email")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with email {email} already exists")
    if person_id is None:
        person_id = session.scalar(select(Person.id).where(Person.email == email))
    user = User(
        email=email,
        name=name or email.split("@")[0],
        password_hash=hash_password(password),
        role=check_role(role),
        person_id=person_id,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.created",
        target_type="user",
        target_id=user.id,
        after={"email": email, "role": role},
    )
    return user


def user_named_by_admin(session: Session, user_id: int) -> User:
    """The user an admin's form names, or a refusal naming the field."""
    user = session.get(User, user_id)
    if user is None:
        raise ValidationError(f"no user {user_id}", field="user")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    now: datetime | None = None,
    client_address: str | None = None,
) -> User | None:
    """The active user with these credentials, or None. Rehashes outdated hashes.

    Raises Throttled while the account (as typed, existing or not) or the client address
    is locked after too many failures; a failure is counted against both. Write it in a
    transaction that commits on failure too."""
    now = now or utcnow()
    keys = [(throttle.ACCOUNT, throttle.account_key(email))]
    if client_address is not None:
        keys.append((throttle.ADDRESS, client_address))
    throttle.check(session, keys, now)
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active:
        _hasher.hash("timing-equaliser")  # same cost whether or not the user exists
        throttle.record_failure(session, keys, now)
        return None
    if not verify_password(user, password):
        throttle.record_failure(session, keys, now)
        return None
    throttle.clear(session, throttle.ACCOUNT, keys[0][1])
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    return user


# Stored as the password hash of users created by single sign-on: argon2 cannot parse it,
# so `authenticate` refuses every password until an admin sets one.
NO_PASSWORD = "!sso"


class SsoRefused(PermissionDenied):
    """A single sign-on identity that may not log in; the message says why, for the user."""


def sso_login(
    session: Session,
    *,
    email: str,
    email_verified: bool,
    name: str,
    issuer: str,
    subject: str,
    default_role: str | None,
    password_login: bool = True,
    link_to: int | None = None,
) -> User:
    """The user an identity provider vouched for; raises SsoRefused when none may sign in.

    The account is found by the identity's (`issuer`, `subject`) once linked, whatever its
    email says then. The email links an account only the first time, and only when the
    provider verified it: to a new account (created with `default_role` when set), to one
    without a password (created by SSO), or to any unlinked account when password login is
    off. An account with a password is never taken over by an email: its owner signs in with
    the password and links SSO from the account page (`link_to`, their user id). Records the
    login, any creation and any link in the audit log."""
    if not issuer or not subject:
        raise SsoRefused("the identity provider's token names no issuer or subject")
    identity = {"method": "oidc", "issuer": issuer, "subject": subject}
    linked = session.scalar(
        select(User).where(User.sso_issuer == issuer, User.sso_subject == subject)
    )
    if link_to is not None:
        user = _link_signed_in(session, link_to, linked, identity)
    elif linked is not None:
        user = linked
    else:
        user = _first_sign_in(
            session,
            email=email,
            email_verified=email_verified,
            name=name,
            default_role=default_role,
            password_login=password_login,
            identity=identity,
        )
    if not user.is_active:
        raise SsoRefused(f"the account {user.email} is deactivated")
    user.last_login_at = utcnow()
    audit.record(
        session, actor_for(user), "user.login", target_type="user", target_id=user.id,
        after=identity,
    )  # fmt: skip
    return user


def _link(session: Session, user: User, identity: dict[str, str], how: str) -> None:
    user.sso_issuer, user.sso_subject = identity["issuer"], identity["subject"]
    session.flush()
    audit.record(
        session, actor_for(user), "user.sso_linked", target_type="user", target_id=user.id,
        after=identity | {"by": how},
    )  # fmt: skip


def _link_signed_in(
    session: Session, user_id: int, linked: User | None, identity: dict[str, str]
) -> User:
    """Link the identity to the signed-in user who asked for it on their account page."""
    user = session.get(User, user_id)
    if user is None:
        raise SsoRefused("the account to link no longer exists")
    if linked is not None and linked.id != user.id:
        raise SsoRefused("this sign-in identity is already linked to another afteraction account")
    if linked is None:
        _link(session, user, identity, "account page")
    return user


def _first_sign_in(
    session: Session,
    *,
    email: str,
    email_verified: bool,
    name: str,
    default_role: str | None,
    password_login: bool,
    identity: dict[str, str],
) -> User:
    """An identity seen for the first time: link or create an account by its email."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise SsoRefused("your identity provider did not send a usable email address")
    if not email_verified:
        raise SsoRefused(f"the identity provider has not verified the address {email}")
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        if not default_role:
            raise SsoRefused(
                f"there is no afteraction account for {email}; ask an admin to create one"
            )
        user = User(
            email=email,
            name=(name.strip() or email.split("@")[0])[:200],
            password_hash=NO_PASSWORD,
            role=check_role(default_role),
            person_id=session.scalar(select(Person.id).where(Person.email == email)),
            sso_issuer=identity["issuer"],
            sso_subject=identity["subject"],
        )
        session.add(user)
        session.flush()
        audit.record(
            session,
            actor_for(user),
            "user.created",
            target_type="user",
            target_id=user.id,
            after={"email": email, "role": user.role} | identity,
        )
        return user
    if not user.is_active:
        raise SsoRefused(f"the account {email} is deactivated")
    if user.sso_subject is not None:
        raise SsoRefused(f"the account {email} is linked to another sign-in identity; ask an admin")
    if password_login and user.password_hash != NO_PASSWORD:
        raise SsoRefused(
            f"the account {email} signs in with a password; sign in with it once, then "
            "link single sign-on on your account page"
        )
    _link(session, user, identity, "verified email")
    return user


def set_role(session: Session, actor: Actor, user_id: int, role: str) -> User:
    require_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    before = user.role
    user.role = check_role(role)
    audit.record(
        session,
        actor,
        "user.role_changed",
        target_type="user",
        target_id=user.id,
        before={"role": before},
        after={"role": role},
    )
    return user


def update_user(
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    role: str | None = None,
    active: bool | None = None,
) -> User:
    """Change a user's role and/or whether they may log in (admins only). Refuses to leave
    the workspace without an active admin."""
    require_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    before = {"role": user.role, "is_active": user.is_active}
    if role is not None:
        user.role = check_role(role)
    if active is not None:
        user.is_active = active
        if not active:
            sessions.end_all(session, actor, user.id, now=utcnow(), reason="disabled")
    if before["role"] == "admin" and before["is_active"] and not _is_active_admin(user):
        others = select(User.id).where(
            User.role == "admin", User.is_active.is_(True), User.id != user.id
        )
        if session.scalar(others.limit(1)) is None:
            field = "active" if role in (None, "admin") else "role"
            raise ValidationError(
                f"{user.email} is the only active admin; make someone else admin first",
                field=field,
            )
    after = {"role": user.role, "is_active": user.is_active}
    changed = sorted(name for name in after if before[name] != after[name])
    if changed:
        audit.record(
            session,
            actor,
            "user.updated",
            target_type="user",
            target_id=user.id,
            before={name: before[name] for name in changed},
            after={name: after[name] for name in changed},
        )
    return user


def _is_active_admin(user: User) -> bool:
    return user.role == "admin" and bool(user.is_active)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(session: Session, actor: Actor, *, user_id: int, name: str) -> IssuedToken:
    """Create an API token; the plain secret is returned once and never stored."""
    if actor.user_id != user_id:
        require_admin(actor)
    if not name.strip() or len(name) > 200:
        raise ValidationError("token name must be 1–200 characters", field="name")
    prefix = secrets.token_hex(4)
    secret = f"aa_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(user_id=user_id, name=name.strip(), prefix=prefix, token_hash=_digest(secret))
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        "token.issued",
        target_type="token",
        target_id=token.id,
        after={"name": token.name, "prefix": prefix, "user_id": user_id},
    )
    return IssuedToken(token=token, secret=secret)


def _live_token(*columns: Any) -> Select[Any]:
    """`columns` of the user behind a token: the token known and not revoked, its user
    active. The one statement of that rule, built once per use and bound per call."""
    return (
        select(*columns)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == bindparam("digest"),
            ApiToken.revoked_at.is_(None),
            User.is_active.is_(True),
        )
    )


_TOKEN_USER = _live_token(User)
# in `Actor`'s field order: what `actor_for` takes from a user
_TOKEN_ACTOR = _live_token(User.id, User.email, User.role, User.person_id)


def _throttled_token_actor() -> Select[Any]:
    """The address's token failures (`throttle.FAILURES`) and `_TOKEN_ACTOR`'s row (NULLs
    when the token is not live) in one statement: the read every uncached API request
    makes before anything else, once instead of twice."""
    failed = throttle.FAILURES.subquery()
    actor = _TOKEN_ACTOR.subquery()
    return select(failed.c.failures, failed.c.latest, *actor.c).select_from(
        failed.outerjoin(actor, true())
    )


_THROTTLED_TOKEN_ACTOR = _throttled_token_actor()


def user_for_token(session: Session, secret: str) -> User | None:
    user: User | None = session.scalar(_TOKEN_USER, {"digest": _digest(secret)})
    return user


def sign_in_with_token(
    session: Session, secret: str, *, client_address: str, now: datetime | None = None
) -> User | None:
    """`user_for_token`, throttled per client address: raises Throttled while the address
    is locked after too many unknown tokens. Only reads; on None, count the failure with
    `token_failed` in a write transaction."""
    throttle.check(session, [(throttle.TOKEN, client_address)], now or utcnow())
    return user_for_token(session, secret)


def actor_for_token(
    session: Session, secret: str, *, client_address: str, now: datetime | None = None
) -> Actor | None:
    """`sign_in_with_token` for callers that need only the principal (cached reads): the
    same throttle and rule, asked with the token in one statement that answers one row of
    six columns, instead of two statements and two ORM objects."""
    now = now or utcnow()
    values = throttle.failures_of(throttle.TOKEN, client_address, now)
    values["digest"] = _digest(secret)
    failures, latest, *user = session.connection().execute(_THROTTLED_TOKEN_ACTOR, values).one()
    throttle.refuse_until(
        [end] if (end := throttle.lock_end(throttle.TOKEN, failures, latest, now)) else [], now
    )
    return None if user[0] is None else Actor(*user)


def token_failed(session: Session, client_address: str, *, now: datetime | None = None) -> None:
    """Count an unknown, revoked or disabled user's token against the client address."""
    throttle.record_failure(session, [(throttle.TOKEN, client_address)], now or utcnow())


def list_tokens(session: Session, user_id: int) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
    return list(session.scalars(query))


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("token", token_id)
    if token.user_id != actor.user_id:
        require_admin(actor)
    token.revoked_at = utcnow()
    audit.record(session, actor, "token.revoked", target_type="token", target_id=token.id)
    return token
