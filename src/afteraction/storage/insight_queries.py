"""The rows and arrays the reliability figures are computed from, read with plain SQLAlchemy
Core queries (only the needed columns, never ORM objects).

Lives here: `conditions` (an actor's visible incidents matching `InsightFilters` as SQL),
`visible_ids`, `unknown_filter_value`, `incident_facts` (one `IncidentFacts` per incident,
for the few figures computed per incident), `incident_arrays` (the dashboard's numpy
columns), tiers, problem titles, severity order and customer-impact intervals.
Must not live here: any metric arithmetic (core does it), access decisions beyond the
visibility clause, or presentation.

Privacy: every query starts from `visibility_clause(actor)`, so an incident the actor may
not see never reaches a figure, a list or an export. An incident's customer tier is its
`tier:<name>` tag.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, Case
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.schema import Column

from afteraction.core import metrics as m
from afteraction.core.access import Actor
from afteraction.core.incidents import INCIDENT_TYPES, MILESTONES
from afteraction.core.metrics import InsightFilters
from afteraction.storage.tables import (
    CustomerImpact,
    Incident,
    IncidentService,
    IncidentTag,
    IncidentTeam,
    Problem,
    Service,
    SeverityLevel,
    Team,
)
from afteraction.storage.visibility import visibility_clause

TIER_PREFIX = "tier:"
MILESTONE_COLUMNS = {name: getattr(Incident, f"{name}_at") for name in MILESTONES}
MICROS_COLUMNS = {name: getattr(Incident, f"{name}_us") for name in MILESTONES}
"""The same milestones as epoch microseconds, written by the database (migration 0008)."""


def unknown_filter_value(session: Session, filters: InsightFilters) -> tuple[str, str] | None:
    """The first (field, value) of the filters naming a severity, service, team or problem
    that does not exist, or None."""
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
            return name, unknown[0]
    return None


def conditions(actor: Actor, filters: InsightFilters) -> list[ColumnElement[bool]]:
    """The SQL conditions selecting the incidents `actor` may see that match `filters`
    (every type: the figures apply the type rule)."""
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
    return select(Incident.id).where(*conditions(actor, filters))


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
        .where(*conditions(actor, filters))
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


def raw_rows(session: Session, query: Any) -> list[Any]:
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
    if isinstance(column, BindParameter):
        return column.value is not None
    if isinstance(column, BinaryExpression) and column.operator in (operators.add, operators.mul):
        return _never_null(column.left) and _never_null(column.right)
    column = getattr(column, "expression", column)
    return isinstance(column, Column) and not column.nullable


def _number_columns(
    session: Session, columns: Sequence[Any], where: Sequence[Any]
) -> list[npt.NDArray[np.int64]]:
    """Integer `columns` of the rows matching `where` as int64 arrays, NULL as `_NULL`.

    Each column comes back as one value (every aggregate of one query steps over the same
    rows in the same order, so the columns line up) that numpy reads in C: on SQLite a
    comma-separated text (`group_concat`; over 100,000 rows about twice as fast as a Python
    tuple per row), on PostgreSQL the values' 8-byte binary forms one after the other
    (`string_agg` of `int8send`: no text made or parsed on either side)."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    null = literal(_NULL, BigInteger)
    comma: ColumnElement[str] = literal_column("','")  # bound, it takes twice as long
    nothing: ColumnElement[bytes] = literal_column("''::bytea")

    def joined(column: Any) -> ColumnElement[Any]:
        value = column if _never_null(column) else func.coalesce(column, null)
        if postgresql:
            return func.string_agg(func.int8send(cast(value, BigInteger)), nothing)
        return func.group_concat(value, comma)

    found = session.execute(select(*map(joined, columns)).where(*where)).one()
    if postgresql:
        return [np.frombuffer(v or b"", dtype=">i8").astype(np.int64) for v in found]
    return [
        np.fromstring(text_, dtype=np.int64, sep=",") if text_ else np.zeros(0, np.int64)
        for text_ in found
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
    width = len(code_of)  # above every entity id read with the names
    fits = and_(link[1] < width, link[0] < literal(_FAR // width, BigInteger))
    pair = case((fits, _together([link[1], link[0]], [width])), else_=-1)  # one number a link
    (pairs,) = _number_columns(session, [pair], filters)
    if len(pairs) and pairs.min() < 0:  # an entity made since its names were read
        incident, entity = _number_columns(session, link, filters)
    else:
        entity, incident = _apart(pairs, [width])
    position, known = _positions(ids, incident)
    codes = code_of[entity[known]]
    sort = np.argsort(position, kind="stable")
    return m.Links(position[sort], codes[sort], [slug for _, slug in named])


def _coded_columns(
    session: Session, where: Sequence[Any], milestones: Sequence[str],
    severities: list[str], types: list[str], highest_problem: int,
) -> list[npt.NDArray[np.int64]]:  # fmt: skip
    """ids, numbers, severity codes, type codes (-1: a name not in the lists), problem ids
    (0: none) and the `milestones`' instants. The codes and the problem id travel as one
    number (`_together`; the problem id apart when too large for it)."""
    severity = case({name: k + 1 for k, name in enumerate(severities)},
                    value=Incident.severity, else_=0)  # fmt: skip
    kind = case({name: k + 1 for k, name in enumerate(types)}, value=Incident.type, else_=0)
    problem = func.coalesce(Incident.problem_id, 0)  # ids start at 1
    bounds = [len(severities) + 1, len(types) + 1]
    apart = not _fits(highest_problem, bounds)
    codes = _together([severity, kind] if apart else [severity, kind, problem], bounds)
    columns = [Incident.id, Incident.number, codes, *([problem] if apart else [])]
    times = [MICROS_COLUMNS[n] for n in milestones]
    ids, numbers, together, *rest = _number_columns(session, [*columns, *times], where)
    severity_code, kind_code, problem_id = _apart(together, bounds)
    if apart:
        problem_id = rest.pop(0)
    return [ids, numbers, severity_code - 1, kind_code - 1, problem_id, *rest]


def _fits(highest: int, bounds: Sequence[int]) -> bool:
    """Whether a last part up to `highest` fits in `_together` with parts below `bounds`."""
    return highest < _FAR // math.prod(bounds)


def _together(parts: Sequence[Any], bounds: Sequence[int]) -> Any:
    """One integer column holding several: the first part plus each next one times the
    product of the bounds of those before it (each part but the last is at least 0 and
    below its bound; `_fits` checks the last). SQLite aggregates a column in about the
    same time whatever its digits, so fewer columns read faster; `_apart` splits them."""
    value, scale = parts[0], 1
    for part, bound in zip(parts[1:], bounds, strict=False):
        scale *= bound
        value = value + part * literal(scale, BigInteger)  # 64-bit on PostgreSQL too
    return value


def _apart(values: npt.NDArray[np.int64], bounds: Sequence[int]) -> list[npt.NDArray[np.int64]]:
    """The parts `_together` put in `values` (as many as `bounds`, plus the rest)."""
    parts = []
    for bound in bounds:
        values, part = np.divmod(values, bound)
        parts.append(part)
    return [*parts, values]


def incident_arrays(
    session: Session, actor: Actor, filters: InsightFilters,
    milestones: Sequence[str] = TABLE_MILESTONES, *,
    links: Collection[str] = ("service", "team"),
) -> m.IncidentArrays:  # fmt: skip
    """The visible incidents matching `filters` as numpy columns in number order (every
    type; the type rule is applied by the figures): one query for the incidents, one each
    for the "service" and "team" links named in `links` (the SLA figures need none, the
    duration figures only the services), plus the small name lists."""
    unknown = set(links) - {"service", "team"}
    if unknown:
        raise ValueError(f"no {sorted(unknown)[0]!r} links: 'service' or 'team'")
    where = conditions(actor, filters)
    severities = sorted(session.scalars(select(SeverityLevel.name)))
    types = sorted(INCIDENT_TYPES)
    problems = dict(session.execute(select(Problem.id, Problem.key)).all())
    highest = max(problems, default=0)
    read = _coded_columns(session, where, milestones, severities, types, highest)
    if len(read[0]) and (read[2].min() < 0 or read[3].min() < 0):  # a name not in the lists
        severities = sorted({*severities, *session.scalars(select(Incident.severity).distinct())})
        types = sorted({*types, *session.scalars(select(Incident.type).distinct())})
        read = _coded_columns(session, where, milestones, severities, types, highest)
    ids, numbers, severity, kind, problem, *times = read
    if len(numbers) > 1 and np.any(numbers[1:] < numbers[:-1]):
        order = np.argsort(numbers)  # unique: any sort gives this order, quicksort fastest
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
        found = raw_rows(session, query)
        at, _ = _positions(ids, np.array([i for i, _ in found], np.int64))
        placed[at] = [np.nan if v is None else float(v) for _, v in found]
    services = teams = None
    if "service" in links:
        services = _links(session, (IncidentService.incident_id, IncidentService.service_id),
                          select(Service.id, Service.slug), where, ids, len(ids))  # fmt: skip
    if "team" in links:
        teams = _links(session, (IncidentTeam.incident_id, IncidentTeam.team_id),
                       select(Team.id, Team.slug), where, ids, len(ids))  # fmt: skip
    return m.IncidentArrays(
        numbers=numbers, severity=severity, severity_names=severities, type=kind,
        type_names=types, problem=problem, problem_keys=problems, milestones=columns_by_name,
        placed=placed, services=services, teams=teams,
    )  # fmt: skip


def problem_titles(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Problem.key, Problem.title)).all())


def filter_names(session: Session) -> dict[str, list[Any]]:
    """What the filter form offers: severities (most severe first), (slug, name) of services
    and teams by name, (key, title) of problems by key."""

    def pairs(key: Any, label: Any, order: Any) -> list[Any]:
        return list(session.execute(select(key, label).order_by(order)))

    return {
        "severities": list(severity_order(session)),
        "services": pairs(Service.slug, Service.name, Service.name),
        "teams": pairs(Team.slug, Team.name, Team.name),
        "problems": pairs(Problem.key, Problem.title, Problem.key),
    }


def severity_order(session: Session) -> tuple[str, ...]:
    """Severity names, most severe first."""
    return tuple(session.scalars(select(SeverityLevel.name).order_by(SeverityLevel.rank)))


def impact_intervals(
    session: Session, actor: Actor, filters: InsightFilters
) -> list[tuple[int, str, datetime, datetime | None]]:
    """(incident id, severity, start, end) of every customer-impact record of the matching
    incidents of the measured types.

    The impact records come first and each looks its incident up by id: joined, SQLite
    walked every matching incident to probe for records that few of them have."""
    matching = (
        select(Incident.id)
        .where(Incident.id == CustomerImpact.incident_id)
        .where(*conditions(actor, filters), Incident.type.in_(filters.measured_types()))
    )
    severity = select(Incident.severity).where(Incident.id == CustomerImpact.incident_id)
    query = select(
        CustomerImpact.incident_id, severity.scalar_subquery(), CustomerImpact.start_at,
        CustomerImpact.end_at,
    ).where(matching.exists())  # fmt: skip
    return [(i, severity, start, end) for i, severity, start, end in session.execute(query)]


def tiers_by_number(session: Session, actor: Actor, filters: InsightFilters) -> dict[int, str]:
    """incident number -> customer tier of the matching incidents that have one."""
    query = _tier_tags(visible_ids(actor, filters), Incident.number)
    return {number: tag[len(TIER_PREFIX) :] for number, tag in session.execute(query)}
