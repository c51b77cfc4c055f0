"""Confidential interviews: every role × every page, API and feed that could show
interview content. The secret notes, recording link, question and transcript text must
appear only for the incident's investigator, the interviewer and the named reader."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import incident_roles
from afteraction.storage.db import writing
from tests.analysis_fixtures import at, build
from tests.conftest import login, make_user

SECRETS = (
    "SECRET-NOTES-7f3a",
    "https://rec.example/SECRET-REC",
    "SECRET-QUESTION-9",
    "SECRET-CUE-4",
)
VTT = (
    "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Ana Ortiz>SECRET-CUE-4 I was looking at the pool\n"
)


@pytest.fixture
def world(client: TestClient, db: Session) -> dict[str, object]:
    built = build(db)
    with writing(db):
        incident_roles.assign_role(
            db,
            SYSTEM,
            built.incident,
            role="investigator",
            person_id=built.people["dee"],
            start=at(60),
        )
    make_user(db, "inv@example.com", "investigator", person_id=built.people["dee"])
    make_user(db, "other-inv@example.com", "investigator")
    make_user(db, "admin@example.com", "admin")
    make_user(db, "resp@example.com", "responder", person_id=built.people["ben"])
    make_user(db, "viewer@example.com", "viewer")
    make_user(db, "reader@example.com", "viewer")
    login(client, "inv@example.com")
    base = f"/api/v1/incidents/INC-{built.incident}/interviews"
    made = client.post(
        base, json={"person_id": built.people["ana"], "questions": ["SECRET-QUESTION-9"]}
    )
    assert made.status_code == 201, made.text
    iid = made.json()["id"]
    saved = client.patch(
        f"{base}/{iid}",
        json={
            "notes": "SECRET-NOTES-7f3a",
            "recording_url": SECRETS[1],
            "consent": True,
            "readers": ["reader@example.com"],
        },
    )
    assert saved.status_code == 200, saved.text
    page = client.get(f"/incidents/INC-{built.incident}/interviews")
    token = client.headers["X-CSRF-Token"]
    attached = client.post(
        f"/incidents/INC-{built.incident}/interviews/{iid}",
        data={
            "csrf_token": token,
            "action": "transcript",
            "vtt": VTT,
            "recording_start": "2026-11-01T10:00",
            "time_zone": "UTC",
        },
        headers={"X-CSRF-Token": ""},
        follow_redirects=False,
    )
    assert attached.status_code == 303, attached.text
    assert page.status_code == 200
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    return {"number": built.incident, "interview": iid, "interviewee": built.people["ana"]}


def _urls(number: int, iid: int) -> list[str]:
    inc = f"INC-{number}"
    return [
        f"/incidents/{inc}",
        f"/incidents/{inc}/transcript",
        f"/incidents/{inc}/timeline",
        f"/incidents/{inc}/people",
        f"/incidents/{inc}/analysis",
        f"/incidents/{inc}/interviews",
        f"/api/v1/incidents/{inc}/interviews",
        f"/api/v1/incidents/{inc}/interviews/{iid}",
        f"/api/v1/incidents/{inc}/activity",
        f"/api/v1/incidents/{inc}/people",
        f"/api/v1/incidents/{inc}/timeline",
        f"/api/v1/incidents/{inc}/notes",
        f"/api/v1/incidents/{inc}/annotations",
        f"/api/v1/incidents/{inc}",
        "/api/v1/incidents",
        "/search?q=SECRET",
    ]


ALLOWED = {"inv@example.com": True, "reader@example.com": True}
ROLES = [
    "admin@example.com",
    "inv@example.com",
    "other-inv@example.com",
    "resp@example.com",
    "viewer@example.com",
    "reader@example.com",
    None,
]


@pytest.mark.parametrize("email", ROLES)
def test_interview_content_only_for_investigators_and_readers(
    client: TestClient, world: dict[str, object], email: str | None
) -> None:
    if email is not None:
        login(client, email)
    allowed = ALLOWED.get(email or "", False)
    seen_somewhere = False
    for url in _urls(int(world["number"]), int(world["interview"])):
        response = client.get(url, follow_redirects=False)
        body = response.text
        if (
            "/activity" in url
            or "/search" in url
            or "/annotations" in url
            or url.endswith("/notes")
        ):
            assert not any(s in body for s in SECRETS), (email, url)
        elif not allowed:
            assert not any(s in body for s in SECRETS), (email, url)
        if "/interviews" in url and allowed and response.status_code == 200:
            seen_somewhere = seen_somewhere or all(s in body for s in SECRETS[:3])
    assert seen_somewhere == allowed
    if email is None:
        assert client.get(f"/api/v1/incidents/INC-{world['number']}/interviews").status_code == 401


def test_quotes_are_deliberate_and_logged(client: TestClient, world: dict[str, object]) -> None:
    login(client, "inv@example.com")
    base = f"/api/v1/incidents/INC-{world['number']}"
    quoted = client.post(
        f"{base}/interviews/{world['interview']}/quotes",
        json={"passage": "the dashboards hid the pool", "kind": "difficulty"},
    )
    assert quoted.status_code == 201
    feed = client.get(f"{base}/activity").json()["items"]
    assert any(i["action"] == "interview.quoted" for i in feed)
    assert "SECRET" not in str(feed)
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    login(client, "viewer@example.com")
    notes = client.get(f"{base}/notes").json()["items"]
    assert any("the dashboards hid the pool" in n["text"] for n in notes)
    feed = client.get(f"{base}/activity").json()["items"]
    assert feed and not any(i["action"].startswith("interview.") for i in feed)
    # a reader may read but not change
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    login(client, "reader@example.com")
    assert (
        client.patch(f"{base}/interviews/{world['interview']}", json={"notes": "x"}).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("email", "counted"),
    [("inv@example.com", True), ("resp@example.com", False), ("admin@example.com", False)],
)
def test_deleting_an_interviewee_counts_only_the_interviews_one_may_see(
    client: TestClient, world: dict[str, object], email: str, counted: bool
) -> None:
    login(client, email)
    refused = client.delete(f"/api/v1/people/{world['interviewee']}")
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert ("has 1 interview" in error["message"]) is counted
    assert ("interviews" in error["details"]["references"]) is counted
    assert ("records you may not see" in error["message"]) is not counted
