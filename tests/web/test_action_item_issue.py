"""The incident page offers to open a tracker issue for an action item without a link."""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import action_items
from afteraction.services import incidents as repo
from afteraction.storage.db import writing
from tests.conftest import login, make_user, token_of


def _item(db: Session) -> int:
    with writing(db):
        repo.declare(db, SYSTEM, repo.IncidentInput(title="db down", severity="SEV2"))
        return action_items.add_action_item(db, SYSTEM, 1, title="Add a canary").id


def _csrf(page: str) -> str:
    return BeautifulSoup(page, "html.parser").find("input", {"name": "csrf_token"})["value"]


def test_open_issue_without_a_tracker_explains_and_keeps_the_item(
    admin: TestClient, db: Session
) -> None:
    item_id = _item(db)
    page = admin.get("/incidents/INC-1").text
    assert f'action="/action-items/{item_id}/issue"' in page
    response = admin.post(
        f"/action-items/{item_id}/issue",
        data={"csrf_token": _csrf(page), "system": "jira", "next": "/incidents/INC-1"},
    )
    assert response.status_code == 200  # followed the redirect back to the incident
    assert "Jira is not configured" in response.text
    stored = admin.post(
        f"/action-items/{item_id}/issue",
        data={
            "csrf_token": _csrf(page),
            "url": "https://jira.example.com/browse/PAY-9",
            "next": "/incidents/INC-1",
        },
    )
    assert "Link stored" in stored.text
    assert f'action="/action-items/{item_id}/issue"' not in stored.text
    assert "https://jira.example.com/browse/PAY-9" in stored.text


def test_viewers_cannot_open_an_issue_for_an_item(client: TestClient, db: Session) -> None:
    """Opening an issue stores its link on the item: a write, refused to viewers before the
    tracker's configuration is even looked at."""
    item_id = _item(db)
    make_user(db, "viewer@example.com", "viewer")
    viewer = login(client, "viewer@example.com")
    page = viewer.get("/incidents/INC-1").text
    assert f'action="/action-items/{item_id}/issue"' not in page
    response = viewer.post(
        f"/action-items/{item_id}/issue",
        data={"csrf_token": token_of(viewer), "system": "jira", "next": "/incidents/INC-1"},
        follow_redirects=False,
    )
    assert response.status_code == 403
