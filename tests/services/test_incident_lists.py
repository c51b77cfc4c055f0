"""The incident list service: the page's rows and total for every filter, sort and actor, and
the bytes `page_json` writes, which must validate against `IncidentPage` and equal the
model's own JSON built from the ORM incidents (`incident_read`), privacy included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM, Actor
from afteraction.core.errors import ValidationError
from afteraction.services import directory, incident_lists, incident_roles
from afteraction.services import incidents as repo
from afteraction.services.schemas import IncidentPage, incident_read
from afteraction.storage.db import writing
from afteraction.storage.tables import Incident

Filters = incident_lists.IncidentFilters
VIEWER = Actor(user_id=None, label="viewer", role="viewer")


def _seed(db: Session) -> Actor:
    """Eight incidents; number 5 is private and 8 private too, with a role held on it by
    the returned actor. Number 4 has its milestones out of order, 6 a microsecond time."""
    with writing(db):
        directory.create_team(db, SYSTEM, name="Payments", slug="payments")
        directory.create_team(db, SYSTEM, name="Edge", slug="edge")
        directory.create_service(db, SYSTEM, name="Checkout", slug="checkout", team_slug="payments")
        directory.create_service(db, SYSTEM, name="API", slug="api", team_slug="edge")
        directory.create_problem(db, SYSTEM, title="Pool exhaustion", key="pool-exhaustion")
        person = directory.create_person(db, SYSTEM, directory.PersonInput(name="Ada"))
        for number in range(1, 9):
            started = datetime(2026, 1, number, 9, 0, 0, 123456 if number == 6 else 0, tzinfo=UTC)
            milestones = {"started": started}
            if number == 4:  # resolved before it started: kept with a warning
                milestones["resolved"] = datetime(2025, 12, 31, tzinfo=UTC)
            repo.declare(
                db,
                SYSTEM,
                repo.IncidentInput(
                    title=f"Incident {number}" + (" 100% down_now" if number == 7 else ""),
                    severity=f"SEV{1 + number % 4}",
                    status="resolved" if number % 2 else None,
                    services=("checkout", "api")[: 1 + number % 2],
                    teams=("payments", "edge")[number % 2 :],
                    tags=("latency", "db")[: number % 3],
                    problem="pool-exhaustion" if number % 3 == 0 else None,
                    private=number in (5, 8),
                    milestones=milestones,
                    allow_out_of_order=number == 4,
                ),
            )
        incident_roles.assign_role(db, SYSTEM, 8, role="responder", person_id=person.id)
    return Actor(user_id=None, label="ada", role="responder", person_id=person.id)


CASES = [
    (Filters(), [8, 7, 6, 5, 4, 3, 2, 1]),
    (Filters(sort="started", limit=3, offset=2), [3, 4, 5]),
    (Filters(sort="-title", limit=2), [8, 7]),
    (Filters(problem="pool-exhaustion"), [6, 3]),
    (Filters(problem="no-such-problem"), []),
    (Filters(service=["api"], tag=["db"]), [5]),
    (Filters(team=["edge"], severity=["sev2"]), [5, 1]),
    (Filters(status=["resolved"], type=["default"]), [7, 5, 3, 1]),
    (Filters(text="100%"), [7]),
    (Filters(text="down_now"), [7]),
    (Filters(text="Incident _"), []),
    (
        Filters(
            started_from=datetime(2026, 1, 3, tzinfo=UTC),
            started_to=datetime(2026, 1, 6, 9, 0, 1, tzinfo=UTC),
        ),
        [6, 5, 4, 3],
    ),
    (
        Filters(
            started_from=datetime(2026, 1, 6, tzinfo=UTC),
            started_to=datetime(2026, 1, 3, tzinfo=UTC),
        ),
        [],
    ),
    (Filters(offset=50), []),
]


def _expected_page(db: Session, listing: incident_lists.IncidentListing) -> IncidentPage:
    """The same page through the declared model, built from the ORM incidents."""
    items = [
        incident_read(db.scalars(select(Incident).where(Incident.number == row.number)).one())
        for row in listing.rows
    ]
    end = listing.offset + listing.limit
    return IncidentPage(
        items=items,
        total=listing.total,
        limit=listing.limit,
        offset=listing.offset,
        next_offset=end if end < listing.total else None,
    )


@pytest.mark.parametrize(("filters", "numbers"), CASES)
def test_page_json_is_the_declared_model(
    db: Session, filters: incident_lists.IncidentFilters, numbers: list[int]
) -> None:
    holder = _seed(db)
    for actor, hidden in ((SYSTEM, set()), (VIEWER, {5, 8}), (holder, {5})):
        listing = incident_lists.list_page(db, actor, filters)
        body = incident_lists.page_json(listing)
        assert body == _expected_page(db, listing).model_dump_json().encode()
        assert IncidentPage.model_validate_json(body).total == listing.total
        if filters.offset < 50 and filters.limit == 50:
            assert [row.number for row in listing.rows] == [n for n in numbers if n not in hidden]
            assert listing.total == len(listing.rows)
    if filters.limit != 50:
        assert [row.number for row in incident_lists.list_page(db, SYSTEM, filters).rows] == (
            numbers
        )


def test_rows_carry_links_times_and_the_next_offset(db: Session) -> None:
    _seed(db)
    listing = incident_lists.list_page(db, SYSTEM, Filters(sort="number", limit=3))
    first, _, third = listing.rows
    assert (first.services, first.teams, first.tags) == (["api", "checkout"], ["edge"], ["latency"])
    assert (third.problem, third.tags) == ("pool-exhaustion", [])
    assert first.started_at == datetime(2026, 1, 1, 9, tzinfo=UTC)
    assert first.started_at is not None and first.started_at.tzinfo is UTC
    assert (listing.total, listing.next_offset) == (8, 3)
    page = IncidentPage.model_validate_json(incident_lists.page_json(listing))
    assert page.items[0].url == "/incidents/INC-1" and page.items[0].warnings == []
    out_of_order = incident_lists.list_page(db, SYSTEM, Filters(sort="number", offset=3, limit=1))
    fourth = IncidentPage.model_validate_json(incident_lists.page_json(out_of_order)).items[0]
    assert fourth.milestones.resolved == datetime(2025, 12, 31, tzinfo=UTC)
    last = incident_lists.list_page(db, SYSTEM, Filters(offset=6, limit=5))
    assert last.next_offset is None and len(last.rows) == 2 and last.total == 8
    # the count rides on the page's rows; past the last page it is asked on its own
    past = incident_lists.list_page(db, SYSTEM, Filters(offset=50))
    assert (past.rows, past.total, past.next_offset) == ([], 8, None)
    assert incident_lists.list_page(db, VIEWER, Filters(offset=50)).total == 6  # 5, 8 hidden
    none = incident_lists.list_page(db, SYSTEM, Filters(severity=("SEV5",)))
    assert (none.rows, none.total) == ([], 0)


@pytest.mark.parametrize(
    ("filters", "field"),
    [(Filters(limit=0), "limit"), (Filters(offset=-1), "offset"), (Filters(sort="-x"), "sort")],
)
def test_bad_filters_are_refused(db: Session, filters: Filters, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        incident_lists.list_page(db, SYSTEM, filters)
    assert refused.value.details.get("field") == field
