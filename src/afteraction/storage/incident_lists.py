"""Pages of incidents as an actor may see them: the filters (status, severity, service, team,
type, tag, problem, start time, text), the sorts, and the summary rows the list API, the
`/incidents` page and `afteraction incident list` all read. Queries only, through the one
visibility rule (`storage.visibility`).

A page is three statements whatever its size: the count, the page's rows (with the problem's
key), and one grouped query of the services, teams and tags of those rows. The statements
are built once per actor and filter shape, with every filter value a bound parameter, so
SQLAlchemy's compiled cache serves them and a request builds no statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    bindparam,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from afteraction.core import incidents as rules
from afteraction.core.access import Actor
from afteraction.core.errors import ValidationError
from afteraction.storage.tables import (
    Incident,
    IncidentService,
    IncidentTag,
    IncidentTeam,
    Problem,
    Service,
    Team,
)
from afteraction.storage.types import InIds
from afteraction.storage.visibility import visibility_clause

SORTS = {
    "number": Incident.number,
    "started": Incident.started_at,
    "severity": Incident.severity,
    "status": Incident.status,
    "updated": Incident.updated_at,
    "title": Incident.title,
}
MAX_LIMIT = 500
LIST_FILTERS = ("status", "severity", "service", "team", "type", "tag")
SERVICES, TEAMS, TAGS = 0, 1, 2


@dataclass(slots=True)
class IncidentFilters:
    status: Sequence[str] = ()
    severity: Sequence[str] = ()
    service: Sequence[str] = ()
    team: Sequence[str] = ()
    type: Sequence[str] = ()
    tag: Sequence[str] = ()
    problem: str | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
    text: str | None = None
    sort: str = "-number"
    limit: int = 50
    offset: int = 0


@dataclass(slots=True)
class IncidentSummary:
    """One incident of a list page: its columns (`SUMMARY_COLUMNS`, in that order), its
    problem's key, and the slugs of its services and teams and its tags (each sorted)."""

    id: int
    number: int
    title: str
    summary: str
    severity: str
    status: str
    type: str
    private: bool
    customer_impact: str
    started_at: datetime | None
    detected_at: datetime | None
    declared_at: datetime | None
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    problem: str | None
    services: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def public_id(self) -> str:
        return rules.format_public_id(self.number)


SUMMARY_COLUMNS = (
    "id", "number", "title", "summary", "severity", "status", "type", "private",
    "customer_impact", *(f"{name}_at" for name in rules.MILESTONES),
    "created_at", "updated_at", "version",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Shape:
    """What decides a page's statements: which filters are given (not their values)."""

    given: tuple[bool, ...]
    problem: bool
    started_from: bool
    started_to: bool
    empty_range: bool
    text: bool
    sort: str


def _shape(filters: IncidentFilters) -> _Shape:
    started_from, started_to = filters.started_from, filters.started_to
    return _Shape(
        given=tuple(bool(getattr(filters, name)) for name in LIST_FILTERS),
        problem=bool(filters.problem),
        started_from=started_from is not None,
        started_to=started_to is not None,
        empty_range=bool(started_from and started_to and started_to < started_from),
        text=bool(filters.text),
        sort=filters.sort,
    )


def _conditions(actor: Actor, shape: _Shape) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a shape; every value is a bound parameter named as its filter."""
    status, severity, service, team, type_, tag = shape.given
    where: list[ColumnElement[bool]] = [visibility_clause(actor)]
    if status:
        where.append(Incident.status.in_(bindparam("status", expanding=True)))
    if severity:
        where.append(Incident.severity.in_(bindparam("severity", expanding=True)))
    if type_:
        where.append(Incident.type.in_(bindparam("type", expanding=True)))
    if service:
        where.append(
            exists()
            .where(IncidentService.incident_id == Incident.id)
            .where(IncidentService.service_id == Service.id)
            .where(Service.slug.in_(bindparam("service", expanding=True)))
        )
    if team:
        where.append(
            exists()
            .where(IncidentTeam.incident_id == Incident.id)
            .where(IncidentTeam.team_id == Team.id)
            .where(Team.slug.in_(bindparam("team", expanding=True)))
        )
    if tag:
        where.append(
            exists().where(
                IncidentTag.incident_id == Incident.id,
                IncidentTag.tag.in_(bindparam("tag", expanding=True)),
            )
        )
    if shape.problem:
        key = select(Problem.id).where(Problem.key == bindparam("problem")).scalar_subquery()
        where.append(Incident.problem_id == key)
    if shape.started_from:
        where.append(Incident.started_at >= bindparam("started_from"))
    if shape.started_to:
        where.append(Incident.started_at < bindparam("started_to"))
    if shape.empty_range:
        where.append(false())
    if shape.text:
        pattern: BindParameter[str] = bindparam("text")
        where.append(
            or_(
                Incident.title.ilike(pattern, escape="\\"),
                Incident.summary.ilike(pattern, escape="\\"),
            )
        )
    return where


def _ordering(sort: str) -> list[Any]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTS:
        raise ValidationError(
            f"unknown sort {sort!r}; use one of {', '.join(sorted(SORTS))} (prefix - to reverse)",
            field="sort",
        )
    column = SORTS[key]
    primary = column.desc().nulls_last() if descending else column.asc().nulls_last()
    tiebreak = Incident.number.desc() if descending else Incident.number.asc()
    return [primary, tiebreak]


@lru_cache(maxsize=512)
def _statements(actor: Actor, shape: _Shape) -> tuple[Select[Any], Select[Any]]:
    """(count, page) for an actor and a filter shape, built once and then reused. Each row
    of the page carries the count as its last column (a subquery run once, not per row),
    so a page that has rows costs one statement; an empty page asks `count` itself."""
    where = _conditions(actor, shape)
    count = select(func.count()).select_from(Incident).where(*where)
    columns = [getattr(Incident, name) for name in SUMMARY_COLUMNS]
    page = (
        select(*columns, Problem.key, count.correlate(None).scalar_subquery().label("total"))
        .outerjoin(Problem, Incident.problem_id == Problem.id)
        .where(*where)
        .order_by(*_ordering(shape.sort))
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return count, page


def _kind(kind: int) -> ColumnElement[int]:
    return literal_column(str(kind), Integer).label("kind")


def _links() -> CompoundSelect[int, int, str]:
    """The services, teams and tags of the incidents `ids`, as (incident id, kind, value)
    rows in value order: one statement for the three lists, compiled once (`InIds`)."""
    services = (
        select(
            IncidentService.incident_id.label("incident_id"),
            _kind(SERVICES),
            Service.slug.label("value"),
        )
        .join(Service, Service.id == IncidentService.service_id)
        .where(InIds(IncidentService.incident_id, "ids"))
    )
    teams = (
        select(IncidentTeam.incident_id, _kind(TEAMS), Team.slug)
        .join(Team, Team.id == IncidentTeam.team_id)
        .where(InIds(IncidentTeam.incident_id, "ids"))
    )
    tags = select(IncidentTag.incident_id, _kind(TAGS), IncidentTag.tag).where(
        InIds(IncidentTag.incident_id, "ids")
    )
    return union_all(services, teams, tags).order_by("value")


LINKS = _links()


def _parameters(filters: IncidentFilters) -> dict[str, Any]:
    """The bound values of `filters` under the names `_conditions` gives them."""
    if not 1 <= filters.limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if filters.offset < 0:
        raise ValidationError("offset must not be negative", field="offset")
    values: dict[str, Any] = {name: list(getattr(filters, name)) for name in LIST_FILTERS}
    values["severity"] = [s.upper() for s in filters.severity]
    values["problem"] = filters.problem
    values["started_from"] = filters.started_from
    values["started_to"] = filters.started_to
    text = filters.text
    if text:
        values["text"] = "%" + text.replace("%", r"\%").replace("_", r"\_") + "%"
    return values


def list_summaries(
    session: Session, actor: Actor, filters: IncidentFilters
) -> tuple[list[IncidentSummary], int]:
    """One page of the incidents `actor` may see matching `filters`, and how many match."""
    values = _parameters(filters)
    count, page = _statements(actor, _shape(filters))
    connection = session.connection()
    values["limit"], values["offset"] = filters.limit, filters.offset
    found = connection.execute(page, values).all()
    rows = [IncidentSummary(*row[:-1]) for row in found]
    if found:
        total = found[0][-1]
    else:  # past the last page, or nothing matches
        total = connection.execute(count, values).scalar_one() if filters.offset else 0
    if rows:
        by_id = {row.id: row for row in rows}
        kinds = ("services", "teams", "tags")
        for incident_id, kind, value in connection.execute(LINKS, {"ids": [*by_id]}).all():
            getattr(by_id[incident_id], kinds[kind]).append(value)
    return rows, int(total)
