"""The product's figures (`ArrayMetrics` over `IncidentArrays`) equal the naive reference
functions in `oracles.py` on random incidents, bit for bit."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.core.metrics import oracles

from afteraction.core.errors import ValidationError
from afteraction.core.metrics import (
    ArrayMetrics,
    IncidentArrays,
    IncidentFacts,
    SLATarget,
    figures,
    from_micros,
    to_micros,
)

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


def check_every_figure(
    facts: list[IncidentFacts], include: tuple[str, ...] | None, zone: str, with_mean: bool
) -> None:
    fast = ArrayMetrics(IncidentArrays.from_facts(facts), include)
    kept, excluded = oracles.included(facts, include)
    assert len(fast.kept) == len(kept)
    assert list(fast.excluded_by_type.items()) == list(excluded.items())
    assert fast.kept_severities() == Counter(f.severity for f in kept)
    for metric in METRIC_IDS:
        for group_by in ("severity", None, "service", "team"):  # None reuses severity runs
            expected = oracles.metric_report(
                facts, metric, group_by=group_by, include_types=include, with_mean=with_mean
            )
            assert fast.report(metric, group_by=group_by, with_mean=with_mean) == expected
        trend = oracles.monthly_medians(
            facts, metric, zone, include_types=include, with_mean=with_mean
        )
        assert fast.monthly_medians(metric, zone, with_mean=with_mean) == trend
    counts = fast.counts_over_time(zone)
    expected_counts = oracles.counts_over_time(facts, tz=zone, include_types=include)
    assert counts == expected_counts
    assert [list(b.by_severity) for b in counts.buckets] == [  # the same order too
        list(b.by_severity) for b in expected_counts.buckets
    ]
    assert fast.recurring_problems() == oracles.recurring_problems(facts, include_types=include)
    assert fast.recurring_problems(min_incidents=1) == oracles.recurring_problems(
        facts, min_incidents=1, include_types=include
    )
    assert dict(fast.per_problem()) == Counter(f.problem for f in kept if f.problem)


@settings(max_examples=150, deadline=None)
@given(
    facts=incidents(),
    include=st.sampled_from((None, ("default",), ("default", "gameday", "maintenance"))),
    zone=st.sampled_from(ZONES),
    with_mean=st.booleans(),
)
def test_figures_match_the_reference_functions(
    facts: list[IncidentFacts], include: tuple[str, ...] | None, zone: str, with_mean: bool
) -> None:
    check_every_figure(facts, include, zone, with_mean)


coarse = st.one_of(st.none(), st.integers(0, 6).map(lambda h: T0 + timedelta(hours=h)))


@st.composite
def crowded(draw: st.DrawFn) -> list[IncidentFacts]:
    """Few distinct instants, so equal starts, zero and negative gaps are common."""
    out = []
    for n in range(draw(st.integers(0, 30))):
        milestones = {name: draw(coarse) for name in NAMES}
        out.append(IncidentFacts(
            public_id=f"INC-{draw(st.integers(1, 10_000)) * 100 + n}",
            severity=draw(st.sampled_from(("SEV1", "SEV2"))),
            services=tuple(sorted(draw(st.sets(st.sampled_from(("api", "db")))))),
            teams=tuple(sorted(draw(st.sets(st.sampled_from(("core", "edge")))))),
            milestones={k: v for k, v in milestones.items() if v is not None},
        ))  # fmt: skip
    return sorted(out, key=lambda f: int(f.public_id.split("-")[1]))  # number order, as stored


@settings(max_examples=150, deadline=None)
@given(facts=crowded(), with_mean=st.booleans())
def test_ties_and_overlaps_match_the_reference_functions(
    facts: list[IncidentFacts], with_mean: bool
) -> None:
    check_every_figure(facts, None, "UTC", with_mean)


tiers = st.sampled_from((None, "gold", "silver"))


@settings(max_examples=100, deadline=None)
@given(facts=incidents(), data=st.data())
def test_sla_matches_the_reference_function(
    facts: list[IncidentFacts], data: st.DataObject
) -> None:
    names = ("started", "detected", "acknowledged", "resolved")
    targets = [
        SLATarget(
            data.draw(st.sampled_from(names)),
            timedelta(minutes=data.draw(st.integers(1, 600))),
            severity=data.draw(st.sampled_from((None, "SEV1", "SEV3", "SEV9"))),
            tier=data.draw(tiers),
            measured_from=data.draw(st.sampled_from(names)),
        )
        for _ in range(3)
    ]
    tiered = [replace(f, customer_tier=data.draw(tiers)) for f in facts]
    include = data.draw(st.sampled_from((None, ("default", "gameday"))))
    expected = oracles.sla_compliance(tiered, targets, include_types=include)
    fast = ArrayMetrics(IncidentArrays.from_facts(tiered), include)
    assert [fast.sla(t, [f.customer_tier for f in tiered]) for t in targets] == expected


@pytest.mark.parametrize("metric", METRIC_IDS)
def test_no_incidents_give_empty_figures(metric: str) -> None:
    fast = ArrayMetrics(IncidentArrays.from_facts([]))
    assert fast.report(metric) == oracles.metric_report([], metric)
    assert fast.report(metric, group_by="team") == oracles.metric_report(
        [], metric, group_by="team"
    )
    assert fast.monthly_medians(metric, "UTC") == oracles.monthly_medians([], metric, "UTC")


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
    counts = ArrayMetrics(IncidentArrays.from_facts(facts)).counts_over_time(berlin)
    assert [(b.label, b.total) for b in counts.buckets] == [("2024-03", 1), ("2024-04", 1)]
    assert counts == oracles.counts_over_time(facts, tz=berlin)


def test_placement_falls_back_to_the_earliest_milestone() -> None:
    facts = [
        IncidentFacts("INC-1", "SEV1", milestones={
            "detected": from_micros(5_000_000), "resolved": from_micros(2_000_000)}),
        IncidentFacts("INC-2", "SEV2"),
    ]  # fmt: skip
    arrays = IncidentArrays.from_facts(facts)
    assert arrays.placed.tolist()[0] == 2_000_000 and np.isnan(arrays.placed[1])
    fast = ArrayMetrics(arrays)
    report = fast.report("time_to_resolve")
    assert list(report.groups[0].missing_ids) == ["INC-1", "INC-2"]
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
    fast = ArrayMetrics(IncidentArrays.from_facts(facts))
    expected = oracles.metric_report(facts, "time_between_failures", group_by="service")
    assert fast.report("time_between_failures", group_by="service") == expected
    assert expected.groups[0].out_of_order[0].public_id == "INC-11"


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.booleans(),
                          st.integers(0, 3)), max_size=40))  # fmt: skip
def test_the_orders_the_figures_sort_by_are_numpys(rows: list[tuple[int, int, bool, int]]) -> None:
    """Time between failures orders (service, dated, started, id) like `np.lexsort`, and
    the counts list severities in the order first met like `np.unique`'s first indexes;
    many equal values here."""
    columns = np.array(rows, dtype=np.int64).reshape(-1, 4).T  # service, started, dated, id
    service, key, dated, tie = columns[0], columns[1].astype(float), columns[2] > 0, columns[3]
    order = figures._by_key_then_tie(key, tie)
    order = order[figures._stable_order(service[order] * 2 + dated[order])]
    expected = np.lexsort((tie, key, dated, service))
    assert np.array_equal(columns[:, order], columns[:, expected])
    distinct, first = np.unique(tie, return_index=True)
    assert figures._first_met(tie).tolist() == distinct[np.argsort(first)].tolist()


def test_numbers_beyond_text_arithmetic_still_order_as_text() -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    facts = [
        IncidentFacts(f"INC-{n}", "SEV2", services=("api",),
                      milestones={"started": start, "resolved": start + timedelta(minutes=k)})
        for k, n in enumerate((10**15 + 7, 9, 10**16))
    ]  # fmt: skip
    fast = ArrayMetrics(IncidentArrays.from_facts(facts))
    expected = oracles.metric_report(facts, "time_between_failures", group_by="service")
    assert fast.report("time_between_failures", group_by="service") == expected


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValidationError, match="naive"):
        to_micros(datetime(2024, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValidationError, match="INC-<number>"):
        IncidentArrays.from_facts([IncidentFacts("X-1", "SEV1")])
    fast = ArrayMetrics(IncidentArrays.from_facts([]))
    with pytest.raises(ValidationError, match="cannot group by"):
        fast.report("time_to_resolve", group_by="month")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unknown metric"):
        fast.report("time_to_nothing")
    with pytest.raises(ValidationError, match="time zone"):
        fast.monthly_medians("time_to_resolve", "Mars/Olympus")


def test_microseconds_round_trip_exactly() -> None:
    moment = datetime(2031, 7, 4, 3, 2, 1, 999_999, tzinfo=UTC)
    assert from_micros(to_micros(moment)) == moment
    assert to_micros(datetime(1970, 1, 1, tzinfo=UTC)) == 0


def test_thousands_of_months_and_instants_past_2255() -> None:
    """Month codes beyond 16 bits sort without the radix shortcut; instants past 2255 are
    held to float64's precision there, exact for whole seconds."""
    facts = [
        IncidentFacts(f"INC-{n}", "SEV1", milestones={
            "started": datetime(year, 3, 1, tzinfo=UTC),
            "resolved": datetime(year, 3, 1, 4, tzinfo=UTC)})
        for n, year in ((1, 2001), (2, 5001))
    ]  # fmt: skip
    fast = ArrayMetrics(IncidentArrays.from_facts(facts))
    trend = fast.monthly_medians("time_to_resolve", "UTC")
    assert len(trend.points) == 3000 * 12 + 1
    assert trend == oracles.monthly_medians(facts, "time_to_resolve", "UTC")
    assert fast.counts_over_time() == oracles.counts_over_time(facts)
