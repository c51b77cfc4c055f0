"""Users follow teams and incidents from the notifications page and the report page."""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import directory
from afteraction.services import incidents as repo
from afteraction.storage import notifications
from afteraction.storage.db import writing
from tests.conftest import login, make_user


def _csrf(page: str) -> str:
    return BeautifulSoup(page, "html.parser").find("input", {"name": "csrf_token"})["value"]


def test_follow_and_unfollow_a_team_and_an_incident(admin: TestClient, db: Session) -> None:
    with writing(db):
        directory.create_team(db, SYSTEM, name="Payments")
        repo.declare(db, SYSTEM, repo.IncidentInput(title="db down", severity="SEV2"))
    page = admin.get("/notifications").text
    assert 'href="/notifications"' in page and "Follow a team" in page
    followed = admin.post("/subscriptions", data={"csrf_token": _csrf(page), "team": "payments"})
    assert "Subscribed to payments" in followed.text and "team Payments" in followed.text
    incident = admin.post("/subscriptions", data={"csrf_token": _csrf(page), "incident": "INC-1"})
    assert incident.status_code == 200
    listed = admin.get("/api/v1/subscriptions").json()["items"]  # the API lists the same
    assert sorted(f["label"] for f in listed) == ["INC-1", "team Payments"]
    [team_sub] = [f for f in listed if f["team"] == "payments"]
    gone = admin.post(f"/subscriptions/{team_sub['id']}/delete", data={"csrf_token": _csrf(page)})
    assert "Unsubscribed" in gone.text
    assert [f["label"] for f in admin.get("/api/v1/subscriptions").json()["items"]] == ["INC-1"]
    again = admin.post(f"/subscriptions/{team_sub['id']}/delete", data={"csrf_token": _csrf(page)})
    assert again.status_code == 404  # said, not a second "Unsubscribed"
    unknown = admin.post("/subscriptions", data={"csrf_token": _csrf(page), "team": "ghosts"})
    assert unknown.status_code == 404 and "team ghosts not found" in unknown.text


def test_report_page_offers_to_follow_the_incident(admin: TestClient, db: Session) -> None:
    with writing(db):
        repo.declare(db, SYSTEM, repo.IncidentInput(title="db down", severity="SEV2"))
    page = admin.get("/incidents/INC-1/report").text
    form = BeautifulSoup(page, "html.parser").find("form", {"action": "/subscriptions"})
    assert form.find("input", {"name": "incident"})["value"] == "INC-1"
    followed = admin.post("/subscriptions", data={"csrf_token": _csrf(page), "incident": "INC-1"})
    assert "report is published" in followed.text


def test_the_api_reads_and_marks_the_inbox_and_follows_as_the_page_does(
    admin: TestClient, app, db: Session
) -> None:
    with writing(db):
        directory.create_team(db, SYSTEM, name="Payments")
        private, _ = repo.declare(
            db, SYSTEM, repo.IncidentInput(title="secret", severity="SEV2", private=True)
        )
    me = admin.get("/api/v1/me").json()["id"]
    with writing(db):
        for n in range(3):
            notifications.notify(db, [me], kind="digest", subject=f"digest {n}", url="/learning")
    box = admin.get("/api/v1/notifications?limit=2").json()
    assert [n["subject"] for n in box["items"]] == ["digest 2", "digest 1"] and box["unread"] == 3
    first = admin.post("/api/v1/notifications/read", json={"ids": [box["items"][0]["id"]]})
    assert first.json() == {"marked": 1}
    page = admin.get("/notifications").text
    assert "2 unread" in page and "Mark all read" in page  # the page counts the same
    marked = admin.post("/notifications/read", data={"csrf_token": _csrf(page)})
    assert "2 marked read." in marked.text
    assert admin.get("/api/v1/notifications").json()["unread"] == 0
    assert admin.post("/api/v1/notifications/read", json={}).json() == {"marked": 0}
    page = admin.get("/notifications").text
    assert "All read" in page and "digest 0" in page and "Mark all read" not in page

    made = admin.post("/api/v1/subscriptions", json={"team": "payments"})
    assert made.status_code == 201 and made.json()["team"] == "payments"
    assert admin.post("/api/v1/subscriptions", json={"team": "payments"}).json() == made.json()
    both = admin.post("/api/v1/subscriptions", json={"team": "payments", "incident": "INC-1"})
    assert both.status_code == 422
    assert "team Payments" in admin.get("/notifications").text  # the page lists it too

    make_user(db, "viewer@example.com", "viewer")
    with TestClient(app) as viewer:
        login(viewer, "viewer@example.com")
        assert viewer.get("/api/v1/subscriptions").json()["items"] == []  # their own only
        hidden = viewer.post("/api/v1/subscriptions", json={"incident": private.public_id})
        assert hidden.status_code == 404  # a private incident they may not see
        theirs = viewer.delete(f"/api/v1/subscriptions/{made.json()['id']}")
        assert theirs.status_code == 404
        assert viewer.get("/api/v1/notifications").json() == {"items": [], "unread": 0}
    assert admin.delete(f"/api/v1/subscriptions/{made.json()['id']}").status_code == 204
    assert admin.get("/api/v1/subscriptions").json()["items"] == []
