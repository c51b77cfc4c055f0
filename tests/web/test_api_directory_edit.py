"""Editing and removing directory rows through the API: only the fields sent change, clashes
and unknown references name the field, deletion is refused while other rows refer to the
row, every write leaves an audit entry, and viewers may only read. Also admin user edits."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import directory
from afteraction.storage.db import writing
from afteraction.storage.tables import AuditLog, Person, TeamMembership, User
from tests.conftest import login, make_user


def _audit(db: Session, action: str) -> list[AuditLog]:
    db.rollback()
    return list(db.scalars(select(AuditLog).where(AuditLog.action == action)))


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


def test_person_patch_changes_only_sent_fields_and_audits(
    admin: TestClient, db: Session, directory_rows: dict[str, int]
) -> None:
    ada = directory_rows["ada"]
    response = admin.patch(
        f"/api/v1/people/{ada}", json={"title": "Staff engineer", "email": "ADA@Example.org"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "Staff engineer"
    assert body["email"] == "ada@example.org"
    assert body["name"] == "Ada Lovelace"
    [entry] = _audit(db, "person.updated")
    assert entry.target_id == str(ada)
    assert entry.before == {"email": "ada@example.com", "title": None}
    assert entry.after == {"email": "ada@example.org", "title": "Staff engineer"}
    cleared = admin.patch(f"/api/v1/people/{ada}", json={"title": None})
    assert cleared.json()["title"] is None


def test_person_patch_validation_names_the_field(
    admin: TestClient, directory_rows: dict[str, int]
) -> None:
    ada, bob = directory_rows["ada"], directory_rows["bob"]
    taken = _error(admin.patch(f"/api/v1/people/{ada}", json={"email": "bob@example.com"}), 409)
    assert taken["details"]["field"] == "email"
    assert "bob@example.com" in taken["message"]
    zone = _error(admin.patch(f"/api/v1/people/{ada}", json={"time_zone": "Mars/Base"}), 422)
    assert zone["details"]["field"] == "time_zone"
    empty = _error(admin.patch(f"/api/v1/people/{ada}", json={"name": ""}), 422)
    assert empty["details"]["field"] == "name"
    unknown = _error(admin.patch(f"/api/v1/people/{ada}", json={"shoe_size": 9}), 422)
    assert unknown["details"]["field"] == "shoe_size"
    itself = _error(admin.patch(f"/api/v1/people/{ada}", json={"manager_id": ada}), 422)
    assert itself["details"]["field"] == "manager_id"
    assert admin.patch(f"/api/v1/people/{ada}", json={"manager_id": bob}).status_code == 200
    assert _error(admin.patch("/api/v1/people/9999", json={"name": "X"}), 404)["code"] == (
        "not_found"
    )


def test_person_delete_refused_while_referenced_then_allowed(
    admin: TestClient, db: Session, directory_rows: dict[str, int]
) -> None:
    ada, bob = directory_rows["ada"], directory_rows["bob"]
    admin.post(f"/api/v1/people/{ada}/memberships", json={"team": "payments"})
    admin.patch(f"/api/v1/people/{bob}", json={"manager_id": ada})
    admin.post("/api/v1/incidents", json={"title": "Outage", "severity": "SEV2"})
    role = admin.post("/api/v1/incidents/INC-1/roles", json={"role": "scribe", "person_id": ada})
    assert role.status_code == 201, role.text
    refused = _error(admin.delete(f"/api/v1/people/{ada}"), 409)
    assert "holds 1 role in incidents" in refused["message"]
    assert refused["details"]["references"] == {"role_assignments": 1}
    make_user(db, "bob@example.com", "viewer", person_id=bob)
    linked = _error(admin.delete(f"/api/v1/people/{bob}"), 409)
    assert "user account" in linked["message"]

    with writing(db):
        carol = directory.create_person(db, SYSTEM, directory.PersonInput(name="Carol"))
        directory.add_membership(db, SYSTEM, person_id=carol.id, team_slug="platform")
        carol_id = carol.id
    admin.patch(f"/api/v1/people/{ada}", json={"manager_id": carol_id})
    assert admin.delete(f"/api/v1/people/{carol_id}").status_code == 204
    db.rollback()
    assert db.scalar(select(Person.id).where(Person.id == carol_id)) is None
    assert db.get(Person, ada).manager_id is None
    memberships = select(TeamMembership).where(TeamMembership.person_id == carol_id)
    assert db.scalars(memberships).all() == []
    [entry] = _audit(db, "person.deleted")
    assert entry.before["name"] == "Carol"
    assert admin.delete(f"/api/v1/people/{carol_id}").status_code == 404


def test_team_patch_and_delete(
    admin: TestClient, db: Session, directory_rows: dict[str, int]
) -> None:
    renamed = admin.patch("/api/v1/teams/payments", json={"name": "Payments core"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Payments core"
    team_id = renamed.json()["id"]
    by_id = admin.get(f"/api/v1/teams/{team_id}")
    assert by_id.status_code == 200 and by_id.json()["slug"] == "payments"
    clash = _error(admin.patch("/api/v1/teams/payments", json={"slug": "platform"}), 409)
    assert clash["details"]["field"] == "slug"
    bad = _error(admin.patch("/api/v1/teams/payments", json={"slug": "Not a slug"}), 422)
    assert bad["details"]["field"] == "slug"
    moved = admin.patch(f"/api/v1/teams/{team_id}", json={"slug": "pay"})
    assert moved.json()["slug"] == "pay"
    assert admin.get("/api/v1/teams/payments").status_code == 404
    [entry] = [e for e in _audit(db, "team.updated") if "slug" in e.after]
    assert entry.before == {"slug": "payments"} and entry.after == {"slug": "pay"}

    admin.post(f"/api/v1/people/{directory_rows['ada']}/memberships", json={"team": "pay"})
    refused = _error(admin.delete("/api/v1/teams/pay"), 409)
    assert "owns 1 service" in refused["message"] and "has 1 membership" in refused["message"]
    admin.post("/api/v1/teams", json={"name": "Spare"})
    admin.post("/api/v1/incidents", json={"title": "x", "severity": "SEV3", "teams": ["spare"]})
    on_incident = _error(admin.delete("/api/v1/teams/spare"), 409)
    assert "named on 1 incident" in on_incident["message"]
    admin.post("/api/v1/teams", json={"name": "Empty"})
    assert admin.delete("/api/v1/teams/empty").status_code == 204
    assert admin.get("/api/v1/teams/empty").status_code == 404
    assert len(_audit(db, "team.deleted")) == 1


def test_service_patch_and_delete(
    admin: TestClient,
    db: Session,
    directory_rows: dict[str, int],
) -> None:
    moved = admin.patch("/api/v1/services/checkout", json={"team": "platform", "tier": 1})
    assert moved.status_code == 200, moved.text
    assert moved.json()["team"] == "platform" and moved.json()["tier"] == 1
    [entry] = _audit(db, "service.updated")
    assert entry.before == {"team": "payments", "tier": 2}
    no_team = _error(admin.patch("/api/v1/services/checkout", json={"team": "ghosts"}), 422)
    assert no_team["details"]["field"] == "team"
    tier = _error(admin.patch("/api/v1/services/checkout", json={"tier": 7}), 422)
    assert tier["details"]["field"] == "tier"
    clash = _error(admin.patch("/api/v1/services/checkout", json={"slug": "search"}), 409)
    assert clash["details"]["field"] == "slug"
    orphan = admin.patch("/api/v1/services/checkout", json={"team": None})
    assert orphan.json()["team"] is None
    assert admin.patch("/api/v1/services/nope", json={"tier": 1}).status_code == 404

    admin.post("/api/v1/incidents", json={"title": "x", "severity": "SEV3", "services": ["search"]})
    refused = _error(admin.delete("/api/v1/services/search"), 409)
    assert "named on 1 incident" in refused["message"]
    assert admin.delete("/api/v1/services/checkout").status_code == 204
    assert admin.get("/api/v1/services/checkout").status_code == 404
    assert len(_audit(db, "service.deleted")) == 1


def test_problem_patch_and_delete(admin: TestClient, db: Session) -> None:
    admin.post("/api/v1/problems", json={"title": "Failover flaps", "key": "failover"})
    admin.post("/api/v1/problems", json={"title": "Slow disks", "key": "disks"})
    changed = admin.patch(
        "/api/v1/problems/failover", json={"status": "known error", "workaround": "restart"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "known error"
    status = _error(admin.patch("/api/v1/problems/failover", json={"status": "weird"}), 422)
    assert status["details"]["field"] == "status"
    clash = _error(admin.patch("/api/v1/problems/failover", json={"key": "disks"}), 409)
    assert clash["details"]["field"] == "key"
    bad_key = _error(admin.patch("/api/v1/problems/failover", json={"key": "No Key"}), 422)
    assert bad_key["details"]["field"] == "key"
    [entry] = _audit(db, "problem.updated")
    assert entry.after == {"status": "known error", "workaround": "restart"}

    admin.post("/api/v1/incidents", json={"title": "x", "severity": "SEV3", "problem": "failover"})
    refused = _error(admin.delete("/api/v1/problems/failover"), 409)
    assert "linked to 1 incident" in refused["message"]
    assert admin.delete("/api/v1/problems/disks").status_code == 204
    assert admin.get("/api/v1/problems/disks").status_code == 404
    assert admin.delete("/api/v1/problems/disks").status_code == 404
    assert [e.target_id for e in _audit(db, "problem.deleted")] == ["disks"]


def test_viewer_may_not_edit_or_delete(
    login_as: Callable[..., TestClient], db: Session, directory_rows: dict[str, int]
) -> None:
    viewer = login_as("viewer")
    ada = directory_rows["ada"]
    attempts = [
        viewer.patch(f"/api/v1/people/{ada}", json={"title": "x"}),
        viewer.delete(f"/api/v1/people/{ada}"),
        viewer.patch("/api/v1/teams/payments", json={"name": "x"}),
        viewer.delete("/api/v1/teams/payments"),
        viewer.patch("/api/v1/services/checkout", json={"tier": 1}),
        viewer.delete("/api/v1/services/checkout"),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert attempts[0].json()["error"]["code"] == "permission_denied"
    assert _audit(db, "person.updated") == []


def test_responder_may_edit_the_directory(
    login_as: Callable[..., TestClient],
    directory_rows: dict[str, int],
) -> None:
    responder = login_as("responder")
    assert responder.patch("/api/v1/teams/payments", json={"name": "P"}).status_code == 200


def test_admin_changes_role_and_disables_user(
    admin: TestClient, client: TestClient, db: Session
) -> None:
    user_id = make_user(db, "rita@example.com", "viewer")
    promoted = admin.patch(f"/api/v1/users/{user_id}", json={"role": "responder"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "responder"
    bad = _error(admin.patch(f"/api/v1/users/{user_id}", json={"role": "boss"}), 422)
    assert bad["details"]["field"] == "role"
    disabled = admin.patch(f"/api/v1/users/{user_id}", json={"active": False})
    assert disabled.json()["is_active"] is False
    [entry] = [e for e in _audit(db, "user.updated") if "is_active" in e.after]
    assert entry.before == {"is_active": True} and entry.target_id == str(user_id)
    admin_id = db.scalar(select(User.id).where(User.email == "admin@example.com"))
    alone = _error(admin.patch(f"/api/v1/users/{admin_id}", json={"active": False}), 422)
    assert "only active admin" in alone["message"]
    assert admin.patch("/api/v1/users/9999", json={"active": True}).status_code == 404

    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    refused = client.post(
        "/login",
        data={
            "email": "rita@example.com",
            "password": "correct horse battery",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert refused.status_code != 303


def test_non_admin_may_not_edit_users(login_as: Callable[..., TestClient], db: Session) -> None:
    other = make_user(db, "someone@example.com", "viewer")
    investigator = login_as("investigator")
    response = investigator.patch(f"/api/v1/users/{other}", json={"role": "admin"})
    assert _error(response, 403)["code"] == "permission_denied"
    db.rollback()
    assert db.get(User, other).role == "viewer"


def test_a_problem_never_counts_an_incident_the_caller_may_not_see(
    admin: TestClient, app: object, db: Session
) -> None:
    """The problem's incident list and count (GET, PATCH and the problems page) go through
    the one visibility rule: a private incident is neither listed nor counted for a
    responder who holds no role on it."""
    admin.post("/api/v1/problems", json={"title": "Failover flaps", "key": "failover"})
    for title, private in (("Public one", False), ("Secret one", True)):
        created = admin.post(
            "/api/v1/incidents",
            json={"title": title, "severity": "SEV3", "problem": "failover", "private": private},
        )
        assert created.status_code == 201, created.text
    make_user(db, "responder@example.com", "responder")
    with TestClient(app) as other:  # type: ignore[arg-type]
        responder = login(other, "responder@example.com")
        seen = responder.get("/api/v1/problems/failover").json()
        assert [i["title"] for i in seen["incidents"]] == ["Public one"]
        assert seen["incident_count"] == 1
        patched = responder.patch("/api/v1/problems/failover", json={"workaround": "restart"})
        assert patched.status_code == 200, patched.text
        assert patched.json()["incident_count"] == 1
        page = responder.get("/problems")
        assert "Secret one" not in responder.get("/problems/failover").text
        assert page.status_code == 200
    assert admin.get("/api/v1/problems/failover").json()["incident_count"] == 2
