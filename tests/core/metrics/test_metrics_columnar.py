"""The columnar fast path gives exactly the figures of the `IncidentFacts` functions."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from afteraction.core.errors import ValidationError
from afteraction.core.metrics import (
    ColumnarMetrics,
    IncidentFacts,
    IncidentTable,
    counts_over_time,
    metric_report,
    monthly_medians,
    recurring_problems,
    table_from_facts,
)
from afteraction.core.metrics.columnar import from_micros, to_micros

T0 = datetime(2024, 3, 25, 0, 30, tzinfo=UTC)  # a week before Europe's spring change
METRIC_IDS = (
    "time_to_detect",
    "time_to_acknowledge",
    "time_to_acknowledge_from_detect",
    "time_to_mitigate",
    "time_to_resolve",
    "time_between_failures",
)
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu")
NAMES = ("started", "detected", "acknowledged", "mitigated", "resolved", "closed")

moments = st.one_of(
    st.none(),
    st.integers(min_value=-3 * 86_400_000_000, max_value=400 * 86_400_000_000).map(
        lambda us: T0 + timedelta(microseconds=us)
    ),
)


@st.composite
def incidents(draw: st.DrawFn) -> list[IncidentFacts]:
    count = draw(st.integers(min_value=0, max_value=25))
    out = []
    for n in range(count):
        milestones = {name: draw(moments) for name in NAMES}
        out.append(
            IncidentFacts(
                public_id=f"INC-{n}",
                severity=draw(st.sampled_from(("SEV1", "SEV2", "SEV3"))),
                type=draw(st.sampled_from(("default", "default", "gameday", "maintenance"))),
                services=tuple(sorted(draw(st.sets(st.sampled_from(("api", "db", "web")))))),
                teams=tuple(sorted(draw(st.sets(st.sampled_from(("core", "edge")))))),
                problem=draw(st.sampled_from((None, "", "PRB-1", "PRB-2"))),
                milestones={k: v for k, v in milestones.items() if v is not None},
            )
        )
    return out


@settings(max_examples=150, deadline=None)
@given(
    facts=incidents(),
    include=st.sampled_from((None, ("default",), ("default", "gameday", "maintenance"))),
    zone=st.sampled_from(ZONES),
    with_mean=st.booleans(),
)
def test_fast_path_matches_metric_report_and_trends(
    facts: list[IncidentFacts], include: tuple[str, ...] | None, zone: str, with_mean: bool
) -> None:
    fast = ColumnarMetrics(table_from_facts(facts), include)
    for metric in METRIC_IDS:
        for group_by in ("severity", None, "service", "team"):  # None reuses severity runs
            expected = metric_report(
                facts, metric, group_by=group_by, include_types=include, with_mean=with_mean
            )
            assert fast.report(metric, group_by=group_by, with_mean=with_mean) == expected
        trend = monthly_medians(facts, metric, zone, include_types=include, with_mean=with_mean)
        assert fast.monthly_medians(metric, zone, with_mean=with_mean) == trend
    assert fast.counts_over_time(zone) == counts_over_time(facts, tz=zone, include_types=include)
    assert fast.recurring_problems() == recurring_problems(facts, include_types=include)
    assert fast.recurring_problems(min_incidents=1) == recurring_problems(
        facts, min_incidents=1, include_types=include
    )
    kept = [f for f in facts if f.type in (include or ("default",))]
    expected_problems = Counter(f.problem for f in kept if f.problem)
    assert dict(fast.per_problem()) == expected_problems


def test_months_near_a_clock_change_are_converted_instant_by_instant() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 2024-03-31 23:30 Berlin (summer time) is 21:30 UTC: still March locally.
    late_march = datetime(2024, 3, 31, 21, 30, tzinfo=UTC)
    facts = [
        IncidentFacts("INC-1", "SEV1", milestones={"started": late_march,
                                                   "resolved": late_march + timedelta(hours=1)}),
        IncidentFacts("INC-2", "SEV1", milestones={"started": datetime(2024, 3, 31, 22, 30,
                                                                       tzinfo=UTC)}),
    ]  # fmt: skip
    fast = ColumnarMetrics(table_from_facts(facts))
    counts = fast.counts_over_time(berlin)
    assert [(b.label, b.total) for b in counts.buckets] == [("2024-03", 1), ("2024-04", 1)]
    assert counts == counts_over_time(facts, tz=berlin)


def test_placement_falls_back_to_the_earliest_milestone() -> None:
    table = IncidentTable(
        public_ids=["INC-1", "INC-2"],
        severities=["SEV1", "SEV2"],
        types=["default", "default"],
        services=[(), ()],
        teams=[(), ()],
        problems=[None, None],
        milestones={"detected": [5_000_000, None], "resolved": [2_000_000, None]},
    )
    assert list(table.placed_at()) == [2_000_000, None]
    assert list(table.column("started")) == [None, None]
    fast = ColumnarMetrics(table)
    report = fast.report("time_to_resolve")
    assert report.groups[0].missing_ids == ("INC-1", "INC-2")
    trend = fast.monthly_medians("time_to_resolve", "UTC")
    assert [p.key for p in trend.points] == ["1970-01"] and trend.undated == ("INC-2",)
    assert fast.report("time_between_failures").groups == ()


def test_equal_starts_are_ordered_by_public_id_for_time_between_failures() -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    facts = [
        IncidentFacts(f"INC-{n}", "SEV2", services=("api",),
                      milestones={"started": start + timedelta(hours=h),
                                  "resolved": start + timedelta(hours=h, minutes=n)})
        for n, h in ((9, 0), (10, 0), (11, 0), (8, 5))
    ]  # fmt: skip
    fast = ColumnarMetrics(table_from_facts(facts))
    expected = metric_report(facts, "time_between_failures", group_by="service")
    assert fast.report("time_between_failures", group_by="service") == expected
    assert expected.groups[0].out_of_order[0].public_id == "INC-11"


def test_bad_tables_and_arguments_are_refused() -> None:
    with pytest.raises(ValidationError, match="one entry per incident"):
        IncidentTable(["INC-1"], [], ["default"], [()], [()], [None], {})
    with pytest.raises(ValidationError, match="unknown milestone"):
        IncidentTable(["INC-1"], ["SEV1"], ["default"], [()], [()], [None], {"ended": [1]})
    with pytest.raises(ValidationError, match="naive"):
        to_micros(datetime(2024, 1, 1))  # noqa: DTZ001
    table = table_from_facts([])
    with pytest.raises(ValidationError, match="cannot group by"):
        ColumnarMetrics(table).report("time_to_resolve", group_by="month")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unknown metric"):
        ColumnarMetrics(table).report("time_to_nothing")


def test_microseconds_round_trip_exactly() -> None:
    moment = datetime(2031, 7, 4, 3, 2, 1, 999_999, tzinfo=UTC)
    assert from_micros(to_micros(moment)) == moment
    assert to_micros(datetime(1970, 1, 1, tzinfo=UTC)) == 0
