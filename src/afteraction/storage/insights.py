"""Reliability insights on the database: the rows the metrics need, fetched with plain
SQLAlchemy Core queries (only the needed columns, never ORM objects), handed to the pure
functions of `afteraction.core.metrics`, and SLO / SLA / notification use cases.

Lives here: `InsightFilters` (date range, severity, service, team, type, tag, problem,
gameday/maintenance switch), `incident_facts`, `dashboard`, `metric_summaries`,
`oncall`, `silos`, `response`, SLO and SLA create/read/delete, count import, SLO status,
burn alert recording, SLA compliance, and `to_csv` for exports.
Must not live here: any metric arithmetic (core does it) or presentation (web does it).

Privacy: every query starts from `visibility_clause(actor)`, so an incident the actor may
not see never reaches a figure, a list or an export. Pages and messages tied to such an
incident are left out too. An incident's customer tier is its `tier:<name>` tag.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import Case
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.schema import Column

from afteraction.core import metrics as m
from afteraction.core.access import Actor, require_admin, require_write
from afteraction.core.errors import NotFound, ValidationError
from afteraction.core.evidence import MembershipRecord, PageRecord, PersonRecord, ShiftRecord
from afteraction.core.incidents import EXCLUDED_FROM_METRICS, INCIDENT_TYPES, MILESTONES
from afteraction.core.metrics._common import require_zone
from afteraction.core.metrics.impact import ImpactInterval, impact_seconds
from afteraction.core.metrics.stats import distribution_of_sorted
from afteraction.storage import audit
from afteraction.storage.evidence_tables import IncidentChannel, Message, OnCallShift
from afteraction.storage.evidence_tables import Page as PageRow
from afteraction.storage.incidents import visibility_clause
from afteraction.storage.insights_tables import (
    Notification,
    ServiceLevelObjective,
    SLATargetRow,
    SLOCount,
)
from afteraction.storage.tables import (
    CustomerImpact,
    Incident,
    IncidentService,
    IncidentTag,
    IncidentTeam,
    Person,
    Problem,
    RoleAssignment,
    Service,
    SeverityLevel,
    Team,
    TeamMembership,
)
from afteraction.storage.types import utcnow

DASHBOARD_METRICS: tuple[str, ...] = (
    "time_to_detect",
    "time_to_acknowledge",
    "time_to_mitigate",
    "time_to_resolve",
    "time_between_failures",
)
TIER_PREFIX = "tier:"
P = ParamSpec("P")
R = TypeVar("R")
DEFAULT_THRESHOLDS = m.Thresholds()
MILESTONE_COLUMNS = {name: getattr(Incident, f"{name}_at") for name in MILESTONES}
MICROS_COLUMNS = {name: getattr(Incident, f"{name}_us") for name in MILESTONES}
"""The same milestones as epoch microseconds, written by the database (migration 0008)."""


# -- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InsightFilters:
    """Which incidents a figure covers. `since` is inclusive, `until` exclusive (UTC).

    `type` names the incident types to measure; empty means every type except gameday and
    maintenance, unless `include_excluded` is set.
    """

    since: datetime | None = None
    until: datetime | None = None
    severity: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    team: tuple[str, ...] = ()
    type: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    problem: str | None = None
    include_excluded: bool = False
    tz: str = "UTC"

    def include_types(self) -> Collection[str] | None:
        if self.type:
            return self.type
        return INCIDENT_TYPES if self.include_excluded else None

    def measured_types(self) -> tuple[str, ...]:
        wanted = self.include_types()
        if wanted is None:
            return tuple(t for t in INCIDENT_TYPES if t not in EXCLUDED_FROM_METRICS)
        return tuple(wanted)

    def incident_query(self, **extra: Any) -> list[tuple[str, str]]:
        """Query parameters for the incident list that reproduce these filters.

        `extra` narrows further: severity, service, team, problem, tag (a value or list),
        started_from / started_to (dates, both inclusive).
        """
        params: list[tuple[str, str]] = []
        for name in ("severity", "service", "team", "tag"):
            values = extra.get(name) or getattr(self, name)
            params.extend((name, v) for v in ([values] if isinstance(values, str) else values))
        params.extend(("type", t) for t in self.measured_types())
        problem = extra.get("problem") or self.problem
        if problem:
            params.append(("problem", problem))
        low = extra.get("started_from") or (self.since.date() if self.since else None)
        high = extra.get("started_to") or (
            (self.until - timedelta(microseconds=1)).date() if self.until else None
        )
        if low:
            params.append(("started_from", low.isoformat()))
        if high:
            params.append(("started_to", high.isoformat()))
        return params


def check_filters(session: Session, filters: InsightFilters) -> None:
    """Refuse an inverted range, unknown zone, and unknown severities, services, teams or
    problems (a ValidationError naming the field)."""
    if filters.since and filters.until and filters.until <= filters.since:
        raise ValidationError(
            "the date range ends before it starts: 'until' must be after 'since'", field="until"
        )
    require_zone(filters.tz)
    checks: tuple[tuple[str, Sequence[str], Any], ...] = (
        ("severity", [s.upper() for s in filters.severity], SeverityLevel.name),
        ("service", filters.service, Service.slug),
        ("team", filters.team, Team.slug),
        ("problem", [filters.problem] if filters.problem else [], Problem.key),
    )
    for name, wanted, column in checks:
        if not wanted:
            continue
        known = set(session.scalars(select(column).where(column.in_(wanted))))
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise ValidationError(f"unknown {name} {unknown[0]!r}", field=name)
    bad_types = [t for t in filters.type if t not in INCIDENT_TYPES]
    if bad_types:
        raise ValidationError(
            f"unknown type {bad_types[0]!r}; known: {', '.join(INCIDENT_TYPES)}", field="type"
        )


def _where(actor: Actor, filters: InsightFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [visibility_clause(actor)]
    if filters.severity:
        conditions.append(Incident.severity.in_([s.upper() for s in filters.severity]))
    if filters.service:
        conditions.append(
            exists()
            .where(IncidentService.incident_id == Incident.id)
            .where(IncidentService.service_id == Service.id)
            .where(Service.slug.in_(filters.service))
        )
    if filters.team:
        conditions.append(
            exists()
            .where(IncidentTeam.incident_id == Incident.id)
            .where(IncidentTeam.team_id == Team.id)
            .where(Team.slug.in_(filters.team))
        )
    if filters.tag:
        conditions.append(
            exists().where(IncidentTag.incident_id == Incident.id, IncidentTag.tag.in_(filters.tag))
        )
    if filters.problem:
        conditions.append(
            Incident.problem_id.in_(select(Problem.id).where(Problem.key == filters.problem))
        )
    # On the integer start (the same instant exactly): the metrics index covers it.
    if filters.since is not None:
        conditions.append(Incident.started_us >= m.to_micros(filters.since))
    if filters.until is not None:
        conditions.append(Incident.started_us < m.to_micros(filters.until))
    return conditions


def visible_ids(actor: Actor, filters: InsightFilters) -> Select[Any]:
    """Ids of the incidents `actor` may see that match `filters` (all types)."""
    return select(Incident.id).where(*_where(actor, filters))


# -- incident facts --------------------------------------------------------------------------


def _names_by_incident(session: Session, query: Any) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for incident_id, value in session.execute(query):
        found[incident_id].append(value)
    return found


@dataclass(frozen=True, slots=True)
class FactsBundle:
    """Facts of the matching incidents plus what the web needs beside them."""

    facts: list[m.IncidentFacts]
    ids: dict[str, int]
    titles: dict[str, str]


def incident_facts(
    session: Session, actor: Actor, filters: InsightFilters, *, newest: int | None = None
) -> FactsBundle:
    """The visible incidents matching `filters` (every type; core applies the type rule),
    in number order. `newest`: only that many of the highest-numbered incidents of the
    measured types."""
    ids: Any = visible_ids(actor, filters)
    query = (
        select(
            Incident.id,
            Incident.number,
            Incident.title,
            Incident.severity,
            Incident.type,
            Problem.key,
            *MILESTONE_COLUMNS.values(),
        )
        .outerjoin(Problem, Problem.id == Incident.problem_id)
        .where(*_where(actor, filters))
    )
    if newest is None:
        rows = session.execute(query.order_by(Incident.number)).all()
    else:
        query = query.where(Incident.type.in_(filters.measured_types()))
        newest_first = session.execute(query.order_by(Incident.number.desc()).limit(newest))
        rows = list(reversed(newest_first.all()))
        ids = [row[0] for row in rows]
    services = _names_by_incident(
        session,
        select(IncidentService.incident_id, Service.slug)
        .join(Service, Service.id == IncidentService.service_id)
        .where(IncidentService.incident_id.in_(ids))
        .order_by(Service.slug),
    )
    teams = _names_by_incident(
        session,
        select(IncidentTeam.incident_id, Team.slug)
        .join(Team, Team.id == IncidentTeam.team_id)
        .where(IncidentTeam.incident_id.in_(ids))
        .order_by(Team.slug),
    )
    tiers = _tiers(session, ids) if rows else {}
    facts: list[m.IncidentFacts] = []
    id_of: dict[str, int] = {}
    titles: dict[str, str] = {}
    names = tuple(MILESTONE_COLUMNS)
    for row in rows:
        public_id = f"INC-{row[1]}"
        milestones = {n: v for n, v in zip(names, row[6:], strict=True) if v is not None}
        facts.append(
            m.IncidentFacts(
                public_id=public_id,
                severity=row[3],
                type=row[4],
                services=tuple(services.get(row[0], ())),
                teams=tuple(teams.get(row[0], ())),
                problem=row[5],
                milestones=milestones,
                customer_tier=tiers.get(row[0]),
            )
        )
        id_of[public_id] = row[0]
        titles[public_id] = row[2]
    return FactsBundle(facts, id_of, titles)


def _tier_tags(ids: Select[Any] | list[int], *columns: Any) -> Select[Any]:
    """(`columns`..., tag) of the `tier:` tags of the incidents `ids`, ordered so that of
    several tier tags on one incident the alphabetically last comes last (and wins)."""
    if isinstance(ids, Select):
        ids = ids.correlate(None)  # a subquery of its own, never joined to the one below
    return (
        select(*columns, IncidentTag.tag)
        .join(Incident, Incident.id == IncidentTag.incident_id)
        .where(IncidentTag.incident_id.in_(ids))
        .where(IncidentTag.tag.like(TIER_PREFIX + "%"))
        .order_by(IncidentTag.incident_id, IncidentTag.tag)
    )


def _tiers(session: Session, ids: Select[Any] | list[int]) -> dict[int, str]:
    """incident id -> customer tier (its `tier:<name>` tag)."""
    query = _tier_tags(ids, IncidentTag.incident_id)
    return {i: tag[len(TIER_PREFIX) :] for i, tag in session.execute(query)}


# -- incident columns (the dashboard's arrays) -----------------------------------------------

TABLE_MILESTONES = ("started", "detected", "acknowledged", "mitigated", "resolved")
"""The milestones the dashboard's duration metrics read (placement uses all of them)."""
_FAR = 2**62
_NULL = -(2**62)
"""Stands for NULL in `_number_columns`' texts (far outside any instant or id)."""


def _earliest(values: Sequence[Any], dialect: str) -> ColumnElement[Any]:
    """The least of integer `values` that are not NULL (NULL when all are)."""
    if dialect == "postgresql":
        return func.least(*values)
    far = literal(_FAR)
    return func.nullif(func.min(*(func.coalesce(v, far) for v in values)), far)


def _raw_rows(session: Session, query: Any) -> list[Any]:
    """Rows as the driver returns them: only integers and text are selected, so no result
    processing is needed (this skips building a Row per incident)."""
    result = session.connection().execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _never_null(column: Any) -> bool:
    """A table column declared NOT NULL, a CASE with an ELSE or a COALESCE (as built
    here: its last argument is not NULL)."""
    if isinstance(column, Case):
        return column.else_ is not None
    if isinstance(column, FunctionElement) and column.name == "coalesce":
        return True
    column = getattr(column, "expression", column)
    return isinstance(column, Column) and not column.nullable


def _number_columns(
    session: Session, columns: Sequence[Any], where: Sequence[Any]
) -> list[npt.NDArray[np.int64]]:
    """Integer `columns` of the rows matching `where` as int64 arrays, NULL as `_NULL`.

    Each column comes back as one comma-separated text (SQLite's `group_concat`,
    PostgreSQL's `string_agg`; every aggregate of one query steps over the same rows in
    the same order, so the columns line up) that numpy parses as integers in C. Over
    100,000 rows that is about twice as fast as a Python tuple per row on SQLite and a
    third faster on PostgreSQL."""
    dialect = session.get_bind().dialect.name
    null = literal(_NULL)
    comma: ColumnElement[str] = literal_column("','")  # bound, it takes twice as long

    def joined(column: Any) -> ColumnElement[Any]:
        value = column if _never_null(column) else func.coalesce(column, null)
        if dialect == "postgresql":
            return func.string_agg(cast(value, Text), comma)
        return func.group_concat(value, comma)

    texts = session.execute(select(*map(joined, columns)).where(*where)).one()
    return [
        np.fromstring(text_, dtype=np.int64, sep=",") if text_ else np.zeros(0, np.int64)
        for text_ in texts
    ]


def _instants(ints: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Epoch microseconds as float64, NULL as NaN (see `core.metrics.arrays`)."""
    floats = ints.astype(np.float64)
    floats[ints == _NULL] = np.nan
    return floats


def _positions(ids: Any, wanted: Any) -> tuple[Any, Any]:
    """(index in `ids` of each of `wanted` found there, which of `wanted` were found)."""
    order = np.argsort(ids, kind="stable")
    at = np.minimum(np.searchsorted(ids[order], wanted), max(len(ids) - 1, 0))
    known = (ids[order][at] == wanted) if len(ids) else np.zeros(len(wanted), np.bool_)
    return order[at[known]].astype(np.int64), known


def _links(
    session: Session, link: tuple[Any, Any], names: Any, where: Sequence[Any], ids: Any,
    matched: int,
) -> m.Links:  # fmt: skip
    """The `link` pairs (incident id, entity id) of the incidents whose ids are `ids`
    (their positions), entity ids coded by their sorted names. When the matched incidents
    are most of the links, every link is read (cheaper than testing each against the
    filters; the extra ones are never looked up)."""
    named = sorted(session.execute(names).all(), key=itemgetter(1))
    code_of = np.full(max((i for i, _ in named), default=0) + 1, -1, np.int64)
    code_of[[i for i, _ in named]] = np.arange(len(named))
    total = session.scalar(select(func.count()).select_from(link[0].table)) or 0
    filters = [link[0].in_(select(Incident.id).where(*where))] if matched * 2 < total else []
    incident, entity = _number_columns(session, link, filters)
    position, known = _positions(ids, incident)
    codes = code_of[entity[known]]
    sort = np.argsort(position, kind="stable")
    return m.Links(position[sort], codes[sort], [slug for _, slug in named])


def _coded_columns(
    session: Session, where: Sequence[Any], milestones: Sequence[str],
    severities: list[str], types: list[str],
) -> list[npt.NDArray[np.int64]]:  # fmt: skip
    columns = [
        Incident.id, Incident.number,
        case({name: k for k, name in enumerate(severities)}, value=Incident.severity, else_=-1),
        case({name: k for k, name in enumerate(types)}, value=Incident.type, else_=-1),
        func.coalesce(Incident.problem_id, 0),  # ids start at 1; a short "0" reads fastest
        *(MICROS_COLUMNS[n] for n in milestones),
    ]  # fmt: skip
    return _number_columns(session, columns, where)


def incident_arrays(
    session: Session, actor: Actor, filters: InsightFilters,
    milestones: Sequence[str] = TABLE_MILESTONES,
) -> m.IncidentArrays:  # fmt: skip
    """The visible incidents matching `filters` as numpy columns in number order (every
    type; the type rule is applied by the figures): one query for the incidents, one each
    for the service and team links, plus the small name lists."""
    where = _where(actor, filters)
    severities = sorted(session.scalars(select(SeverityLevel.name)))
    types = sorted(INCIDENT_TYPES)
    problems = dict(session.execute(select(Problem.id, Problem.key)).all())
    read = _coded_columns(session, where, milestones, severities, types)
    if len(read[0]) and (read[2].min() < 0 or read[3].min() < 0):  # a name not in the lists
        severities = sorted({*severities, *session.scalars(select(Incident.severity).distinct())})
        types = sorted({*types, *session.scalars(select(Incident.type).distinct())})
        read = _coded_columns(session, where, milestones, severities, types)
    ids, numbers, severity, kind, problem, *times = read
    if len(numbers) > 1 and np.any(numbers[1:] < numbers[:-1]):
        order = np.argsort(numbers, kind="stable")
        ids, numbers, severity, kind, problem = (
            c[order] for c in (ids, numbers, severity, kind, problem)
        )
        times = [c[order] for c in times]
    columns_by_name = {n: _instants(c) for n, c in zip(milestones, times, strict=True)}
    placed = columns_by_name.get("started", np.full(len(ids), np.nan)).copy()
    if np.isnan(placed).any():  # undated: the earliest other milestone (few; by index)
        others = [MICROS_COLUMNS[n] for n in MILESTONES if n != "started"]
        earliest = _earliest(others, session.get_bind().dialect.name)
        query = select(Incident.id, earliest).where(Incident.started_at.is_(None), *where)
        found = _raw_rows(session, query)
        at, _ = _positions(ids, np.array([i for i, _ in found], np.int64))
        placed[at] = [np.nan if v is None else float(v) for _, v in found]
    services = _links(session, (IncidentService.incident_id, IncidentService.service_id),
                      select(Service.id, Service.slug), where, ids, len(ids))  # fmt: skip
    teams = _links(session, (IncidentTeam.incident_id, IncidentTeam.team_id),
                   select(Team.id, Team.slug), where, ids, len(ids))  # fmt: skip
    return m.IncidentArrays(
        numbers=numbers, severity=severity, severity_names=severities, type=kind,
        type_names=types, problem=problem, problem_keys=problems, milestones=columns_by_name,
        placed=placed, services=services, teams=teams,
    )  # fmt: skip


# -- figures as plain data -----------------------------------------------------------------


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


def _figures(session: Session, actor: Actor, filters: InsightFilters) -> m.ArrayMetrics:
    """The dashboard's figures over the matching incidents' arrays."""
    return m.ArrayMetrics(incident_arrays(session, actor, filters), filters.include_types())


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
    figures = _figures(session, actor, filters)
    by_sev = {  # first: the overall figures then merge the severity groups' sorted values
        k: figures.report(k, group_by="severity", with_mean=with_mean) for k in DASHBOARD_METRICS
    }
    overall = {k: figures.report(k, with_mean=with_mean) for k in DASHBOARD_METRICS}
    titles: dict[str, str] = {}
    for key, title in session.execute(select(Problem.key, Problem.title)):
        titles[key] = title
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
        problem_titles=titles,
        severities=tuple(session.scalars(select(SeverityLevel.name).order_by(SeverityLevel.rank))),
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
    figures = _figures(session, actor, filters)
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
    types = filters.include_types()
    query = (
        select(CustomerImpact.incident_id, Incident.severity, Incident.type,
               CustomerImpact.start_at, CustomerImpact.end_at)
        .join(Incident, Incident.id == CustomerImpact.incident_id)
        .where(*_where(actor, filters))
    )  # fmt: skip
    intervals: dict[int, tuple[str, list[ImpactInterval]]] = {}
    for incident_id, severity, kind, start, end in session.execute(query):
        if _type_kept(kind, types):
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


def _type_kept(kind: str, types: Collection[str] | None) -> bool:
    return kind not in EXCLUDED_FROM_METRICS if types is None else kind in types


# -- people: on-call load, silos, response ---------------------------------------------------


def _people(session: Session) -> dict[str, PersonRecord]:
    query = select(Person.id, Person.name, Person.time_zone)
    return {
        str(i): PersonRecord(str(i), name, time_zone=tz) for i, name, tz in session.execute(query)
    }


def _memberships(session: Session) -> list[MembershipRecord]:
    query = select(TeamMembership.person_id, Team.slug, TeamMembership.start, TeamMembership.end)
    query = query.join(Team, Team.id == TeamMembership.team_id)
    return [MembershipRecord(str(p), t, s, e) for p, t, s, e in session.execute(query)]


def _page_visible(actor: Actor) -> ColumnElement[bool]:
    return or_(
        PageRow.incident_id.is_(None),
        PageRow.incident_id.in_(select(Incident.id).where(visibility_clause(actor))),
    )


@dataclass(frozen=True, slots=True)
class OnCallReport:
    start: datetime
    end: datetime
    people: Mapping[str, m.Load]
    teams: Mapping[str, m.Load]
    warnings: list[m.FatigueWarning]
    names: Mapping[str, str]
    thresholds: m.Thresholds


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
    page_query = select(
        PageRow.external_id, PageRow.external_incident_id, PageRow.kind, PageRow.at,
        PageRow.person_id, PageRow.method, PageRow.escalation_level,
    ).where(
        PageRow.at >= start - timedelta(minutes=5), PageRow.at < end,
        PageRow.person_id.is_not(None), _page_visible(actor),
    )  # fmt: skip
    pages = [
        PageRecord(ext, inc, kind, at, str(person), method, level)
        for ext, inc, kind, at, person, method, level in session.execute(page_query)
    ]
    shift_query = select(
        OnCallShift.person_id, OnCallShift.schedule, OnCallShift.start, OnCallShift.end
    ).where(OnCallShift.person_id.is_not(None))
    shifts = [ShiftRecord(str(p), s, a, b) for p, s, a, b in session.execute(shift_query)]
    involvements = _involvements(session, actor, filters, start, end)
    people = _people(session)
    memberships = _memberships(session)
    per_person = m.oncall_load(
        pages, people, start=start, end=end, shifts=shifts, involvements=involvements
    )
    per_team = m.team_load(
        pages, people, memberships, start=start, end=end, shifts=shifts, involvements=involvements
    )
    warnings = [w for load in per_person.values() for w in m.fatigue_warnings(load, thresholds)]
    names = {k: p.name for k, p in people.items()}
    return OnCallReport(start, end, per_person, per_team, warnings, names, thresholds)


def _involvements(
    session: Session, actor: Actor, filters: InsightFilters, start: datetime, end: datetime
) -> list[m.Involvement]:
    """Each person's first involvement in each visible incident in the window: the earlier
    of their first role on it and their first message (not a bot's) in a channel attached
    to it, inside the attachment's window."""
    ids = select(Incident.id).where(visibility_clause(actor))
    if filters.service or filters.team or filters.severity:
        ids = ids.where(Incident.id.in_(visible_ids(actor, _no_dates(filters))))
    roles = (
        select(RoleAssignment.person_id, Incident.number, func.min(RoleAssignment.start))
        .join(Incident, Incident.id == RoleAssignment.incident_id)
        .where(RoleAssignment.incident_id.in_(ids))
        .where(RoleAssignment.start >= start, RoleAssignment.start < end)
        .group_by(RoleAssignment.person_id, Incident.number)
    )
    messages = (
        select(Message.author_person_id, Incident.number, func.min(Message.at))
        .join(IncidentChannel, IncidentChannel.channel_id == Message.channel_id)
        .join(Incident, Incident.id == IncidentChannel.incident_id)
        .where(IncidentChannel.incident_id.in_(ids))
        .where(Message.author_person_id.is_not(None), Message.is_bot.is_(False))
        .where(Message.at >= start, Message.at < end)
        .where(or_(IncidentChannel.since.is_(None), Message.at >= IncidentChannel.since))
        .where(or_(IncidentChannel.until.is_(None), Message.at < IncidentChannel.until))
        .group_by(Message.author_person_id, Incident.number)
    )
    first: dict[tuple[int | None, int], datetime] = {}
    for query in (roles, messages):
        for person, number, at in session.execute(query):
            moment = at if at.tzinfo else at.replace(tzinfo=UTC)
            key = (person, number)
            if key not in first or moment < first[key]:
                first[key] = moment
    return [m.Involvement(str(p), f"INC-{n}", at) for (p, n), at in first.items()]


def _no_dates(filters: InsightFilters) -> InsightFilters:
    return InsightFilters(
        severity=filters.severity, service=filters.service, team=filters.team,
        type=filters.type, tag=filters.tag, problem=filters.problem,
    )  # fmt: skip


def _participation(
    session: Session, actor: Actor, filters: InsightFilters
) -> list[m.Participation]:
    """One row per (service, person, incident): role holders and message authors.

    The people are read first; services and start times only for the incidents that
    have some (start times as integers, a datetime made once per incident used)."""
    ids = visible_ids(actor, filters)
    people: set[tuple[int, int]] = set()
    roles = select(RoleAssignment.incident_id, RoleAssignment.person_id).where(
        RoleAssignment.incident_id.in_(ids)
    )
    people.update(session.execute(roles))
    authors = (
        select(IncidentChannel.incident_id, Message.author_person_id)
        .join(Message, Message.channel_id == IncidentChannel.channel_id)
        .where(IncidentChannel.incident_id.in_(ids), Message.author_person_id.is_not(None))
        .distinct()
    )
    people.update((i, p) for i, p in session.execute(authors) if p is not None)
    if not people:
        return []
    involved = select(RoleAssignment.incident_id).union(select(IncidentChannel.incident_id))
    svc = (
        select(IncidentService.incident_id, Service.slug, Incident.number, Incident.started_us)
        .join(Service, Service.id == IncidentService.service_id)
        .join(Incident, Incident.id == IncidentService.incident_id)
        .where(IncidentService.incident_id.in_(ids), Incident.type.in_(filters.measured_types()))
        .where(IncidentService.incident_id.in_(involved))
    )
    services: dict[int, list[tuple[str, str, datetime | None]]] = defaultdict(list)
    for incident_id, slug, number, started in _raw_rows(session, svc):
        at = None if started is None else m.from_micros(started)
        services[incident_id].append((slug, f"INC-{number}", at))
    rows = []
    for incident_id, person_id in sorted(people):
        for slug, public_id, started in services.get(incident_id, ()):
            rows.append(m.Participation(slug, str(person_id), public_id, 1.0, started))
    return rows


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
    rows = _participation(session, actor, filters)
    owner_query = select(Service.slug, Team.slug).join(Team, Team.id == Service.team_id)
    owners = {s: (t,) for s, t in session.execute(owner_query)}
    memberships = _memberships(session)
    names = {k: p.name for k, p in _people(session).items()}
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
    bundle = incident_facts(session, actor, filters, newest=limit)
    types = filters.include_types()
    kept = bundle.facts
    ids = [bundle.ids[f.public_id] for f in kept]
    times: dict[int, dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    roles: dict[int, list[m.RoleAssignment]] = defaultdict(list)
    for chunk in _chunks(ids, 500):
        _collect(session, chunk, times, roles)
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
        {k: p.name for k, p in _people(session).items()},
    )


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _collect(
    session: Session,
    ids: list[int],
    times: dict[int, dict[str, list[datetime]]],
    roles: dict[int, list[m.RoleAssignment]],
) -> None:
    role_q = select(
        RoleAssignment.incident_id, RoleAssignment.role, RoleAssignment.person_id,
        RoleAssignment.start,
    ).where(RoleAssignment.incident_id.in_(ids))  # fmt: skip
    for incident_id, role, person, at in session.execute(role_q):
        times[incident_id][str(person)].append(at)
        roles[incident_id].append(m.RoleAssignment(role, str(person), at))
    message_q = (
        select(IncidentChannel.incident_id, Message.author_person_id, Message.at)
        .join(Message, Message.channel_id == IncidentChannel.channel_id)
        .where(IncidentChannel.incident_id.in_(ids), Message.author_person_id.is_not(None))
        .where(or_(IncidentChannel.since.is_(None), Message.at >= IncidentChannel.since))
        .where(or_(IncidentChannel.until.is_(None), Message.at < IncidentChannel.until))
    )
    for channel_incident, author, at in session.execute(message_q):
        times[channel_incident][str(author)].append(at)
    page_q = select(PageRow.incident_id, PageRow.person_id, PageRow.at).where(
        PageRow.incident_id.in_(ids), PageRow.person_id.is_not(None)
    )
    for page_incident, paged, at in session.execute(page_q):
        if page_incident is not None:
            times[page_incident][str(paged)].append(at)


# -- SLOs ------------------------------------------------------------------------------------


@dataclass(slots=True)
class SLOInput:
    service: str
    name: str
    objective: float
    window_days: int = 30
    kind: str = "availability"
    latency_threshold_ms: float | None = None
    description: str = ""


def slo_definition(row: ServiceLevelObjective) -> m.SLO:
    return m.SLO(
        objective=row.objective,
        window_days=row.window_days,
        kind=row.kind,  # type: ignore[arg-type]
        name=row.name,
        latency_threshold_ms=row.latency_threshold_ms,
    )


def _service(session: Session, slug: str) -> Service:
    found = session.scalar(select(Service).where(Service.slug == slug))
    if found is None:
        raise ValidationError(f"unknown service {slug!r}", field="service")
    return found


def create_slo(session: Session, actor: Actor, data: SLOInput) -> ServiceLevelObjective:
    require_write(actor)
    service = _service(session, data.service)
    name = data.name.strip()
    if not name or len(name) > 200:
        raise ValidationError("an SLO needs a name of 1 to 200 characters", field="name")
    row = ServiceLevelObjective(
        service=service, name=name, kind=data.kind, objective=data.objective,
        window_days=data.window_days, latency_threshold_ms=data.latency_threshold_ms,
        description=data.description,
    )  # fmt: skip
    slo_definition(row)  # validates objective, window, kind, threshold
    if session.scalar(
        select(ServiceLevelObjective.id).where(
            ServiceLevelObjective.service_id == service.id, ServiceLevelObjective.name == name
        )
    ):
        raise ValidationError(f"{service.slug} already has an SLO named {name!r}", field="name")
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "slo.created", target_type="slo", target_id=row.id, after=slo_snapshot(row)
    )
    return row


def slo_snapshot(row: ServiceLevelObjective) -> dict[str, Any]:
    return {
        "id": row.id,
        "service": row.service.slug,
        "name": row.name,
        "kind": row.kind,
        "objective": row.objective,
        "window_days": row.window_days,
        "latency_threshold_ms": row.latency_threshold_ms,
        "description": row.description,
    }


def list_slos(session: Session, service: str | None = None) -> list[ServiceLevelObjective]:
    query = (
        select(ServiceLevelObjective)
        .join(Service)
        .order_by(Service.slug, ServiceLevelObjective.name)
    )
    if service:
        _service(session, service)
        query = query.where(Service.slug == service)
    return list(session.scalars(query))


def get_slo(session: Session, slo_id: int) -> ServiceLevelObjective:
    row = session.get(ServiceLevelObjective, slo_id)
    if row is None:
        raise NotFound("slo", str(slo_id))
    return row


def delete_slo(session: Session, actor: Actor, slo_id: int) -> None:
    require_admin(actor)
    row = get_slo(session, slo_id)
    audit.record(
        session, actor, "slo.deleted", target_type="slo", target_id=row.id, before=slo_snapshot(row)
    )
    session.delete(row)
    session.flush()


def parse_counts_csv(text: str) -> list[dict[str, str]]:
    """CSV with a header naming at, good, total (other columns are ignored)."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [name for name in ("at", "good", "total") if name not in header]
    if missing:
        raise ValidationError(
            f"the CSV header must name at, good and total; missing: {', '.join(missing)}",
            field="file",
        )
    reader.fieldnames = header
    return [{k: (v or "") for k, v in row.items() if k} for row in reader]


def add_counts(
    session: Session, actor: Actor, slo_id: int, rows: Iterable[object], *, first_row: int = 1
) -> int:
    """Validate every row (naming the first bad one), then write them all; a count at a time
    already stored replaces it. Nothing is written when any row is bad."""
    require_write(actor)
    slo = get_slo(session, slo_id)
    samples = m.validate_counts(rows, first_row=first_row)
    if not samples:
        raise ValidationError("no count rows were given", field="rows")
    moments = sorted({s.at.astimezone(UTC) for s in samples})
    for start in range(0, len(moments), 500):
        chunk = moments[start : start + 500]
        session.execute(delete(SLOCount).where(SLOCount.slo_id == slo.id, SLOCount.at.in_(chunk)))
    latest: dict[datetime, m.CountSample] = {s.at.astimezone(UTC): s for s in samples}
    session.execute(
        insert(SLOCount),
        [
            {"slo_id": slo.id, "at": at, "good": s.good, "total": s.total}
            for at, s in latest.items()
        ],
    )
    audit.record(
        session,
        actor,
        "slo.counts_added",
        target_type="slo",
        target_id=slo.id,
        after={"rows": len(latest)},
    )
    return len(latest)


def count_series(
    session: Session, slo_id: int, since: datetime, until: datetime
) -> list[m.CountSample]:
    query = (
        select(SLOCount.at, SLOCount.good, SLOCount.total)
        .where(SLOCount.slo_id == slo_id, SLOCount.at > since, SLOCount.at <= until)
        .order_by(SLOCount.at)
    )
    return [m.CountSample(at, int(g), int(t)) for at, g, t in session.execute(query)]


@dataclass(frozen=True, slots=True)
class SLOStatus:
    slo: ServiceLevelObjective
    definition: m.SLO
    now: datetime
    budget: m.ErrorBudget
    rates: Mapping[str, float | None]
    alerts: list[m.BurnAlert]
    incidents: list[m.IncidentBudget]
    samples: int


def slo_status(
    session: Session, actor: Actor, slo_id: int, *, now: datetime | None = None
) -> SLOStatus:
    """Budget over the SLO window ending `now`, burn rates, alerts that fire, and the
    budget each visible incident on the service consumed within the window."""
    row = get_slo(session, slo_id)
    definition = slo_definition(row)
    moment = now or utcnow()
    span = max(definition.window, timedelta(days=3))
    series = count_series(session, row.id, moment - span - definition.window, moment)
    in_window = [s for s in series if moment - definition.window < s.at <= moment]
    budget = m.error_budget(
        definition, sum(s.good for s in in_window), sum(s.total for s in in_window)
    )
    rates = m.burn_rates(series, definition, moment)
    filters = InsightFilters(
        service=(row.service.slug,), since=moment - definition.window, until=moment
    )
    facts = incident_facts(session, actor, filters).facts
    consumed = m.budget_consumed_by_incidents(series, definition, facts)
    return SLOStatus(row, definition, moment, budget, rates, m.burn_alerts(rates), consumed,
                     len(in_window))  # fmt: skip


def record_burn_alerts(session: Session, slo_id: int, *, now: datetime | None = None) -> list[int]:
    """Record one notification per firing burn rule (once per SLO, rule and hour)."""
    from afteraction.core.access import SYSTEM

    status = slo_status(session, SYSTEM, slo_id, now=now)
    hour = status.now.astimezone(UTC).strftime("%Y-%m-%dT%H")
    created = []
    for alert in status.alerts:
        rule = alert.rule
        key = f"slo-burn:{slo_id}:{rule.long_window}:{hour}"
        if session.scalar(select(Notification.id).where(Notification.key == key)):
            continue
        note = Notification(
            key=key, kind="slo_burn", target_type="slo", target_id=str(slo_id),
            message=(
                f"{status.slo.service.slug} / {status.slo.name}: burn rate {alert.rate:.1f} over "
                f"{rule.long_window} exceeds {rule.threshold:g} ({rule.action})"
            ),
            payload={"rate": alert.rate, "threshold": rule.threshold, "window": rule.long_window,
                     "short_window": rule.short_window, "action": rule.action},
        )  # fmt: skip
        session.add(note)
        session.flush()
        created.append(note.id)
    return created


def burn_check_job(database_url: str, slo_id: int) -> list[int]:
    """The queued job: record the SLO's firing burn alerts in its own transaction."""
    from afteraction.storage.db import make_engine, make_session_factory, writing

    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session, writing(session):
            return record_burn_alerts(session, slo_id)
    finally:
        engine.dispose()


def notifications(session: Session, *, limit: int = 50) -> list[Notification]:
    query = select(Notification).order_by(Notification.created_at.desc(), Notification.id.desc())
    return list(session.scalars(query.limit(limit)))


# -- SLAs ------------------------------------------------------------------------------------


@dataclass(slots=True)
class SLAInput:
    name: str
    milestone: str
    within_seconds: int
    severity: str | None = None
    tier: str | None = None
    measured_from: str = "started"


def sla_target(row: SLATargetRow) -> m.SLATarget:
    return m.SLATarget(
        milestone=row.milestone, within=timedelta(seconds=row.within_seconds),
        severity=row.severity, tier=row.tier, measured_from=row.measured_from, name=row.name,
    )  # fmt: skip


def sla_snapshot(row: SLATargetRow) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "milestone": row.milestone,
        "measured_from": row.measured_from, "within_seconds": row.within_seconds,
        "severity": row.severity, "tier": row.tier,
    }  # fmt: skip


def create_sla(session: Session, actor: Actor, data: SLAInput) -> SLATargetRow:
    require_write(actor)
    name = data.name.strip()
    if not name or len(name) > 200:
        raise ValidationError("an SLA needs a name of 1 to 200 characters", field="name")
    severity = data.severity.upper() if data.severity else None
    if severity and session.get(SeverityLevel, severity) is None:
        raise ValidationError(f"unknown severity {data.severity!r}", field="severity")
    row = SLATargetRow(
        name=name, milestone=data.milestone, measured_from=data.measured_from,
        within_seconds=data.within_seconds, severity=severity, tier=data.tier or None,
    )  # fmt: skip
    sla_target(row)  # validates milestones and the duration
    if session.scalar(select(SLATargetRow.id).where(SLATargetRow.name == name)):
        raise ValidationError(f"an SLA named {name!r} already exists", field="name")
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "sla.created", target_type="sla", target_id=row.id, after=sla_snapshot(row)
    )
    return row


def list_slas(session: Session) -> list[SLATargetRow]:
    return list(session.scalars(select(SLATargetRow).order_by(SLATargetRow.name)))


def get_sla(session: Session, sla_id: int) -> SLATargetRow:
    row = session.get(SLATargetRow, sla_id)
    if row is None:
        raise NotFound("sla", str(sla_id))
    return row


def delete_sla(session: Session, actor: Actor, sla_id: int) -> None:
    require_admin(actor)
    row = get_sla(session, sla_id)
    audit.record(
        session, actor, "sla.deleted", target_type="sla", target_id=row.id, before=sla_snapshot(row)
    )
    session.delete(row)
    session.flush()


def sla_results(
    session: Session,
    actor: Actor,
    filters: InsightFilters,
    rows: Sequence[SLATargetRow] | None = None,
) -> list[tuple[SLATargetRow, m.SLAResult]]:
    """Compliance of each SLA (or of `rows`) over the visible incidents matching `filters`."""
    check_filters(session, filters)
    targets = list(rows) if rows is not None else list_slas(session)
    goals = [sla_target(t) for t in targets]
    wanted = sorted({n for g in goals for n in (g.milestone, g.measured_from)})
    if not targets:
        return []
    arrays = incident_arrays(session, actor, filters, wanted)
    tiers: list[str | None] = [None] * len(arrays.numbers)
    if any(g.tier is not None for g in goals):
        position = {n: k for k, n in enumerate(arrays.numbers.tolist())}
        query = _tier_tags(visible_ids(actor, filters), Incident.number)
        for number, tag in session.execute(query):
            tiers[position[number]] = tag[len(TIER_PREFIX) :]
    figures = m.ArrayMetrics(arrays, filters.include_types())
    return [(row, figures.sla(goal, tiers)) for row, goal in zip(targets, goals, strict=True)]


# -- exports ---------------------------------------------------------------------------------


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows of flat mappings as CSV text (nested values are written as JSON-like text)."""
    materialised = list(rows)
    names = list(columns or (materialised[0].keys() if materialised else []))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in materialised:
        writer.writerow({k: _cell(row.get(k)) for k in names})
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return value


__all__ = [
    "DASHBOARD_METRICS",
    "Dashboard",
    "FactsBundle",
    "InsightFilters",
    "MetricFigures",
    "OnCallReport",
    "ResponseReport",
    "ResponseRow",
    "SLAInput",
    "SLOInput",
    "SLOStatus",
    "SiloReport",
    "add_counts",
    "check_filters",
    "count_series",
    "create_sla",
    "create_slo",
    "dashboard",
    "dashboard_metrics",
    "delete_sla",
    "delete_slo",
    "distribution_dict",
    "get_sla",
    "get_slo",
    "incident_facts",
    "incident_arrays",
    "list_slas",
    "list_slos",
    "notifications",
    "oncall",
    "parse_counts_csv",
    "record_burn_alerts",
    "response",
    "silos",
    "sla_results",
    "slo_status",
    "slo_snapshot",
    "sla_snapshot",
    "to_csv",
    "visible_ids",
]
