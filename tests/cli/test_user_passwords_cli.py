"""`afteraction user password`, `user force-reset` and `user unlock` against a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from afteraction.cli.main import app
from afteraction.core.errors import Throttled
from afteraction.services import sessions, users
from afteraction.storage.auth_tables import UserSession
from afteraction.storage.db import writing
from afteraction.storage.tables import AuditLog, User
from afteraction.storage.types import utcnow
from tests.conftest import PASSWORD, make_user

runner = CliRunner()
LIFETIMES = sessions.Lifetimes(idle=timedelta(hours=1), absolute=timedelta(days=1))


@pytest.fixture
def env(database_url: str, db) -> dict[str, str]:
    return {"AFTERACTION_DATABASE_URL": database_url, "AFTERACTION_ENVIRONMENT": "development"}


def invoke(env: dict[str, str], *args: str, input: str | None = None):
    return runner.invoke(app, list(args), env=env, input=input)


def open_session(db: Session, user_id: int) -> str:
    with writing(db):
        return sessions.start(db, db.get(User, user_id), now=utcnow())


def test_user_password_reads_stdin_checks_the_rules_and_ends_sessions(
    env: dict[str, str], db: Session
) -> None:
    user_id = make_user(db, "ops@example.com", "responder")
    secret = open_session(db, user_id)
    common = invoke(env, "user", "password", "ops@example.com", input="qwertyuiop123\n")
    assert common.exit_code == 1 and "most common" in common.output
    short = invoke(env, "user", "password", "ops@example.com", input="short\n")
    assert short.exit_code == 1 and "at least 12" in short.output
    empty = invoke(env, "user", "password", "ops@example.com", input="\n")
    assert empty.exit_code == 2 and "no password" in empty.output
    missing = invoke(env, "user", "password", "nobody@example.com", input="a new passphrase\n")
    assert missing.exit_code == 1 and "nobody@example.com not found" in missing.output
    done = invoke(env, "user", "password", "OPS@example.com", input="a new passphrase\n")
    assert done.exit_code == 0, done.output
    db.rollback()
    assert sessions.resolve(db, secret, now=utcnow(), lifetimes=LIFETIMES) is None
    assert users.authenticate(db, "ops@example.com", "a new passphrase") is not None
    assert users.authenticate(db, "ops@example.com", PASSWORD) is None


def test_user_force_reset_marks_the_user_and_ends_their_sessions(
    env: dict[str, str], db: Session
) -> None:
    user_id = make_user(db, "ops@example.com", "responder")
    open_session(db, user_id)
    result = invoke(env, "user", "force-reset", "ops@example.com")
    assert result.exit_code == 0, result.output
    assert "must choose a new password" in result.output
    db.rollback()
    assert db.get(User, user_id).must_change_password is True
    ended = db.scalars(select(UserSession)).one()
    assert ended.ended_at is not None and ended.end_reason == "password reset"
    actions = db.scalars(select(AuditLog.action).where(AuditLog.target_id == str(user_id)))
    assert "user.password_reset_forced" in set(actions)


def test_user_unlock_ends_a_sign_in_lock(env: dict[str, str], db: Session) -> None:
    make_user(db, "ops@example.com", "responder")
    for _ in range(5):
        with writing(db):
            assert users.authenticate(db, "ops@example.com", "wrong password!") is None
    with pytest.raises(Throttled), writing(db):
        users.authenticate(db, "ops@example.com", PASSWORD)
    result = invoke(env, "user", "unlock", "ops@example.com")
    assert result.exit_code == 0 and "5 failures forgotten" in result.output
    db.rollback()
    assert users.authenticate(db, "ops@example.com", PASSWORD) is not None
