"""Edit and delete forms of people, teams, services and problems: messages beside the field
with the typed values kept, refusals with their reason, a confirmation tick before a
deletion, notices after success, audit entries, and no forms for viewers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.storage.tables import AuditLog, Person, Service, Team, User
from tests.conftest import make_user
from tests.web.conftest import declare, post_form, soup


def _actions(db: Session) -> list[str]:
    db.rollback()
    return list(db.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def _person_form(**changes: str) -> dict[str, object]:
    return {"name": "Ada Lovelace", "email": "ada@example.com"} | changes


def test_person_edit_form_saves_and_keeps_values_on_error(
    admin: TestClient, db: Session, directory_rows: dict[str, int]
) -> None:
    ada = directory_rows["ada"]
    person_page = soup(admin.get(f"/people/{ada}"))
    assert person_page.select_one(f'a[href="/people/{ada}/edit"]') is not None
    form = soup(admin.get(f"/people/{ada}/edit"))
    assert form.select_one("#name")["value"] == "Ada Lovelace"
    assert form.select_one("#email")["value"] == "ada@example.com"

    taken = post_form(
        admin, f"/people/{ada}/edit", _person_form(email="bob@example.com", title="Lead")
    )
    assert taken.status_code == 409
    page = soup(taken)
    assert "bob@example.com" in page.select_one("#err-email").text
    assert page.select_one("#email")["aria-invalid"] == "true"
    assert page.select_one("#title")["value"] == "Lead"

    zone = post_form(admin, f"/people/{ada}/edit", _person_form(time_zone="Mars/Base"))
    assert zone.status_code == 422 and soup(zone).select_one("#err-time_zone")
    day = post_form(admin, f"/people/{ada}/edit", _person_form(start_date="yesterday"))
    assert day.status_code == 422 and soup(day).select_one("#err-start_date")
    empty = post_form(admin, f"/people/{ada}/edit", _person_form(name=""))
    assert empty.status_code == 422 and soup(empty).select_one("#err-name")

    saved = post_form(
        admin,
        f"/people/{ada}/edit",
        _person_form(
            title="Lead", time_zone="Europe/London", manager_id=str(directory_rows["bob"])
        ),
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/people/{ada}"
    shown = soup(admin.get(f"/people/{ada}"))
    assert "Saved Ada Lovelace." in shown.select_one("[role=status]").text
    assert "Europe/London" in shown.select_one("dl.facts").text
    assert _actions(db).count("person.updated") == 1


def test_person_delete_needs_confirmation_and_is_refused_while_referenced(
    admin: TestClient, db: Session, directory_rows: dict[str, int]
) -> None:
    ada, bob = directory_rows["ada"], directory_rows["bob"]
    unticked = post_form(admin, f"/people/{bob}/delete", {})
    assert unticked.status_code == 422
    assert "confirm" in soup(unticked).select_one("#err-confirm").text
    declare(admin)
    post_form(admin, "/incidents/INC-1/roles", {"role": "scribe", "person_id": ada})
    refused = post_form(admin, f"/people/{ada}/delete", {"confirm": "yes"})
    assert refused.status_code == 409
    assert "holds 1 role in incidents" in soup(refused).select_one("#err-delete").text
    assert soup(refused).select_one("#name")["value"] == "Ada Lovelace"

    deleted = post_form(admin, f"/people/{bob}/delete", {"confirm": "yes"})
    assert deleted.status_code == 303 and deleted.headers["location"] == "/people"
    listing = soup(admin.get("/people"))
    assert "Deleted Bob Ross." in listing.select_one("[role=status]").text
    assert "Bob Ross" not in listing.select_one("table.list").text
    db.rollback()
    assert db.scalar(select(Person.id).where(Person.id == bob)) is None
    assert "person.deleted" in _actions(db)


@pytest.mark.usefixtures("directory_rows")
def test_team_edit_and_delete(admin: TestClient, db: Session) -> None:
    teams = soup(admin.get("/teams"))
    assert teams.select_one('a[href="/teams/payments/edit"]') is not None
    clash = post_form(admin, "/teams/payments/edit", {"name": "Pay", "slug": "platform"})
    assert clash.status_code == 409
    assert "already used" in soup(clash).select_one("#err-slug").text
    assert soup(clash).select_one("#name")["value"] == "Pay"
    bad = post_form(admin, "/teams/payments/edit", {"name": "Pay", "slug": "Bad Slug"})
    assert bad.status_code == 422 and soup(bad).select_one("#err-slug")
    saved = post_form(
        admin, "/teams/payments/edit", {"name": "Payments core", "slug": "pay", "description": "d"}
    )
    assert saved.status_code == 303
    assert "Payments core" in soup(admin.get("/teams")).select_one("table.list").text

    refused = post_form(admin, "/teams/pay/delete", {"confirm": "yes"})
    assert refused.status_code == 409
    assert "owns 1 service" in soup(refused).select_one("#err-delete").text
    post_form(admin, "/teams", {"name": "Spare"})
    assert post_form(admin, "/teams/spare/delete", {"confirm": "yes"}).status_code == 303
    db.rollback()
    assert db.scalar(select(Team.id).where(Team.slug == "spare")) is None
    assert {"team.updated", "team.deleted"} <= set(_actions(db))
    assert admin.get("/teams/spare/edit").status_code == 404


@pytest.mark.usefixtures("directory_rows")
def test_service_edit_and_delete(admin: TestClient, db: Session) -> None:
    services = soup(admin.get("/services"))
    assert services.select_one('a[href="/services/checkout/edit"]') is not None
    form = soup(admin.get("/services/checkout/edit"))
    assert form.select_one("#team option[selected]")["value"] == "payments"
    bad_tier = post_form(
        admin, "/services/checkout/edit", {"name": "Checkout", "slug": "checkout", "tier": "9"}
    )
    assert bad_tier.status_code == 422 and soup(bad_tier).select_one("#err-tier")
    ghost = post_form(
        admin,
        "/services/checkout/edit",
        {"name": "Checkout", "slug": "checkout", "tier": "1", "team": "ghosts"},
    )
    assert ghost.status_code == 422 and soup(ghost).select_one("#err-team")
    saved = post_form(
        admin,
        "/services/checkout/edit",
        {"name": "Checkout", "slug": "checkout", "tier": "1", "team": "platform"},
    )
    assert saved.status_code == 303
    db.rollback()
    service = db.scalar(select(Service).where(Service.slug == "checkout"))
    assert service is not None and service.tier == 1 and service.team.slug == "platform"

    declare(admin, services="search")
    refused = post_form(admin, "/services/search/delete", {"confirm": "yes"})
    assert refused.status_code == 409
    assert "named on 1 incident" in soup(refused).select_one("#err-delete").text
    assert post_form(admin, "/services/checkout/delete", {"confirm": "yes"}).status_code == 303
    assert "service.deleted" in _actions(db)


def test_problem_edit_and_delete(admin: TestClient, db: Session) -> None:
    post_form(admin, "/problems", {"title": "Failover flaps", "key": "failover"})
    post_form(admin, "/problems", {"title": "Slow disks", "key": "disks"})
    page = soup(admin.get("/problems/failover"))
    assert page.select_one('a[href="/problems/failover/edit"]') is not None
    fields = {"title": "Failover flaps", "key": "failover", "status": "weird"}
    bad = post_form(admin, "/problems/failover/edit", fields)
    assert bad.status_code == 422 and soup(bad).select_one("#err-status")
    clash = post_form(admin, "/problems/failover/edit", fields | {"status": "open", "key": "disks"})
    assert clash.status_code == 409 and soup(clash).select_one("#err-key")
    saved = post_form(
        admin, "/problems/failover/edit", fields | {"status": "known error", "key": "flaps"}
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/problems/flaps"
    assert "known error" in soup(admin.get("/problems/flaps")).select_one("h1").text

    declare(admin, problem="flaps")
    refused = post_form(admin, "/problems/flaps/delete", {"confirm": "yes"})
    assert refused.status_code == 409
    assert "linked to 1 incident" in soup(refused).select_one("#err-delete").text
    assert post_form(admin, "/problems/disks/delete", {"confirm": "yes"}).status_code == 303
    assert admin.get("/problems/disks").status_code == 404
    assert {"problem.updated", "problem.deleted"} <= set(_actions(db))


def test_viewer_sees_no_edit_links_and_is_refused(
    login_as: Callable[..., TestClient], db: Session, directory_rows: dict[str, int]
) -> None:
    viewer = login_as("viewer")
    ada = directory_rows["ada"]
    assert soup(viewer.get(f"/people/{ada}")).select_one(f'a[href="/people/{ada}/edit"]') is None
    assert soup(viewer.get("/teams")).select_one('a[href="/teams/payments/edit"]') is None
    assert viewer.get(f"/people/{ada}/edit").status_code == 403
    assert viewer.get("/services/checkout/edit").status_code == 403
    edit = post_form(viewer, "/teams/payments/edit", {"name": "Mine", "slug": "payments"})
    assert edit.status_code == 403
    removal = post_form(viewer, f"/people/{ada}/delete", {"confirm": "yes"})
    assert removal.status_code == 403
    actions = _actions(db)
    assert "team.updated" not in actions and "person.deleted" not in actions


def test_forms_without_csrf_token_are_refused(
    admin: TestClient, directory_rows: dict[str, int]
) -> None:
    ada = directory_rows["ada"]
    response = admin.post(
        f"/people/{ada}/delete",
        data={"confirm": "yes"},
        headers={"X-CSRF-Token": ""},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert admin.get(f"/people/{ada}").status_code == 200


def test_admin_disables_and_enables_a_user(admin: TestClient, db: Session) -> None:
    rita = make_user(db, "rita@example.com", "viewer")
    disabled = post_form(admin, f"/admin/users/{rita}/active", {"active": "no"})
    assert disabled.status_code == 303
    listing = soup(admin.get("/admin/users"))
    assert "rita@example.com is now disabled." in listing.select_one("[role=status]").text
    db.rollback()
    assert db.get(User, rita).is_active is False
    assert "user.updated" in _actions(db)
    admin_id = db.scalar(select(User.id).where(User.email == "admin@example.com"))
    alone = post_form(admin, f"/admin/users/{admin_id}/active", {"active": "no"})
    assert alone.status_code == 422
    assert "only active admin" in soup(alone).select_one("#err-active").text
    enabled = post_form(admin, f"/admin/users/{rita}/active", {"active": "yes"})
    assert enabled.status_code == 303
    db.rollback()
    assert db.get(User, rita).is_active is True
