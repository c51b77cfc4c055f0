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
    user_id = admin.get("/api/v1/me").json()["id"]
    labels = [label for _, label in notifications.subscriptions_of(db, user_id)]
    assert sorted(labels) == ["INC-1", "team Payments"]
    [(team_sub, _)] = [s for s in notifications.subscriptions_of(db, user_id) if s[0].team_id]
    gone = admin.post(f"/subscriptions/{team_sub.id}/delete", data={"csrf_token": _csrf(page)})
    assert "Unsubscribed" in gone.text
    db.rollback()  # end the read snapshot taken before the request
    assert [label for _, label in notifications.subscriptions_of(db, user_id)] == ["INC-1"]
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
