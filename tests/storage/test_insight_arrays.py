"""The numpy path of the dashboard gives exactly the figures of core's columnar path."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from afteraction.core import metrics as m
from afteraction.core.access import SYSTEM, Actor
from afteraction.core.metrics import ColumnarMetrics, IncidentFacts, table_from_facts
from afteraction.core.metrics.columnar import IncidentTable
from afteraction.services import incidents as repo
from afteraction.storage import insight_arrays as ia
from afteraction.storage import insights as ins
from afteraction.storage.db import writing
from afteraction.storage.tables import Problem, Service, Team
from tests.core.metrics.test_metrics_columnar import METRIC_IDS, NAMES, T0, ZONES, incidents

VIEWER = Actor(user_id=None, label="viewer", role="viewer")


def links_of(column: list[tuple[str, ...]]) -> ia.Links:
    names = sorted({name for names in column for name in names})
    pairs = [(p, names.index(n)) for p, names_ in enumerate(column) for n in names_]
    return ia.Links(
        np.array([p for p, _ in pairs], np.int64), np.array([c for _, c in pairs], np.int64), names
    )


def arrays_of(table: IncidentTable) -> ia.IncidentArrays:
    """The same incidents as `IncidentArrays`, as the storage query would build them."""
    severities = sorted(set(table.severities))
    types = sorted(set(table.types))
    keys = sorted({p for p in table.problems if p})
    as_floats = lambda c: np.array([np.nan if v is None else v for v in c], np.float64)  # noqa: E731
    return ia.IncidentArrays(
        numbers=np.array([int(i.split("-")[1]) for i in table.public_ids], np.int64),
        severity=np.array([severities.index(s) for s in table.severities], np.int64),
        severity_names=severities,
        type=np.array([types.index(t) for t in table.types], np.int64),
        type_names=types,
        problem=np.array([keys.index(p) + 1 if p else 0 for p in table.problems], np.int64),
        problem_keys={k + 1: key for k, key in enumerate(keys)},
        milestones={n: as_floats(c) for n, c in table.milestones.items()},
        placed=as_floats(table.placed_at()),
        services=links_of(list(table.services)),
        teams=links_of(list(table.teams)),
    )


@settings(max_examples=150, deadline=None)
@given(
    facts=incidents(),
    include=st.sampled_from((None, ("default",), ("default", "gameday", "maintenance"))),
    zone=st.sampled_from(ZONES),
    with_mean=st.booleans(),
)
def test_arrays_match_the_columnar_path(
    facts: list[IncidentFacts], include: tuple[str, ...] | None, zone: str, with_mean: bool
) -> None:
    table = table_from_facts(facts)
    expected = ColumnarMetrics(table, include)
    fast = ia.ArrayMetrics(arrays_of(table), include)
    assert len(fast.kept) == len(expected.kept)
    assert list(fast.excluded_by_type.items()) == list(expected.excluded_by_type.items())
    assert fast.kept_severities() == expected.kept_severities()
    for metric in METRIC_IDS:
        for group_by in ("severity", None, "service", "team"):
            assert fast.report(metric, group_by=group_by, with_mean=with_mean) == expected.report(
                metric, group_by=group_by, with_mean=with_mean
            ), (metric, group_by)
        assert fast.monthly_medians(metric, zone, with_mean=with_mean) == expected.monthly_medians(
            metric, zone, with_mean=with_mean
        )
    counts = fast.counts_over_time(zone)
    assert counts == expected.counts_over_time(zone)
    assert [list(b.by_severity) for b in counts.buckets] == [  # the same order too
        list(b.by_severity) for b in expected.counts_over_time(zone).buckets
    ]
    assert fast.recurring_problems() == expected.recurring_problems()
    assert fast.recurring_problems(min_incidents=1) == expected.recurring_problems(min_incidents=1)
    assert fast.per_problem() == expected.per_problem()
    assert Counter(fast.kept_severities()) == Counter(expected.kept_severities())


def test_instants_beyond_float_precision_are_refused() -> None:
    table = table_from_facts([])
    arrays = arrays_of(table)
    assert arrays.fits()
    far = ia.IncidentArrays(**{**{f: getattr(arrays, f) for f in arrays.__slots__},
                               "numbers": np.array([1], np.int64),
                               "placed": np.array([2.0**53])})  # fmt: skip
    assert not far.fits()


@pytest.mark.parametrize("metric", METRIC_IDS)
def test_an_empty_table_gives_empty_figures(metric: str) -> None:
    table = table_from_facts([])
    fast, expected = ia.ArrayMetrics(arrays_of(table)), ColumnarMetrics(table)
    assert fast.report(metric) == expected.report(metric)
    assert fast.report(metric, group_by="team") == expected.report(metric, group_by="team")
    assert fast.monthly_medians(metric, "UTC") == expected.monthly_medians(metric, "UTC")


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
    return out


@settings(max_examples=150, deadline=None)
@given(facts=crowded(), with_mean=st.booleans())
def test_ties_and_overlaps_match_the_columnar_path(
    facts: list[IncidentFacts], with_mean: bool
) -> None:
    facts.sort(key=lambda f: int(f.public_id.split("-")[1]))  # number order, as stored
    table = table_from_facts(facts)
    expected, fast = ColumnarMetrics(table), ia.ArrayMetrics(arrays_of(table))
    for metric in METRIC_IDS:
        for group_by in (None, "severity", "service", "team"):
            assert fast.report(metric, group_by=group_by, with_mean=with_mean) == expected.report(
                metric, group_by=group_by, with_mean=with_mean
            ), (metric, group_by)
        assert fast.monthly_medians(metric, "UTC") == expected.monthly_medians(metric, "UTC")


def both_paths(db: Session, actor: Actor, filters: ins.InsightFilters) -> tuple[Any, Any]:
    """(numpy figures, core figures) of the same stored incidents."""
    arrays = ins.incident_arrays(db, actor, filters)
    assert arrays is not None
    table = ins.incident_table(db, actor, filters)
    return (ia.ArrayMetrics(arrays, filters.include_types()),
            ColumnarMetrics(table, filters.include_types()))  # fmt: skip


def test_stored_incidents_give_the_same_figures_on_both_paths(db: Session) -> None:
    """Numbers out of id order, several services and teams, problems, undated and private
    incidents, a gameday: every figure is the same from `incident_arrays` as from
    `incident_table`."""
    with writing(db):
        for slug in ("api", "db", "web"):
            db.add(Service(slug=slug, name=slug))
        for slug in ("core", "edge"):
            db.add(Team(slug=slug, name=slug))
        db.add(Problem(key="PRB-1", title="flaky disk"))
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    for n in range(12):
        at = start + timedelta(hours=7 * n)
        milestones = {"started": at, "detected": at + timedelta(minutes=n),
                      "resolved": at + timedelta(hours=9 - n)}  # fmt: skip
        if n % 5 == 4:
            milestones = {"detected": at, "resolved": at + timedelta(minutes=3)}  # undated
        with writing(db):
            repo.declare(db, SYSTEM, repo.IncidentInput(
                title=f"incident {n}", severity=("SEV1", "SEV2", "SEV3")[n % 3],
                services=(("api", "db"), ("web",), ())[n % 3], teams=(("core",), ())[n % 2],
                problem="PRB-1" if n % 4 == 0 else None, private=n == 7,
                type="gameday" if n == 3 else "default", milestones=milestones,
                allow_out_of_order=True, number=40 - n,
            ))  # fmt: skip
    for actor in (SYSTEM, VIEWER):
        for filters in (ins.InsightFilters(), ins.InsightFilters(include_excluded=True,
                                                                 tz="Europe/Berlin")):  # fmt: skip
            fast, core = both_paths(db, actor, filters)
            assert fast.excluded_by_type == core.excluded_by_type
            for metric in ins.DASHBOARD_METRICS:
                for group_by in (None, "severity", "service", "team"):
                    assert fast.report(metric, group_by=group_by) == core.report(
                        metric, group_by=group_by
                    )
                assert fast.monthly_medians(metric, filters.tz) == core.monthly_medians(
                    metric, filters.tz
                )
            assert fast.counts_over_time(filters.tz) == core.counts_over_time(filters.tz)
            assert fast.recurring_problems() == core.recurring_problems()


def test_instants_past_2255_fall_back_to_the_list_path(db: Session) -> None:
    with writing(db):
        for year in (2026, 2400):
            at = datetime(year, 1, 1, tzinfo=UTC)
            repo.declare(db, SYSTEM, repo.IncidentInput(
                title=f"in {year}", severity="SEV2",
                milestones={"started": at, "resolved": at + timedelta(hours=1)},
                allow_out_of_order=True,
            ))  # fmt: skip
    filters = ins.InsightFilters()
    assert ins.incident_arrays(db, SYSTEM, filters) is None
    figures = ins.dashboard(db, SYSTEM, filters)
    ttr = figures.overall["time_to_resolve"].groups[0].distribution
    assert (ttr.count, ttr.median) == (2, 3600.0)
    gap = figures.overall["time_between_failures"].groups
    assert gap == ()  # neither names a service


tiers = st.sampled_from((None, "gold", "silver"))


@settings(max_examples=100, deadline=None)
@given(facts=incidents(), data=st.data())
def test_sla_results_match_core(facts: list[IncidentFacts], data: st.DataObject) -> None:
    names = ("started", "detected", "acknowledged", "resolved")
    targets = [
        m.SLATarget(
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
    expected = m.sla_compliance(tiered, targets, include_types=include)
    fast = ia.ArrayMetrics(arrays_of(table_from_facts(tiered)), include)
    got = [fast.sla(t, [f.customer_tier for f in tiered]) for t in targets]
    assert got == expected


def test_sla_tiers_and_tag_filters_agree_on_both_paths(db: Session, monkeypatch) -> None:
    """Several tier tags: the alphabetically last is the tier, on both paths; a tag filter
    with a tiered SLA works (it once failed to build its query)."""
    at = datetime(2026, 3, 1, tzinfo=UTC)
    with writing(db):
        for tags in (("tier:silver", "tier:gold"), ("tier:gold",), ("tier:a", "tier:z"), ()):
            repo.declare(db, SYSTEM, repo.IncidentInput(
                title="tiered", severity="SEV2", tags=tags,
                milestones={"started": at, "resolved": at + timedelta(hours=2)},
            ))  # fmt: skip
        for tier in ("gold", "silver", "z"):
            ins.create_sla(db, SYSTEM, ins.SLAInput(tier, "resolved", 3600, tier=tier))

    def breaches(filters: ins.InsightFilters) -> list[tuple[str, list[str]]]:
        return [(row.name, [b.public_id for b in result.breached])
                for row, result in ins.sla_results(db, SYSTEM, filters)]  # fmt: skip

    everything, gold = ins.InsightFilters(), ins.InsightFilters(tag=("tier:gold",))
    fast = breaches(everything), breaches(gold)
    assert fast[0] == [("gold", ["INC-2"]), ("silver", ["INC-1"]), ("z", ["INC-3"])]
    assert fast[1] == [("gold", ["INC-2"]), ("silver", ["INC-1"]), ("z", [])]
    monkeypatch.setattr(ins, "incident_arrays", lambda *args, **kwargs: None)  # list path
    assert (breaches(everything), breaches(gold)) == fast


def test_numbers_beyond_float_precision_use_the_list_path(db: Session) -> None:
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("incident numbers are 32-bit on PostgreSQL")
    at = datetime(2026, 3, 1, tzinfo=UTC)
    with writing(db):
        repo.declare(db, SYSTEM, repo.IncidentInput(
            title="huge", severity="SEV2", number=2**53 + 1, milestones={"started": at},
        ))  # fmt: skip
    assert ins.incident_arrays(db, SYSTEM, ins.InsightFilters()) is None
    missing = ins.dashboard(db, SYSTEM, ins.InsightFilters()).overall["time_to_resolve"]
    assert list(missing.groups[0].missing_ids) == [f"INC-{2**53 + 1}"]
