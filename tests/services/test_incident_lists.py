"""The incident list API's fast path (plain rows, no ORM objects) returns exactly what the
ORM path would: same page, same order, same JSON for every incident, privacy included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM, Actor
from afteraction.services import directory
from afteraction.services import incidents as repo
from afteraction.services.schemas import incident_read, incident_summary_read
from afteraction.storage import incident_lists
from afteraction.storage.db import writing


def _seed(db: Session) -> None:
    with writing(db):
        directory.create_team(db, SYSTEM, name="Payments", slug="payments")
        directory.create_team(db, SYSTEM, name="Edge", slug="edge")
        directory.create_service(db, SYSTEM, name="Checkout", slug="checkout", team_slug="payments")
        directory.create_service(db, SYSTEM, name="API", slug="api", team_slug="edge")
        directory.create_problem(db, SYSTEM, title="Pool exhaustion", key="pool-exhaustion")
        for number in range(1, 8):
            repo.declare(
                db,
                SYSTEM,
                repo.IncidentInput(
                    title=f"Incident {number}",
                    severity=f"SEV{1 + number % 4}",
                    services=("checkout", "api")[: 1 + number % 2],
                    teams=("payments", "edge")[number % 2 :],
                    tags=("latency", "db")[: number % 3],
                    problem="pool-exhaustion" if number % 3 == 0 else None,
                    private=number == 5,
                    milestones={"started": datetime(2026, 1, number, 9, tzinfo=UTC)},
                ),
            )


@pytest.mark.parametrize(
    "filters",
    [
        incident_lists.IncidentFilters(),
        incident_lists.IncidentFilters(sort="started", limit=3, offset=2),
        incident_lists.IncidentFilters(problem="pool-exhaustion"),
        incident_lists.IncidentFilters(service=["api"], tag=["db"]),
        incident_lists.IncidentFilters(offset=50),
    ],
)
def test_summaries_match_orm_rows(db: Session, filters: incident_lists.IncidentFilters) -> None:
    _seed(db)
    viewer = Actor(user_id=None, label="viewer", role="viewer")
    for actor in (SYSTEM, viewer):
        rows, total = incident_lists.list_incidents(db, actor, filters)
        expected = [incident_read(row) for row in rows]
        summaries, summary_total = incident_lists.list_incident_summaries(db, actor, filters)
        assert summary_total == total
        assert [incident_summary_read(row) for row in summaries] == expected
    assert incident_lists.list_incidents(db, SYSTEM, incident_lists.IncidentFilters())[1] == 7
    assert (
        incident_lists.list_incident_summaries(db, viewer, incident_lists.IncidentFilters())[1] == 6
    )
