"""Passwords: 12 characters and not a common one for every new password, older shorter
ones still log in, users change their own on the account page, admins force a reset."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.errors import ValidationError
from afteraction.core.passwords import check_new_password, common_passwords, is_common
from afteraction.storage.db import writing
from afteraction.storage.tables import AuditLog, User
from tests.conftest import PASSWORD, login, make_user
from tests.web.conftest import post_form, soup
from tests.web.test_sessions import signed_in
from tests.web.test_sign_in_throttle import attempt

NEW = "a brand new passphrase"


def test_the_shipped_list_holds_a_few_thousand_common_passwords() -> None:
    common = common_passwords()
    assert 5_000 < len(common) < 20_000
    assert {"password", "iloveyou", "qwertyuiop", "1234567890"} <= common


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-pw", "at least 12"),
        ("qwertyuiop123", "most common"),
        ("Password1234!", "most common"),
        ("1234567890123", "most common"),
    ],
)
def test_weak_new_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason) as refused:
        check_new_password(password)
    assert refused.value.field == "password"


def test_long_uncommon_passwords_pass() -> None:
    assert check_new_password(NEW) == NEW and not is_common(PASSWORD)


def test_an_existing_shorter_password_still_logs_in(client: TestClient, db: Session) -> None:
    with writing(db):
        db.add(
            User(
                email="old@example.com",
                name="Old",
                password_hash=PasswordHasher().hash("eight-ch"),
                role="viewer",
            )
        )
    login(client, "old@example.com", "eight-ch")
    assert signed_in(client)


def test_admins_cannot_create_users_with_common_passwords(admin: TestClient) -> None:
    response = post_form(
        admin,
        "/admin/users",
        {"email": "new@example.com", "password": "qwertyuiop12", "role": "viewer"},
    )
    assert response.status_code == 422
    assert "most common" in soup(response).select_one("#err-password").text
    api = admin.post(
        "/api/v1/users",
        json={"email": "x@example.com", "password": "eleven-char", "role": "viewer"},
    )
    assert api.status_code == 422


def test_changing_your_password_needs_the_current_one_and_ends_your_other_sessions(
    app, client: TestClient, db: Session
) -> None:
    make_user(db, "ops@example.com", "responder")
    login(client, "ops@example.com")
    laptop = login(TestClient(app), "ops@example.com")
    form = {"current_password": "not it at all", "password": NEW, "password_confirm": NEW}
    wrong = post_form(client, "/account/password", form)
    assert wrong.status_code == 422
    assert "current password is wrong" in soup(wrong).select_one("#err-current_password").text
    common = {"current_password": PASSWORD, "password": "iloveyou1234", "password_confirm": ""}
    assert post_form(client, "/account/password", common).status_code == 422
    short = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": "short", "password_confirm": "short"},
    )
    assert "at least 12" in soup(short).select_one("#err-password").text
    form["current_password"] = PASSWORD
    done = post_form(client, "/account/password", form)
    assert done.status_code == 303 and done.headers["location"] == "/account"
    assert signed_in(client) and not signed_in(laptop)
    assert attempt(TestClient(app), "ops@example.com", PASSWORD)[0] == 401
    assert attempt(TestClient(app), "ops@example.com", NEW)[0] == 303
    assert db.scalars(select(AuditLog.action).where(AuditLog.action.like("user.password%"))).all()


def test_a_forced_reset_ends_sessions_and_makes_the_user_choose_a_new_password(
    app, admin: TestClient, db: Session
) -> None:
    user_id = make_user(db, "ops@example.com", "responder")
    ops = login(TestClient(app), "ops@example.com")
    assert post_form(admin, f"/admin/users/{user_id}/force-reset", {}).status_code == 303
    assert not signed_in(ops)
    ops = TestClient(app)
    page = ops.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = ops.post(
        "/login",
        data={"email": "ops@example.com", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/account#password"
    ops.headers["X-CSRF-Token"] = soup(ops.get("/account")).select_one('meta[name="csrf-token"]')[
        "content"
    ]
    blocked = ops.get("/incidents", follow_redirects=False)
    assert blocked.status_code == 303 and blocked.headers["location"] == "/account#password"
    assert ops.get("/api/v1/incidents").status_code == 403
    assert "An admin reset your password" in ops.get("/account").text
    form = {"current_password": PASSWORD, "password": NEW, "password_confirm": NEW}
    assert post_form(ops, "/account/password", form).status_code == 303
    assert signed_in(ops)
    db.rollback()
    assert db.get(User, user_id).must_change_password is False
