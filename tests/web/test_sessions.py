"""Server-side login sessions: a copied cookie stops working the moment its session ends
(logout, sign out everywhere, a disabled user, a changed password), on pages and on the
cached API reads alike; idle and absolute timeouts; activity written at most once a minute."""

from __future__ import annotations

import base64
import json

from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.storage.auth_tables import UserSession
from afteraction.storage.tables import AuditLog
from tests.conftest import login, make_user, token_of
from tests.web.conftest import Clock, post_form, soup

COOKIE = "afteraction_session"


def copy_of(app, client: TestClient) -> TestClient:
    """Another browser holding a copy of `client`'s cookie."""
    other = TestClient(app)
    other.cookies.set(COOKIE, client.cookies[COOKIE])
    return other


def signed_in(client: TestClient) -> bool:
    page = client.get("/incidents", follow_redirects=False)
    if page.status_code == 200:
        return True
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    return False


def api_status(client: TestClient) -> int:
    return client.get("/api/v1/incidents", headers={"X-CSRF-Token": ""}).status_code


def test_the_cookie_carries_a_secret_whose_digest_keys_the_session(
    app, client: TestClient, db: Session
) -> None:
    user_id = make_user(db, "ops@example.com", "responder")
    login(client, "ops@example.com")
    rows = list(db.scalars(select(UserSession)))
    assert [row.user_id for row in rows] == [user_id]
    assert rows[0].ended_at is None and rows[0].user_agent and rows[0].client_address
    assert rows[0].id not in client.cookies[COOKIE]  # only the secret, never its digest


def test_a_copied_cookie_stops_working_after_logout_on_pages_and_cached_reads(
    app, client: TestClient, db: Session
) -> None:
    make_user(db, "ops@example.com", "responder")
    login(client, "ops@example.com")
    copy = copy_of(app, client)
    assert signed_in(copy)
    assert api_status(copy) == 200 and api_status(copy) == 200  # the second is cached
    response = client.post("/logout", headers={"X-CSRF-Token": token_of(client)})
    assert response.status_code == 200 and "Log in" in response.text
    assert not signed_in(copy)
    assert api_status(copy) == 401
    ended = db.scalars(select(UserSession)).one()
    assert ended.ended_at is not None and ended.end_reason == "logout"


def test_logout_without_the_csrf_token_is_refused_and_the_session_lives_on(
    client: TestClient, db: Session
) -> None:
    make_user(db, "ops@example.com", "responder")
    login(client, "ops@example.com")
    refused = client.post("/logout", headers={"X-CSRF-Token": ""}, follow_redirects=False)
    assert refused.status_code == 403 and "CSRF" in refused.text
    wrong = client.post("/logout", headers={"X-CSRF-Token": "forged"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert signed_in(client)


def test_sign_out_everywhere_ends_every_session_of_the_user_only(
    app, client: TestClient, db: Session
) -> None:
    make_user(db, "ops@example.com", "responder")
    make_user(db, "other@example.com", "responder")
    login(client, "ops@example.com")
    laptop = login(TestClient(app), "ops@example.com")
    copy = copy_of(app, laptop)
    someone_else = login(TestClient(app), "other@example.com")
    page = soup(client.get("/account"))
    assert len(page.select("#sessions tbody tr")) == 2
    assert "(this browser)" in page.select_one("#sessions").text
    response = post_form(client, "/account/sessions/end-all", {})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert not signed_in(client) and not signed_in(laptop) and not signed_in(copy)
    assert signed_in(someone_else)
    audit = db.scalars(select(AuditLog).where(AuditLog.action == "session.ended_all")).one()
    assert audit.after == {"sessions": 2, "reason": "signed out everywhere"}


def test_signing_out_one_session_from_the_account_page(
    app, client: TestClient, db: Session
) -> None:
    make_user(db, "ops@example.com", "responder")
    login(client, "ops@example.com")
    laptop = login(TestClient(app), "ops@example.com")
    laptop_id = db.scalars(select(UserSession.id).order_by(UserSession.created_at.desc())).first()
    assert laptop_id is not None
    response = post_form(client, f"/account/sessions/{laptop_id}/end", {})
    assert response.status_code == 303 and response.headers["location"] == "/account"
    assert not signed_in(laptop) and signed_in(client)
    # nobody ends another user's session by guessing its id
    make_user(db, "other@example.com", "responder")
    other = login(TestClient(app), "other@example.com")
    mine = db.scalars(select(UserSession.id).where(UserSession.ended_at.is_(None))).first()
    assert post_form(other, f"/account/sessions/{mine}/end", {}).status_code == 404


def test_a_disabled_user_stays_out_after_being_enabled_again(
    app, admin: TestClient, db: Session
) -> None:
    user_id = make_user(db, "ops@example.com", "responder")
    ops = login(TestClient(app), "ops@example.com")
    copy = copy_of(app, ops)
    assert api_status(copy) == 200
    assert post_form(admin, f"/admin/users/{user_id}/active", {"active": "no"}).status_code == 303
    assert not signed_in(copy) and api_status(copy) == 401
    assert post_form(admin, f"/admin/users/{user_id}/active", {"active": "yes"}).status_code == 303
    assert not signed_in(copy) and not signed_in(ops) and api_status(copy) == 401
    assert signed_in(login(TestClient(app), "ops@example.com"))  # a new login works


def test_idle_timeout_ends_a_session_that_nobody_uses(
    app, client: TestClient, db: Session, clock: Clock
) -> None:
    idle = app.state.settings.session_idle_timeout
    make_user(db, "ops@example.com", "responder")
    login(client, "ops@example.com")
    clock.move(seconds=idle - 60)
    assert signed_in(client) and api_status(client) == 200  # activity restarts the idle clock
    clock.move(seconds=idle - 60)
    assert signed_in(client)
    clock.move(seconds=idle + 1)
    assert not signed_in(client) and api_status(client) == 401


def test_absolute_timeout_ends_even_an_active_session(
    app, client: TestClient, db: Session, clock: Clock
) -> None:
    settings = app.state.settings
    make_user(db, "ops@example.com", "responder")
    login(client, "ops@example.com")
    step = settings.session_idle_timeout // 2
    for _ in range(settings.session_max_age // step - 1):
        clock.move(seconds=step)
        assert signed_in(client)
    clock.move(seconds=2 * step)
    assert not signed_in(client)


def test_cached_reads_do_not_outlive_the_idle_timeout(
    app, client: TestClient, db: Session, clock: Clock
) -> None:
    make_user(db, "ops@example.com", "responder")
    login(client, "ops@example.com")
    assert api_status(client) == 200 and api_status(client) == 200
    clock.move(seconds=app.state.settings.session_idle_timeout + 1)
    assert api_status(client) == 401


def test_activity_is_written_at_most_once_a_minute(
    client: TestClient, db: Session, clock: Clock
) -> None:
    make_user(db, "ops@example.com", "responder")
    login(client, "ops@example.com")

    def last_seen() -> object:
        db.rollback()  # a fresh snapshot
        return db.scalars(select(UserSession.last_seen_at)).one()

    first = last_seen()
    clock.move(seconds=30)
    assert signed_in(client) and api_status(client) == 200
    assert last_seen() == first
    clock.move(seconds=31)
    assert signed_in(client)
    assert last_seen() == clock.now


def test_a_signed_cookie_naming_a_user_id_logs_nobody_in(
    app, client: TestClient, db: Session
) -> None:
    """Cookies from before server-side sessions held the user id: they open nothing now."""
    user_id = make_user(db, "ops@example.com", "admin")
    secret = app.state.settings.secret_key.get_secret_value()
    payload = base64.b64encode(json.dumps({"user_id": user_id}).encode())
    client.cookies.set(COOKIE, TimestampSigner(secret).sign(payload).decode())
    assert not signed_in(client) and api_status(client) == 401
