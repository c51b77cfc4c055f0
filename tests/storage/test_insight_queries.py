"""The arrays read from the database give the figures the reference functions give over
the same stored incidents (read one by one as `IncidentFacts`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from afteraction.core import metrics as m
from afteraction.core.access import SYSTEM, Actor
from afteraction.core.metrics import InsightFilters
from afteraction.services import incidents as repo
from afteraction.services import insights as ins
from afteraction.services import service_levels as levels
from afteraction.storage import insight_queries as queries
from afteraction.storage.db import writing
from afteraction.storage.tables import Problem, Service, Team
from tests.core.metrics import oracles

VIEWER = Actor(user_id=None, label="viewer", role="viewer")


def test_stored_incidents_give_the_reference_figures(db: Session) -> None:
    """Numbers out of id order, several services and teams, problems, undated and private
    incidents, a gameday: every figure from `incident_arrays` is the reference one."""
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
        for filters in (InsightFilters(), InsightFilters(include_excluded=True,
                                                                 tz="Europe/Berlin")):  # fmt: skip
            facts = queries.incident_facts(db, actor, filters).facts
            types = filters.include_types()
            fast = m.ArrayMetrics(queries.incident_arrays(db, actor, filters), types)
            assert fast.excluded_by_type == oracles.included(facts, types)[1]
            for metric in ins.DASHBOARD_METRICS:
                for group_by in (None, "severity", "service", "team"):
                    assert fast.report(metric, group_by=group_by) == oracles.metric_report(
                        facts, metric, group_by=group_by, include_types=types
                    )
                assert fast.monthly_medians(metric, filters.tz) == oracles.monthly_medians(
                    facts, metric, filters.tz, include_types=types
                )
            assert fast.counts_over_time(filters.tz) == oracles.counts_over_time(
                facts, tz=filters.tz, include_types=types
            )
            assert fast.recurring_problems() == oracles.recurring_problems(
                facts, include_types=types
            )


def test_instants_past_2255_are_measured(db: Session) -> None:
    with writing(db):
        for year in (2026, 2400):
            at = datetime(year, 1, 1, tzinfo=UTC)
            repo.declare(db, SYSTEM, repo.IncidentInput(
                title=f"in {year}", severity="SEV2",
                milestones={"started": at, "resolved": at + timedelta(hours=1)},
                allow_out_of_order=True,
            ))  # fmt: skip
    figures = ins.dashboard(db, SYSTEM, InsightFilters())
    ttr = figures.overall["time_to_resolve"].groups[0].distribution
    assert (ttr.count, ttr.median) == (2, 3600.0)
    assert figures.overall["time_between_failures"].groups == ()  # neither names a service
    assert [b.label for b in figures.counts.buckets][:: 374 * 12] == ["2026-01", "2400-01"]


def test_sla_tiers_and_tag_filters(db: Session) -> None:
    """Several tier tags: the alphabetically last is the tier; a tag filter with a tiered
    SLA works (it once failed to build its query)."""
    at = datetime(2026, 3, 1, tzinfo=UTC)
    with writing(db):
        for tags in (("tier:silver", "tier:gold"), ("tier:gold",), ("tier:a", "tier:z"), ()):
            repo.declare(db, SYSTEM, repo.IncidentInput(
                title="tiered", severity="SEV2", tags=tags,
                milestones={"started": at, "resolved": at + timedelta(hours=2)},
            ))  # fmt: skip
        for tier in ("gold", "silver", "z"):
            levels.create_sla(db, SYSTEM, levels.SLAInput(tier, "resolved", 3600, tier=tier))

    def breaches(filters: InsightFilters) -> list[tuple[str, list[str]]]:
        return [(row.name, [b.public_id for b in result.breached])
                for row, result in ins.sla_results(db, SYSTEM, filters)]  # fmt: skip

    assert breaches(InsightFilters()) == [
        ("gold", ["INC-2"]), ("silver", ["INC-1"]), ("z", ["INC-3"])
    ]  # fmt: skip
    assert breaches(InsightFilters(tag=("tier:gold",))) == [
        ("gold", ["INC-2"]), ("silver", ["INC-1"]), ("z", [])
    ]  # fmt: skip


def test_numbers_beyond_float_precision_are_read_exactly(db: Session) -> None:
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("incident numbers are 32-bit on PostgreSQL")
    at = datetime(2026, 3, 1, tzinfo=UTC)
    with writing(db):
        repo.declare(db, SYSTEM, repo.IncidentInput(
            title="huge", severity="SEV2", number=2**53 + 1, milestones={"started": at},
        ))  # fmt: skip
    missing = ins.dashboard(db, SYSTEM, InsightFilters()).overall["time_to_resolve"]
    assert list(missing.groups[0].missing_ids) == [f"INC-{2**53 + 1}"]


def test_arrays_read_without_links_refuse_the_figures_that_need_them(db: Session) -> None:
    """The SLA figures read no links; a grouping by service or team over such arrays is an
    error, never an empty "(none)" group. Severity, type and problem come out of the one
    number they travel in."""
    at = datetime(2026, 3, 1, tzinfo=UTC)
    with writing(db):
        db.add(Service(slug="api", name="api"))
        db.add(Problem(key="PRB-7", title="flaky disk"))
    with writing(db):
        for severity, kind in (("SEV3", "gameday"), ("SEV1", "default")):
            repo.declare(db, SYSTEM, repo.IncidentInput(
                title="linked", severity=severity, type=kind, services=("api",),
                problem="PRB-7", milestones={"started": at, "resolved": at + timedelta(hours=1)},
            ))  # fmt: skip
    bare = queries.incident_arrays(db, SYSTEM, InsightFilters(), ["resolved"], links=())
    assert bare.services is None and bare.teams is None
    assert [bare.severity_names[c] for c in bare.severity.tolist()] == ["SEV3", "SEV1"]
    assert [bare.type_names[c] for c in bare.type.tolist()] == ["gameday", "default"]
    assert [bare.problem_keys[p] for p in bare.problem.tolist()] == ["PRB-7", "PRB-7"]
    figures = m.ArrayMetrics(bare, ("default", "gameday"))
    assert figures.report("time_to_resolve").groups[0].distribution.count == 0  # no start read
    for group_by in ("service", "team"):
        with pytest.raises(ValueError, match=f"{group_by} links were not read"):
            figures.report("time_to_resolve", group_by=group_by)
    services = queries.incident_arrays(db, SYSTEM, InsightFilters(), links=("service",))
    assert services.services is not None and services.teams is None
    linked = m.ArrayMetrics(services)
    assert [g.key for g in linked.report("time_to_resolve", group_by="service").groups] == ["api"]
    with pytest.raises(ValueError, match="'tags' links"):
        queries.incident_arrays(db, SYSTEM, InsightFilters(), links=("tags",))
