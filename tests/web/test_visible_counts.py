"""Counts shown to a user include only incidents that user may see (issue 17, point 10):
a private incident adds to a problem's incident count and to a person's open reviews only
for those who may see it."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM, Actor
from afteraction.services import directory, reviews
from afteraction.services import incidents as repo
from afteraction.storage.db import writing
from tests.conftest import login, make_user

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _declare(db: Session, title: str, *, private: bool, problem: str | None = None) -> int:
    incident, _ = repo.declare(
        db,
        SYSTEM,
        repo.IncidentInput(
            title=title, severity="SEV2", private=private, problem=problem,
            milestones={"started": T0, "declared": T0},
        ),
    )  # fmt: skip
    return incident.number


def test_problem_counts_leave_out_private_incidents(client: TestClient, db: Session) -> None:
    with writing(db):
        key = directory.create_problem(db, SYSTEM, title="Pool exhaustion").key
        _declare(db, "public one", private=False, problem=key)
        _declare(db, "hidden one", private=True, problem=key)
    make_user(db, "viewer@example.com", "viewer")
    make_user(db, "admin@example.com", "admin")
    login(client, "viewer@example.com")
    [row] = client.get("/api/v1/problems").json()["items"]
    assert row["incident_count"] == 1
    login(client, "admin@example.com")
    [row] = client.get("/api/v1/problems").json()["items"]
    assert row["incident_count"] == 2


def test_open_review_counts_leave_out_private_incidents(db: Session) -> None:
    with writing(db):
        dee = directory.create_person(db, SYSTEM, directory.PersonInput(name="Dee")).id
        for title, private in (("public", False), ("private", True)):
            number = _declare(db, title, private=private)
            reviews.assign_investigator(db, SYSTEM, number, dee)
    viewer = Actor(user_id=None, label="viewer", role="viewer")
    assert reviews.open_review_count(db, SYSTEM, dee) == 2
    assert reviews.open_review_count(db, viewer, dee) == 1
