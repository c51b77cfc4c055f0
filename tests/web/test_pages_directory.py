"""Directory, account and admin pages: create forms with their messages, people over time,
API tokens shown once, and user roles."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.web.conftest import declare, post_form, soup


def test_teams_and_services_create_and_refuse_duplicates(admin: TestClient) -> None:
    assert post_form(admin, "/teams", {"name": "Payments"}).status_code == 303
    duplicate = post_form(admin, "/teams", {"name": "Payments", "description": "again"})
    assert duplicate.status_code == 409
    assert "already exists" in soup(duplicate).select_one("[role=alert]").text
    assert soup(duplicate).select_one("#description")["value"] == "again"
    empty = post_form(admin, "/teams", {"name": ""})
    assert empty.status_code == 422 and soup(empty).select_one("#err-name")
    made = post_form(admin, "/services", {"name": "Checkout API", "team": "payments", "tier": "1"})
    assert made.status_code == 303
    row = soup(admin.get("/services")).select_one("table.list tbody tr")
    assert "Checkout API" in row.text and "Payments" in row.text
    bad_tier = post_form(admin, "/services", {"name": "Other", "tier": "many"})
    assert bad_tier.status_code == 422 and soup(bad_tier).select_one("#err-tier")
    bad_slug = post_form(admin, "/services", {"name": "Other", "slug": "Not A Slug"})
    assert soup(bad_slug).select_one("#err-slug") is not None
    teams = soup(admin.get("/teams"))
    assert "Checkout API" in teams.select_one("table.list tbody tr").text


def test_problems_create_and_link(admin: TestClient) -> None:
    created = post_form(admin, "/problems", {"title": "Failover flaps", "key": "failover"})
    assert created.status_code == 303 and created.headers["location"] == "/problems/failover"
    declare(admin, title="First flap", problem="failover")
    declare(admin, title="Second flap", problem="failover")
    page = soup(admin.get("/problems/failover"))
    assert [a.text for a in page.select("td.id a")] == ["INC-2", "INC-1"]
    assert soup(admin.get("/problems")).select_one("td.num").text == "2"
    assert admin.get("/problems/nope").status_code == 404
    bad = post_form(admin, "/problems", {"title": "x", "status": "weird"})
    assert bad.status_code == 422 and soup(bad).select_one("#err-status")


def test_people_teams_over_time_and_roles(admin: TestClient, directory_rows) -> None:
    ada = directory_rows["ada"]
    joined = post_form(
        admin, f"/people/{ada}/memberships", {"team": "payments", "start": "2024-01-01",
                                              "end": "2025-01-01"},
    )  # fmt: skip
    assert joined.status_code == 303
    post_form(admin, f"/people/{ada}/memberships", {"team": "platform", "start": "2025-01-01"})
    backwards = post_form(
        admin, f"/people/{ada}/memberships", {"team": "platform", "start": "2025-01-01",
                                              "end": "2024-01-01"},
    )  # fmt: skip
    assert backwards.status_code == 422
    declare(admin)
    post_form(admin, "/incidents/INC-1/roles", {"role": "scribe", "person_id": ada})
    page = soup(admin.get(f"/people/{ada}"))
    history = page.select("section")[0].select("tbody tr")
    assert [r.td.text for r in history] == ["Platform", "Payments"]
    assert "scribe" in page.select("section")[1].text
    people = soup(admin.get("/people", params={"q": "ada"}))
    assert [a.text for a in people.select("tbody a")] == ["Ada Lovelace"]
    made = post_form(admin, "/people", {"name": "Cy", "email": "cy@example.com",
                                        "time_zone": "Europe/Paris"})  # fmt: skip
    assert made.status_code == 303
    bad_zone = post_form(admin, "/people", {"name": "Di", "time_zone": "Nowhere/Land"})
    assert bad_zone.status_code == 422 and soup(bad_zone).select_one("#err-time_zone")
    assert admin.get("/people/9999").status_code == 404


def test_tokens_are_shown_once_and_can_be_revoked(admin: TestClient) -> None:
    response = post_form(admin, "/account/tokens", {"name": "laptop"})
    assert response.status_code == 201
    secret = soup(response).select_one("#new-token")["value"]
    assert secret.startswith("aa_")
    again = admin.get("/account")
    assert secret not in again.text
    api = TestClient(admin.app)
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    revoke = soup(again).select_one('form[action$="/revoke"]')["action"]
    assert post_form(admin, revoke, {}).status_code == 303
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    nameless = post_form(admin, "/account/tokens", {"name": ""})
    assert nameless.status_code == 422 and soup(nameless).select_one("#err-name")


def test_admin_creates_users_and_changes_roles(admin: TestClient, db: Session) -> None:
    created = post_form(
        admin,
        "/admin/users",
        {"email": "new@example.com", "password": "long enough pw", "role": "viewer"},
    )
    assert created.status_code == 303
    page = soup(admin.get("/admin/users"))
    row = next(r for r in page.select("tbody tr") if "new@example.com" in r.text)
    assert row.select_one("option[selected]")["value"] == "viewer"
    changed = post_form(admin, row.form["action"], {"role": "responder"})
    assert changed.status_code == 303
    assert "now responder" in soup(admin.get("/admin/users")).select_one(".notice").text
    short = post_form(
        admin, "/admin/users", {"email": "b@example.com", "password": "short", "role": "viewer"}
    )
    assert short.status_code == 422
    assert soup(short).select_one("#email")["value"] == "b@example.com"
    assert soup(short).select_one("#err-password") is not None
    dup = post_form(
        admin,
        "/admin/users",
        {"email": "new@example.com", "password": "long enough pw", "role": "viewer"},
    )
    assert dup.status_code == 409
