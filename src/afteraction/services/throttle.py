"""Password and API token guessing: failures counted in the database per account and per
client address, with temporary lockouts that grow and always end by themselves.

Within a 15-minute window, reaching a rule's threshold of failures locks that key for a
minute, and each further failure doubles the lock, up to 15 minutes. While locked, attempts
are refused without being checked or counted, so a lock ends at most 15 minutes after the
guessing stops. An account is keyed by the email address as typed, whether or not such a
user exists, so the answers never tell an existing account from a missing one. Each lock
is written to the audit log; an admin can clear an account's failures (`clear_account`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM, Actor, require_admin
from afteraction.core.errors import Throttled
from afteraction.storage import audit
from afteraction.storage.auth_tables import SignInFailure

WINDOW = timedelta(minutes=15)
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = WINDOW


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str
    threshold: int  # failures within WINDOW that start a lock


ACCOUNT = Rule("account", 5)
ADDRESS = Rule("address", 20)  # several people may share one address (NAT, proxies)
TOKEN = Rule("token", 10)


def lock_duration(rule: Rule, failures: int) -> timedelta:
    """How long a key stays locked after its latest failure: nothing below the threshold,
    then one minute doubling with each further failure, at most LONGEST_LOCK."""
    if failures < rule.threshold:
        return timedelta(0)
    return min(FIRST_LOCK * (1 << min(failures - rule.threshold, 10)), LONGEST_LOCK)


def account_key(email: str) -> str:
    return email.strip().lower()[:320]


FAILURES = select(func.count().label("failures"), func.max(SignInFailure.at).label("latest")).where(
    SignInFailure.kind == bindparam("kind"),
    SignInFailure.key == bindparam("key"),
    SignInFailure.at > bindparam("since"),
)
"""One key's failures within the window and the latest one's time, bound by `failures_of`:
built once, since every API request without a cached principal checks its address (the
token lookup asks it in the same statement, `users.actor_for_token`)."""


def failures_of(rule: Rule, key: str, now: datetime) -> dict[str, object]:
    """The values `FAILURES` is bound with for `key` under `rule` at `now`."""
    return {"kind": rule.kind, "key": key, "since": now - WINDOW}


def _count(session: Session, rule: Rule, key: str, now: datetime) -> tuple[int, datetime | None]:
    failures, latest = session.connection().execute(FAILURES, failures_of(rule, key, now)).one()
    return int(failures), latest


def lock_end(rule: Rule, failures: int, latest: datetime | None, now: datetime) -> datetime | None:
    """When a key with these failures (`FAILURES`' answer) is locked until, or None when it
    is not locked at `now`."""
    if latest is None:
        return None
    until: datetime = latest + lock_duration(rule, failures)
    return until if until > now else None


def locked_until(session: Session, rule: Rule, key: str, now: datetime) -> datetime | None:
    """When the lock on this key ends, or None when it is not locked."""
    return lock_end(rule, *_count(session, rule, key, now), now)


def refuse_until(ends: list[datetime], now: datetime) -> None:
    """Raise Throttled, with the seconds left, while any of these lock ends is ahead."""
    if ends:
        raise Throttled(max(1, int((max(ends) - now).total_seconds() + 0.999)))


def check(session: Session, keys: list[tuple[Rule, str]], now: datetime) -> None:
    """Raise Throttled when any of these keys is locked."""
    refuse_until(
        [until for rule, key in keys if (until := locked_until(session, rule, key, now))], now
    )


def record_failure(session: Session, keys: list[tuple[Rule, str]], now: datetime) -> None:
    """Count one failure against each key; audit each lock this failure starts."""
    session.execute(delete(SignInFailure).where(SignInFailure.at <= now - WINDOW))
    for rule, key in keys:
        session.add(SignInFailure(at=now, kind=rule.kind, key=key))
    session.flush()
    for rule, key in keys:
        failures, _ = _count(session, rule, key, now)
        lock = lock_duration(rule, failures)
        if lock:
            audit.record(
                session,
                SYSTEM,
                "sign_in.locked",
                target_type=rule.kind,
                target_id=key,
                after={"failures": failures, "until": now + lock, "minutes": lock / FIRST_LOCK},
            )


def clear(session: Session, rule: Rule, key: str) -> int:
    """Forget a key's failures (after a successful sign-in); returns how many."""
    result = session.execute(
        delete(SignInFailure).where(SignInFailure.kind == rule.kind, SignInFailure.key == key)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def clear_account(session: Session, actor: Actor, email: str) -> int:
    """An admin ends an account's lock at once (audited); returns the failures forgotten."""
    require_admin(actor)
    key = account_key(email)
    forgotten = clear(session, ACCOUNT, key)
    audit.record(
        session,
        actor,
        "sign_in.unlocked",
        target_type=ACCOUNT.kind,
        target_id=key,
        before={"failures": forgotten},
    )
    return forgotten
