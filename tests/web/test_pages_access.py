"""Who sees what on every page: private incidents stay hidden from people without a role on
them, viewers get no write forms, and only admins reach user administration."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import action_items, directory, incident_roles
from afteraction.services import incidents as repo
from afteraction.storage.db import writing
from tests.web.conftest import post_form, soup

SECRET = "Secret acquisition outage"


def _seed(db: Session, people: dict[str, int]) -> None:
    with writing(db):
        directory.create_problem(db, SYSTEM, title="Flaky failover", key="failover")
        public = repo.IncidentInput(title="Public outage", severity="SEV2", problem="failover")
        hidden = repo.IncidentInput(title=SECRET, severity="SEV1", private=True, problem="failover")
        repo.declare(db, SYSTEM, public)
        repo.declare(db, SYSTEM, hidden)
        for number in (1, 2):
            action_items.add_action_item(
                db, SYSTEM, number, title=f"Item of {number}", owner_id=people["ada"]
            )
            incident_roles.assign_role(
                db, SYSTEM, number, role="commander", person_id=people["ada"]
            )
        incident_roles.assign_role(db, SYSTEM, 2, role="investigator", person_id=people["bob"])


def _pages(people: dict[str, int]) -> list[str]:
    return [
        "/incidents",
        "/incidents?q=Secret",
        "/action-items",
        "/problems",
        "/problems/failover",
        f"/people/{people['ada']}",
    ]


def test_private_incident_hidden_from_viewer_on_every_page(
    login_as: Callable[..., TestClient], db: Session, directory_rows: dict[str, int]
) -> None:
    _seed(db, directory_rows)
    viewer = login_as("viewer")
    for path in _pages(directory_rows):
        response = viewer.get(path)
        assert response.status_code == 200, path
        assert SECRET not in response.text, path
        assert "INC-2" not in response.text, path
        assert "Item of 2" not in response.text, path
    assert viewer.get("/incidents/INC-2").status_code == 404
    assert viewer.get("/incidents/INC-2/edit").status_code == 404
    problems = soup(viewer.get("/problems"))
    assert problems.select_one("td.num").text == "1"  # the private one is not counted


def test_private_incident_visible_to_its_investigator_and_admin(
    login_as: Callable[..., TestClient], db: Session, directory_rows: dict[str, int]
) -> None:
    _seed(db, directory_rows)
    investigator = login_as("investigator", person_id=directory_rows["bob"])
    assert SECRET in investigator.get("/incidents").text
    assert SECRET in investigator.get("/problems/failover").text
    assert investigator.get("/incidents/INC-2").status_code == 200
    admin = login_as("admin")
    assert "Item of 2" in admin.get("/action-items").text


def test_responder_without_role_cannot_write_to_private_incident(
    login_as: Callable[..., TestClient], db: Session, directory_rows: dict[str, int]
) -> None:
    _seed(db, directory_rows)
    responder = login_as("responder")
    response = post_form(responder, "/incidents/INC-2/updates", {"body": "peek"})
    assert response.status_code == 404
    assert SECRET not in response.text


def test_viewer_sees_no_write_forms_and_cannot_post(
    login_as: Callable[..., TestClient], db: Session, directory_rows: dict[str, int]
) -> None:
    _seed(db, directory_rows)
    viewer = login_as("viewer")
    for path in ["/incidents", "/incidents/INC-1", "/action-items", "/problems", "/services",
                 "/teams", "/people", f"/people/{directory_rows['ada']}"]:  # fmt: skip
        page = soup(viewer.get(path))
        forms = list(page.select('main form[method="post"]'))
        assert forms == [], (path, [f.get("action") for f in forms])
    assert 'href="/incidents/new"' not in viewer.get("/incidents").text
    refused = post_form(viewer, "/incidents/new", {"title": "x", "severity": "SEV2"})
    assert refused.status_code == 403
    assert post_form(viewer, "/incidents/INC-1/updates", {"body": "x"}).status_code == 403
    assert post_form(viewer, "/teams", {"name": "Sneaky"}).status_code == 403


def test_only_admins_reach_user_administration(
    login_as: Callable[..., TestClient], db: Session
) -> None:
    responder = login_as("responder")
    response = responder.get("/admin/users")
    assert response.status_code == 403
    assert "admin" in soup(response).select_one("[role=alert]").text
    assert 'href="/admin/users"' not in responder.get("/incidents").text
    assert post_form(responder, "/admin/users/1/role", {"role": "admin"}).status_code == 403
    assert (
        post_form(
            responder,
            "/admin/users",
            {"email": "x@example.com", "password": "long enough pw", "role": "admin"},
        ).status_code
        == 403
    )


def test_person_page_for_users_linked_to_a_person(
    login_as: Callable[..., TestClient], db: Session, directory_rows: dict[str, int]
) -> None:
    """The roles a person held, as seen by a user who is a person too: the private incident
    shows for its investigator only (the visibility rule's subquery over role assignments
    inside a query over role assignments)."""
    _seed(db, directory_rows)
    ada = f"/people/{directory_rows['ada']}"
    investigator = login_as("investigator", person_id=directory_rows["bob"])
    seen = investigator.get(ada)
    assert seen.status_code == 200
    assert SECRET in seen.text
    with writing(db):
        outsider = directory.create_person(db, SYSTEM, directory.PersonInput(name="Cy Dale"))
    responder = login_as("responder", person_id=outsider.id)
    hidden = responder.get(ada)
    assert hidden.status_code == 200
    assert SECRET not in hidden.text
