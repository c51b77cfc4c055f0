"""The incidents API through the real app: CRUD, lifecycle, milestones, errors, privacy."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.core import times
from afteraction.core.access import SYSTEM
from afteraction.services import directory
from afteraction.storage.db import writing
from tests.conftest import login, make_user


def _declare(client: TestClient, **extra: object) -> dict:
    body = {"title": "Checkout latency", "severity": "SEV2"} | extra
    response = client.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_declare_and_read(admin: TestClient) -> None:
    created = _declare(admin, summary="p99 above 2 s", tags=["Latency", "latency"])
    assert created["id"] == "INC-1"
    assert created["status"] == "triage"
    assert created["tags"] == ["latency"]
    assert created["milestones"]["declared"] is not None
    assert created["milestones"]["started"] == created["milestones"]["declared"]
    fetched = admin.get("/api/v1/incidents/INC-1").json()
    assert fetched["title"] == "Checkout latency"
    assert admin.get("/api/v1/incidents/1").json()["id"] == "INC-1"


def test_anonymous_gets_401_with_error_shape(client: TestClient) -> None:
    response = client.get("/api/v1/incidents")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_status_change_sets_milestone_and_rejects_bad_transition(admin: TestClient) -> None:
    _declare(admin, milestones={"started": "2026-01-01T08:00:00Z"})
    moved = admin.post(
        "/api/v1/incidents/INC-1/status",
        json={"status": "investigating", "at": "2026-01-01T10:05:00+01:00"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["milestones"]["acknowledged"] == "2026-01-01T09:05:00+00:00"
    bad = admin.post("/api/v1/incidents/INC-1/status", json={"status": "closed"})
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["code"] == "invalid_transition"
    assert error["details"]["field"] == "status"
    assert "resolved" in error["details"]["allowed"]


def test_milestones_out_of_order_need_override(admin: TestClient) -> None:
    body = {"milestones": {"started": "2026-01-02T10:00:00Z", "resolved": "2026-01-01T10:00:00Z"}}
    _declare(admin, milestones={"started": "2026-01-01T09:00:00Z"})
    refused = admin.put("/api/v1/incidents/INC-1/milestones", json=body)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "milestone_order"
    allowed = admin.put(
        "/api/v1/incidents/INC-1/milestones", json=body | {"allow_out_of_order": True}
    )
    assert allowed.status_code == 200
    assert allowed.json()["warnings"]
    history = admin.get("/api/v1/incidents/INC-1/milestones/history").json()["items"]
    assert {h["milestone"] for h in history} >= {"started", "resolved"}


def test_bad_input_is_4xx_naming_the_field(admin: TestClient) -> None:
    cases = [
        ({"title": "", "severity": "SEV2"}, "title"),
        ({"title": "x" * 301, "severity": "SEV2"}, "title"),
        ({"title": "x", "severity": "SEV9"}, "severity"),
        ({"title": "x", "severity": "SEV2", "type": "party"}, "type"),
        ({"title": "x", "severity": "SEV2", "services": ["nope"]}, "service"),
        ({"title": "x", "severity": 3}, "severity"),
        (
            {"title": "x", "severity": "SEV2", "milestones": {"started": "2026-01-01T10:00:00"}},
            "milestones.started",
        ),
    ]
    for body, field in cases:
        response = admin.post("/api/v1/incidents", json=body)
        assert 400 <= response.status_code < 500, (body, response.text)
        assert response.json()["error"]["details"]["field"] == field, (body, response.json())
    naive = admin.post("/api/v1/incidents", json=cases[-1][0]).json()["error"]
    assert naive["message"] == times.naive_message("started")  # as the CLI and forms say it
    assert admin.get("/api/v1/incidents/INC-999").status_code == 404
    assert admin.get("/api/v1/incidents/banana").status_code == 422
    assert admin.get("/api/v1/incidents?limit=0").status_code == 422
    assert admin.get("/api/v1/incidents?sort=bogus").status_code == 422
    assert admin.get("/api/v1/incidents").json()["total"] == 0


def test_list_filters_and_pagination(admin: TestClient, db: Session) -> None:
    with writing(db):
        directory.create_team(db, SYSTEM, name="Payments")
        directory.create_service(db, SYSTEM, name="Checkout API", team_slug="payments")
    for n in range(7):
        _declare(
            admin,
            title=f"incident {n}",
            severity="SEV1" if n % 2 else "SEV3",
            services=["checkout-api"] if n < 3 else [],
        )
    page = admin.get("/api/v1/incidents?limit=3").json()
    assert page["total"] == 7 and [i["id"] for i in page["items"]] == ["INC-7", "INC-6", "INC-5"]
    assert page["next_offset"] == 3
    assert admin.get("/api/v1/incidents?severity=sev1").json()["total"] == 3
    assert admin.get("/api/v1/incidents?service=checkout-api").json()["total"] == 3
    assert admin.get("/api/v1/incidents?q=incident%204").json()["total"] == 1
    assert admin.get("/api/v1/incidents?sort=number&limit=1").json()["items"][0]["id"] == "INC-1"


def test_private_incident_hidden_from_viewers(client: TestClient, db: Session) -> None:
    make_user(db, "admin@example.com", "admin")
    make_user(db, "viewer@example.com", "viewer")
    login(client, "admin@example.com")
    _declare(client, title="secret", private=True)
    _declare(client, title="public")
    client.cookies.clear()
    login(client, "viewer@example.com")
    listing = client.get("/api/v1/incidents").json()
    assert [i["title"] for i in listing["items"]] == ["public"]
    assert client.get("/api/v1/incidents/INC-1").status_code == 404
    assert (
        client.post("/api/v1/incidents", json={"title": "x", "severity": "SEV2"}).status_code == 403
    )


def test_concurrent_edit_conflict(admin: TestClient) -> None:
    created = _declare(admin)
    first = admin.patch(
        "/api/v1/incidents/INC-1", json={"title": "A", "version": created["version"]}
    )
    assert first.status_code == 200
    stale = admin.patch(
        "/api/v1/incidents/INC-1", json={"title": "B", "version": created["version"]}
    )
    assert stale.status_code == 409
    assert admin.get("/api/v1/incidents/INC-1").json()["title"] == "A"


def test_csrf_required_for_cookie_writes(admin: TestClient) -> None:
    del admin.headers["X-CSRF-Token"]
    response = admin.post("/api/v1/incidents", json={"title": "x", "severity": "SEV2"})
    assert response.status_code == 403
    assert response.json()["error"]["details"]["field"] == "csrf_token"


def test_token_auth(admin: TestClient) -> None:
    issued = admin.post("/api/v1/tokens", json={"name": "ci"}).json()
    admin.cookies.clear()
    headers = {"Authorization": f"Bearer {issued['token']}"}
    created = admin.post(
        "/api/v1/incidents", json={"title": "via token", "severity": "SEV4"}, headers=headers
    )
    assert created.status_code == 201
    bad = admin.get("/api/v1/incidents", headers={"Authorization": "Bearer aa_nope"})
    assert bad.status_code == 401


def test_healthz_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/incidents" in spec["paths"]
