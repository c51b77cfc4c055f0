"""Knowledge silos and the human cost of a response."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from afteraction.core.errors import ValidationError
from afteraction.core.evidence import MembershipRecord
from afteraction.core.metrics import (
    IncidentFacts,
    Participation,
    RoleAssignment,
    count_handoffs,
    former_members_pulled_in,
    incident_breadth,
    person_time_in_incident,
    repeat_helpers,
    response_cost,
    silo_index,
)

T0 = datetime(2024, 6, 1, 9, tzinfo=UTC)


def test_silo_index_shares() -> None:
    rows = [
        Participation("api", "ana", "INC-1", 6),
        Participation("api", "ana", "INC-2", 2),
        Participation("api", "bo", "INC-1", 1),
        Participation("api", "cy", "INC-2", 1),
        Participation("api", "di", "INC-2"),
        Participation("db", "ana", "INC-3", 0),
    ]
    index = silo_index(rows)
    api = index["api"]
    assert (api.people, api.incidents, api.total_weight) == (4, 2, 11)
    assert api.top1_share == pytest.approx(8 / 11)
    assert api.top3_share == pytest.approx(10 / 11)
    assert [p for p, _ in api.top] == ["ana", "bo", "cy"]  # ties broken by key
    assert api.small_sample
    db = index["db"]
    assert db.top1_share is None and db.top3_share is None and db.top == ()


@pytest.mark.parametrize("weight", [-1.0, float("nan"), float("inf")])
def test_silo_index_rejects_bad_weights_naming_the_row(weight: float) -> None:
    rows = [Participation("api", "ana", "INC-1"), Participation("api", "bo", "INC-1", weight)]
    with pytest.raises(ValidationError) as caught:
        silo_index(rows)
    assert caught.value.field == "weight"
    assert caught.value.details["row"] == 2


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["api", "db"]),
            st.sampled_from(["a", "b", "c", "d", "e"]),
            st.floats(min_value=0.01, max_value=100),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_silo_shares_are_ordered_fractions(rows: list[tuple[str, str, float]]) -> None:
    index = silo_index(Participation(s, p, "INC-1", w) for s, p, w in rows)
    for entry in index.values():
        assert entry.top1_share is not None and entry.top3_share is not None
        assert 0 < entry.top1_share <= entry.top3_share <= 1
        if entry.people <= 3:
            assert entry.top3_share == pytest.approx(1)


MEMBERS = [
    MembershipRecord("ana", "payments", date(2022, 1, 1), date(2024, 3, 1)),
    MembershipRecord("ana", "search"),
    MembershipRecord("bo", "payments"),
    MembershipRecord("cy", "payments", date(2023, 1, 1), date(2024, 5, 1)),
    MembershipRecord("cy", "payments", date(2024, 5, 20)),  # rejoined
]
OWNERS = {"billing": ["payments"], "ledger": ("payments",)}


def test_repeat_helpers_from_other_teams() -> None:
    rows = [
        Participation("billing", "ana", "INC-1", at=T0),
        Participation("ledger", "ana", "INC-2", at=T0),
        Participation("billing", "ana", "INC-3", at=T0),
        Participation("billing", "ana", "INC-3", at=T0),  # same incident twice
        Participation("billing", "bo", "INC-1", at=T0),  # owner
        Participation("billing", "di", "INC-1", at=T0),  # in no team: still an outsider
        Participation("billing", "ana", "INC-4"),  # no date: not judged
        Participation("unowned", "ana", "INC-5", at=T0),  # no owner: not judged
    ]
    helpers = repeat_helpers(rows, OWNERS, MEMBERS)
    assert [(h.person_key, h.incident_ids, h.services) for h in helpers] == [
        ("ana", ("INC-1", "INC-2", "INC-3"), ("billing", "ledger"))
    ]
    assert [h.person_key for h in repeat_helpers(rows, OWNERS, MEMBERS, min_incidents=1)] == [
        "ana",
        "di",
    ]


def test_former_members_still_pulled_in() -> None:
    rows = [
        Participation("billing", "ana", "INC-2", at=T0 + timedelta(days=3)),
        Participation("billing", "ana", "INC-1", at=T0),
        Participation("billing", "ana", "INC-1", at=T0),
        Participation("billing", "bo", "INC-1", at=T0),  # current member
        Participation("billing", "cy", "INC-1", at=T0),  # rejoined 2024-05-20
        Participation("billing", "cy", "INC-0", at=datetime(2024, 5, 10, tzinfo=UTC)),
        Participation("billing", "di", "INC-1", at=T0),  # never a member
        Participation("billing", "ana", "INC-9"),  # undated
    ]
    found = former_members_pulled_in(rows, OWNERS, MEMBERS)
    assert [(f.person_key, f.team, f.service, f.incident_ids) for f in found] == [
        ("ana", "payments", "billing", ("INC-1", "INC-2")),
        ("cy", "payments", "billing", ("INC-0",)),
    ]
    assert found[0].left == date(2024, 3, 1)
    assert found[0].days_since_left == (date(2024, 6, 1) - date(2024, 3, 1)).days
    assert found[1].days_since_left == 9


def test_person_time_in_incident() -> None:
    assert person_time_in_incident([]) == 0.0
    assert person_time_in_incident([T0]) == 15.0
    burst = [T0 + timedelta(seconds=i) for i in range(10)]
    assert person_time_in_incident(burst) == 150.0
    spread = [T0, T0 + timedelta(minutes=30), T0 + timedelta(minutes=10)]
    assert person_time_in_incident(spread) == 1800.0
    assert person_time_in_incident([T0, T0], minimum_credit_seconds=0) == 0.0
    with pytest.raises(ValidationError):
        person_time_in_incident([T0], minimum_credit_seconds=-1)
    with pytest.raises(ValidationError):
        person_time_in_incident([datetime(2024, 1, 1)])  # noqa: DTZ001


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=100_000), min_size=1, max_size=40))
def test_person_time_bounds(offsets: list[int]) -> None:
    times = [T0 + timedelta(seconds=s) for s in offsets]
    credited = person_time_in_incident(times)
    assert credited >= 15 * len(times)
    assert credited >= max(offsets) - min(offsets)


def test_handoffs_and_cost() -> None:
    assignments = [
        RoleAssignment("commander", "ana", T0),
        RoleAssignment("commander", "bo", T0 + timedelta(hours=2)),
        RoleAssignment("commander", "bo", T0 + timedelta(hours=3)),  # re-assigned to same
        RoleAssignment("commander", "ana", T0 + timedelta(hours=4)),
        RoleAssignment("scribe", "cy", T0 + timedelta(hours=1)),
    ]
    assert count_handoffs(reversed(assignments)) == {"commander": 2, "scribe": 0}
    cost = response_cost({"ana": [T0, T0 + timedelta(hours=2)], "bo": [T0], "cy": []})
    assert cost.person_seconds == {"ana": 7200.0, "bo": 15.0, "cy": 0.0}
    assert cost.person_hours == pytest.approx(7215 / 3600)


def test_incident_breadth_missing_is_not_zero() -> None:
    incidents = [
        IncidentFacts("INC-1", "SEV1", services=("api", "db"), teams=("core",)),
        IncidentFacts("INC-2", "SEV2"),
        IncidentFacts("INC-3", "SEV2", type="gameday", services=("api",)),
    ]
    breadth = incident_breadth(incidents, {"INC-1": ["ana", "bo", "ana"]})
    assert breadth["people"].values == (2.0,) and breadth["people"].missing == 1
    assert breadth["services"].values == (2.0,) and breadth["services"].missing == 1
    assert breadth["teams"].values == (1.0,) and breadth["teams"].missing == 1
