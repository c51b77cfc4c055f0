"""Password and token guessing: locks per account and per client address that grow, end by
themselves (a moved clock, no sleeps), are audited, can be cleared by an admin, and never
tell an existing account from a missing one."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.services import throttle
from afteraction.storage.tables import AuditLog
from tests.conftest import PASSWORD, make_user
from tests.web.conftest import Clock, post_form


def attempt(client: TestClient, email: str, password: str) -> tuple[int, str]:
    """(status, the page's error message) of one login attempt."""
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    if response.status_code == 303:
        return 303, ""
    message = response.text.split('role="alert"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    return response.status_code, message.strip()


def test_lock_durations_grow_and_stay_bounded() -> None:
    rule = throttle.ACCOUNT
    minutes = [throttle.lock_duration(rule, n).total_seconds() / 60 for n in range(3, 12)]
    assert minutes == [0, 0, 1, 2, 4, 8, 15, 15, 15]
    assert throttle.lock_duration(rule, 10_000) == throttle.LONGEST_LOCK


def test_ten_wrong_passwords_lock_the_account_until_the_lock_ends_by_itself(
    client: TestClient, db: Session, clock: Clock
) -> None:
    make_user(db, "ops@example.com", "responder")
    results = [attempt(client, "ops@example.com", "wrong password!") for _ in range(10)]
    assert results[:5] == [(401, "Wrong email or password.")] * 5
    assert {status for status, _ in results[5:]} == {429}
    assert "Too many failed sign-in attempts; try again in 1 minute" in results[5][1]
    # the right password is refused too while locked
    assert attempt(client, "ops@example.com", PASSWORD)[0] == 429
    locks = db.scalars(select(AuditLog).where(AuditLog.action == "sign_in.locked")).all()
    assert [(row.target_type, row.target_id) for row in locks] == [("account", "ops@example.com")]
    clock.move(minutes=1, seconds=1)
    assert attempt(client, "ops@example.com", PASSWORD)[0] == 303


def test_locks_grow_with_each_failure_after_one_ends(
    client: TestClient, db: Session, clock: Clock
) -> None:
    make_user(db, "ops@example.com", "responder")
    for _ in range(5):
        attempt(client, "ops@example.com", "wrong password!")
    clock.move(minutes=1, seconds=1)
    assert attempt(client, "ops@example.com", "wrong password!")[0] == 401  # 6th: 2 minutes
    clock.move(minutes=1, seconds=30)
    status, message = attempt(client, "ops@example.com", PASSWORD)
    assert status == 429 and "1 minute" in message
    clock.move(seconds=31)
    assert attempt(client, "ops@example.com", PASSWORD)[0] == 303


def test_the_throttle_does_not_reveal_whether_an_account_exists(
    client: TestClient, db: Session
) -> None:
    make_user(db, "ops@example.com", "responder")
    known = [attempt(client, "ops@example.com", "wrong password!") for _ in range(7)]
    unknown = [attempt(client, "nobody@example.com", "wrong password!") for _ in range(7)]
    assert known == unknown


def test_many_accounts_guessed_from_one_address_lock_the_address(
    client: TestClient, db: Session, clock: Clock
) -> None:
    make_user(db, "ops@example.com", "responder")
    statuses = [attempt(client, f"user{n}@example.com", "wrong password!")[0] for n in range(20)]
    assert statuses == [401] * 20
    assert attempt(client, "ops@example.com", PASSWORD)[0] == 429
    clock.move(minutes=1, seconds=1)
    assert attempt(client, "ops@example.com", PASSWORD)[0] == 303


def test_an_admin_ends_a_lock_and_it_is_audited(
    app, client: TestClient, admin: TestClient, db: Session
) -> None:
    user_id = make_user(db, "ops@example.com", "responder")
    other = TestClient(app)
    for _ in range(6):
        attempt(other, "ops@example.com", "wrong password!")
    assert attempt(other, "ops@example.com", PASSWORD)[0] == 429
    response = post_form(admin, f"/admin/users/{user_id}/unlock", {})
    assert response.status_code == 303
    assert attempt(other, "ops@example.com", PASSWORD)[0] == 303
    unlocked = db.scalars(select(AuditLog).where(AuditLog.action == "sign_in.unlocked")).one()
    assert unlocked.target_id == "ops@example.com" and unlocked.actor_label == "admin@example.com"


def test_guessed_api_tokens_lock_the_address_until_it_ends_by_itself(
    client: TestClient, admin: TestClient, db: Session, clock: Clock
) -> None:
    issued = admin.post("/api/v1/tokens", json={"name": "ci"})
    assert issued.status_code == 201
    good = {"Authorization": f"Bearer {issued.json()['token']}"}
    guesser = TestClient(client.app)
    statuses = [
        guesser.get("/api/v1/incidents", headers={"Authorization": f"Bearer aa_x_{n}"}).status_code
        for n in range(10)
    ]
    assert statuses == [401] * 10
    locked = guesser.get("/api/v1/incidents", headers=good)
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "too_many_attempts"
    assert int(locked.headers["Retry-After"]) == 60
    clock.move(minutes=1, seconds=1)
    assert guesser.get("/api/v1/incidents", headers=good).status_code == 200
    locks = db.scalars(select(AuditLog).where(AuditLog.action == "sign_in.locked")).all()
    assert [row.target_type for row in locks] == ["token"]
