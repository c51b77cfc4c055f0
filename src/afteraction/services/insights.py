"""Reliability insights for an actor: the dashboard's figures, the duration figures alone
(metrics API and CLI), impact duration, on-call load, knowledge silos, response breadth and
cost, and SLA compliance, over the incidents the actor may see that match `InsightFilters`.

Each use case checks the filters (`check_filters`: a ValidationError naming the field),
reads through storage (`insight_queries`, `insight_people`) and composes the figures from
`core.metrics`; web routes, the CLI and jobs call these and only present the results.
Must not live here: queries, metric arithmetic, presentation (rows, charts, CSV).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from afteraction.core import metrics as m
from afteraction.core.access import Actor
from afteraction.core.analysis import people as people_analysis
from afteraction.core.errors import ValidationError
from afteraction.core.metrics import InsightFilters
from afteraction.core.metrics.impact import ImpactInterval, impact_seconds
from afteraction.core.metrics.stats import distribution_of_sorted
from afteraction.services import service_levels
from afteraction.storage import insight_people as people_rows
from afteraction.storage import insight_queries as queries
from afteraction.storage.analysis_bundle import build_incident_evidence
from afteraction.storage.insights_tables import SLATargetRow
from afteraction.storage.types import utcnow

DASHBOARD_METRICS: tuple[str, ...] = (
    "time_to_detect",
    "time_to_acknowledge",
    "time_to_mitigate",
    "time_to_resolve",
    "time_between_failures",
)
DEFAULT_THRESHOLDS = m.Thresholds()


def check_filters(session: Session, filters: InsightFilters) -> None:
    """Refuse an inverted range, an unknown zone or type (`InsightFilters.check`), and
    severities, services, teams or problems that do not exist (a ValidationError naming
    the field)."""
    filters.check()
    unknown = queries.unknown_filter_value(session, filters)
    if unknown is not None:
        raise ValidationError(f"unknown {unknown[0]} {unknown[1]!r}", field=unknown[0])


def distribution_dict(d: m.Distribution, *, with_mean: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "count": d.count,
        "count_missing": d.missing,
        "median": d.median,
        "p90": d.p90,
        "max": d.max,
        "small_sample": d.small_sample,
    }
    if with_mean:
        out["mean"] = d.mean
    return out


def summary_of(
    overall: m.MetricReport, by_severity: m.MetricReport, *, with_mean: bool = False
) -> dict[str, Any]:
    group = overall.groups[0] if overall.groups else None
    empty = m.summarize([], with_mean=with_mean)
    return {
        "metric": overall.metric.id,
        "label": overall.metric.label,
        "definition": overall.metric.definition,
        **distribution_dict(group.distribution if group else empty, with_mean=with_mean),
        "out_of_order": len(group.out_of_order) if group else 0,
        "by_severity": {
            g.key: distribution_dict(g.distribution, with_mean=with_mean)
            for g in by_severity.groups
        },
    }


@dataclass(frozen=True, slots=True)
class Dashboard:
    filters: InsightFilters
    metric: str
    with_mean: bool
    measured: int
    excluded_by_type: Mapping[str, int]
    counts: m.CountSeries
    overall: Mapping[str, m.MetricReport]
    by_severity: Mapping[str, m.MetricReport]
    by_service: m.MetricReport
    by_team: m.MetricReport
    trend: m.Trend
    recurring: list[m.Recurrence]
    per_problem: list[tuple[str, int]]
    problem_titles: Mapping[str, str]
    severities: tuple[str, ...]

    impact: dict[str, Any]
    """`impact_summary` of the same incidents."""

    def summaries(self) -> list[dict[str, Any]]:
        """The same figures as `metric_summaries`, from the reports already computed."""
        return [
            summary_of(self.overall[k], self.by_severity[k], with_mean=self.with_mean)
            for k in DASHBOARD_METRICS
        ]


def _figures(
    session: Session, actor: Actor, filters: InsightFilters, links: Sequence[str]
) -> m.ArrayMetrics:
    """The figures over the matching incidents' arrays, with the `links` they group by."""
    arrays = queries.incident_arrays(session, actor, filters, links=links)
    return m.ArrayMetrics(arrays, filters.include_types())


def dashboard(
    session: Session,
    actor: Actor,
    filters: InsightFilters,
    *,
    metric: str = "time_to_resolve",
    with_mean: bool = False,
) -> Dashboard:
    """Every figure of the insights dashboard for the incidents `actor` can see.

    Reads the incidents as arrays (`incident_arrays`) and computes each duration once
    (`core.metrics.ArrayMetrics`)."""
    check_filters(session, filters)
    if metric not in DASHBOARD_METRICS:
        raise ValidationError(
            f"unknown metric {metric!r}; known: {', '.join(DASHBOARD_METRICS)}", field="metric"
        )
    figures = _figures(session, actor, filters, ("service", "team"))
    by_sev = {  # first: the overall figures then merge the severity groups' sorted values
        k: figures.report(k, group_by="severity", with_mean=with_mean) for k in DASHBOARD_METRICS
    }
    overall = {k: figures.report(k, with_mean=with_mean) for k in DASHBOARD_METRICS}
    return Dashboard(
        filters=filters,
        metric=metric,
        with_mean=with_mean,
        measured=len(figures.kept),
        excluded_by_type=dict(figures.excluded_by_type),
        counts=figures.counts_over_time(filters.tz),
        overall=overall,
        by_severity=by_sev,
        by_service=figures.report(metric, group_by="service", with_mean=with_mean),
        by_team=figures.report(metric, group_by="team", with_mean=with_mean),
        trend=figures.monthly_medians(metric, filters.tz, with_mean=with_mean),
        recurring=figures.recurring_problems(),
        per_problem=figures.per_problem(),
        problem_titles=queries.problem_titles(session),
        severities=queries.severity_order(session),
        impact=impact_summary(session, actor, filters, figures.kept_severities(),
                              with_mean=with_mean),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class MetricFigures:
    """The dashboard's duration figures alone (what the metrics API and CLI report)."""

    measured: int
    excluded_by_type: Mapping[str, int]
    summaries: list[dict[str, Any]]
    impact: dict[str, Any]


def dashboard_metrics(
    session: Session, actor: Actor, filters: InsightFilters, *, with_mean: bool = False
) -> MetricFigures:
    """`dashboard(...).summaries()` without the groupings by service, team, month and
    problem that only the dashboard page draws."""
    check_filters(session, filters)
    figures = _figures(session, actor, filters, ("service",))  # time between failures
    by_sev = {  # first: the overall figures then merge the severity groups' sorted values
        k: figures.report(k, group_by="severity", with_mean=with_mean) for k in DASHBOARD_METRICS
    }
    summaries = [
        summary_of(figures.report(k, with_mean=with_mean), by_sev[k], with_mean=with_mean)
        for k in DASHBOARD_METRICS
    ]
    impact = impact_summary(session, actor, filters, figures.kept_severities(),
                            with_mean=with_mean)  # fmt: skip
    return MetricFigures(len(figures.kept), dict(figures.excluded_by_type), summaries, impact)


def impact_summary(
    session: Session, actor: Actor, filters: InsightFilters, measured: Mapping[str, int],
    *, with_mean: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Impact duration (the sum of each incident's customer-impact intervals, overlaps once)
    over the incidents the filters measure, in the shape of `summary_of`. `measured` counts
    those incidents per severity: the ones without a closed impact record are missing,
    never zero."""
    intervals: dict[int, tuple[str, list[ImpactInterval]]] = {}
    for incident_id, severity, start, end in queries.impact_intervals(session, actor, filters):
        intervals.setdefault(incident_id, (severity, []))[1].append(ImpactInterval(start, end))
    values: dict[str, list[float]] = defaultdict(list)
    for severity, items in intervals.values():
        seconds = impact_seconds(items)
        if seconds is not None:
            values[severity].append(seconds)
    definition = m.DEFINITIONS["impact_duration"]

    def group(present: list[float], total: int) -> dict[str, Any]:
        missing = max(total - len(present), 0)
        return distribution_dict(
            distribution_of_sorted(sorted(present), missing, with_mean=with_mean),
            with_mean=with_mean,
        )

    everything = [v for severity in values.values() for v in severity]
    return {
        "metric": definition.id,
        "label": definition.label,
        "definition": definition.definition,
        **group(everything, sum(measured.values())),
        "out_of_order": 0,
        "by_severity": {
            severity: group(values.get(severity, []), total)
            for severity, total in sorted(measured.items())
        },
    }


# -- people: on-call load, silos, response ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class OnCallReport:
    start: datetime
    end: datetime
    people: Mapping[str, m.Load]
    teams: Mapping[str, m.Load]
    warnings: list[m.FatigueWarning]
    names: Mapping[str, str]
    thresholds: m.Thresholds
    involvements: list[m.Involvement] = field(default_factory=list)
    """Each person's first involvement in each incident in the window, by time."""


def default_window(filters: InsightFilters, days: int = 28) -> tuple[datetime, datetime]:
    end = filters.until or utcnow()
    start = filters.since or end - timedelta(days=days)
    if end <= start:
        raise ValidationError(
            "the date range ends before it starts: 'until' must be after 'since'", field="until"
        )
    return start, end


def oncall(
    session: Session,
    actor: Actor,
    filters: InsightFilters,
    thresholds: m.Thresholds = DEFAULT_THRESHOLDS,
) -> OnCallReport:
    """On-call load per person and team over the filter window (default: the last 28 days)."""
    check_filters(session, filters)
    start, end = default_window(filters)
    pages = people_rows.pages(session, actor, start, end)
    shifts = people_rows.shifts(session)
    involvements = first_involvements(session, actor, filters, start, end)
    people = people_rows.people(session)
    memberships = people_rows.memberships(session)
    per_person = m.oncall_load(
        pages, people, start=start, end=end, shifts=shifts, involvements=involvements
    )
    per_team = m.team_load(
        pages, people, memberships, start=start, end=end, shifts=shifts, involvements=involvements
    )
    warnings = [w for load in per_person.values() for w in m.fatigue_warnings(load, thresholds)]
    names = {k: p.name for k, p in people.items()}
    involved = sorted(involvements, key=lambda i: (i.at, i.incident_id, i.person_key))
    return OnCallReport(start, end, per_person, per_team, warnings, names, thresholds, involved)


def first_involvements(
    session: Session, actor: Actor, filters: InsightFilters, start: datetime, end: datetime
) -> list[m.Involvement]:
    """Each person's first involvement in each visible incident active in the window, when
    it falls inside the window: the People tab's `first_seen` (`core.analysis.involvement`),
    from the same evidence."""
    found = []
    for incident_id, public_id in people_rows.active_incidents(session, actor, filters, start, end):
        evidence = build_incident_evidence(session, incident_id, with_history=False)
        for key, at in people_analysis.first_involvements(
            evidence.bundle, evidence.context
        ).items():
            if key.isdigit() and start <= at < end:  # a person in the directory
                found.append(m.Involvement(key, public_id, at))
    return found


@dataclass(frozen=True, slots=True)
class SiloReport:
    index: Mapping[str, m.SiloIndex]
    helpers: list[m.RepeatHelper]
    former: list[m.FormerMember]
    names: Mapping[str, str]
    owners: Mapping[str, tuple[str, ...]]


def silos(session: Session, actor: Actor, filters: InsightFilters) -> SiloReport:
    """Knowledge-silo signals per service over the visible incidents matching `filters`."""
    check_filters(session, filters)
    rows = people_rows.participation(session, actor, filters)
    owners = people_rows.service_owners(session)
    memberships = people_rows.memberships(session)
    names = {k: p.name for k, p in people_rows.people(session).items()}
    return SiloReport(
        m.silo_index(rows),
        m.repeat_helpers(rows, owners, memberships),
        m.former_members_pulled_in(rows, owners, memberships),
        names,
        owners,
    )


@dataclass(frozen=True, slots=True)
class ResponseRow:
    public_id: str
    title: str
    severity: str
    people: int | None
    teams: int
    services: int
    handoffs: int
    person_seconds: Mapping[str, float]
    person_hours: float


@dataclass(frozen=True, slots=True)
class ResponseReport:
    rows: list[ResponseRow]
    breadth: Mapping[str, m.Distribution]
    handoffs: m.Distribution
    person_hours: m.Distribution
    names: Mapping[str, str]


def response(
    session: Session, actor: Actor, filters: InsightFilters, *, limit: int = 500
) -> ResponseReport:
    """People, teams and services per incident, handoffs, person time and person-hours.

    Interactions are role assignment starts, authored messages in the incident's channels
    and pages to the person for that incident. At most `limit` most recent incidents.
    """
    check_filters(session, filters)
    bundle = queries.incident_facts(session, actor, filters, newest=limit)
    types = filters.include_types()
    kept = bundle.facts
    ids = [bundle.ids[f.public_id] for f in kept]
    times, roles = people_rows.interactions(session, ids)
    out = []
    people_by: dict[str, set[str]] = {}
    for facts, incident_id in zip(kept, ids, strict=True):
        interactions = times.get(incident_id, {})
        cost = m.response_cost(interactions)
        handoffs = sum(m.count_handoffs(roles.get(incident_id, [])).values())
        if interactions:
            people_by[facts.public_id] = set(interactions)
        out.append(
            ResponseRow(
                facts.public_id, bundle.titles[facts.public_id], facts.severity,
                len(interactions) or None, len(facts.teams), len(facts.services), handoffs,
                cost.person_seconds, cost.person_hours,
            )
        )  # fmt: skip
    return ResponseReport(
        list(reversed(out)),
        m.incident_breadth(kept, people_by, include_types=types),
        m.summarize([r.handoffs for r in out]),
        m.summarize([r.person_hours if r.people else None for r in out]),
        {k: p.name for k, p in people_rows.people(session).items()},
    )


# -- service level agreements -----------------------------------------------------------------


def sla_results(
    session: Session,
    actor: Actor,
    filters: InsightFilters,
    targets: Sequence[SLATargetRow] | None = None,
) -> list[tuple[SLATargetRow, m.SLAResult]]:
    """Compliance of each SLA (or of `targets`) over the visible incidents matching
    `filters`."""
    check_filters(session, filters)
    chosen = list(targets) if targets is not None else service_levels.list_slas(session)
    if not chosen:
        return []
    goals = [service_levels.sla_target(t) for t in chosen]
    wanted = sorted({n for g in goals for n in (g.milestone, g.measured_from)})
    arrays = queries.incident_arrays(session, actor, filters, wanted, links=())
    tiers: list[str | None] = [None] * len(arrays.numbers)
    if any(g.tier is not None for g in goals):
        tier_of = queries.tiers_by_number(session, actor, filters)
        tiers = [tier_of.get(n) for n in arrays.numbers.tolist()]
    figures = m.ArrayMetrics(arrays, filters.include_types())
    return [(row, figures.sla(goal, tiers)) for row, goal in zip(chosen, goals, strict=True)]
