"""Pages of incidents as an actor may see them: the filters (status, severity, service, team,
type, tag, problem, start time, text), the sorts, and the summary columns the list API and
the read cache serve. Queries only, through the one visibility rule (`storage.visibility`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

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
from afteraction.storage.visibility import visibility_clause

SORTS = {
    "number": Incident.number,
    "started": Incident.started_at,
    "severity": Incident.severity,
    "status": Incident.status,
    "updated": Incident.updated_at,
    "title": Incident.title,
}


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


def _filtered(actor: Actor, filters: IncidentFilters) -> Select[Incident]:
    query = select(Incident).where(visibility_clause(actor))
    if filters.status:
        query = query.where(Incident.status.in_(filters.status))
    if filters.severity:
        query = query.where(Incident.severity.in_([s.upper() for s in filters.severity]))
    if filters.type:
        query = query.where(Incident.type.in_(filters.type))
    if filters.service:
        query = query.where(
            exists()
            .where(IncidentService.incident_id == Incident.id)
            .where(IncidentService.service_id == Service.id)
            .where(Service.slug.in_(filters.service))
        )
    if filters.team:
        query = query.where(
            exists()
            .where(IncidentTeam.incident_id == Incident.id)
            .where(IncidentTeam.team_id == Team.id)
            .where(Team.slug.in_(filters.team))
        )
    if filters.tag:
        query = query.where(
            exists().where(IncidentTag.incident_id == Incident.id, IncidentTag.tag.in_(filters.tag))
        )
    if filters.problem:
        query = query.join(Problem, Incident.problem_id == Problem.id).where(
            Problem.key == filters.problem
        )
    if filters.started_from is not None:
        query = query.where(Incident.started_at >= filters.started_from)
    if filters.started_to is not None:
        query = query.where(Incident.started_at < filters.started_to)
    if filters.started_from and filters.started_to and filters.started_to < filters.started_from:
        query = query.where(false())
    if filters.text:
        pattern = "%" + filters.text.replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(
            or_(
                Incident.title.ilike(pattern, escape="\\"),
                Incident.summary.ilike(pattern, escape="\\"),
            )
        )
    return query


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


def _page_query(
    session: Session, actor: Actor, filters: IncidentFilters
) -> tuple[Select[Incident], int]:
    """The ordered, limited query of one page of visible incidents, and the total count."""
    if not 1 <= filters.limit <= 500:
        raise ValidationError("limit must be between 1 and 500", field="limit")
    if filters.offset < 0:
        raise ValidationError("offset must not be negative", field="offset")
    query = _filtered(actor, filters)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = query.order_by(*_ordering(filters.sort)).limit(filters.limit).offset(filters.offset)
    return page, int(total or 0)


def list_incidents(
    session: Session, actor: Actor, filters: IncidentFilters
) -> tuple[list[Incident], int]:
    """One page of visible incidents matching `filters`, and the total count."""
    query, total = _page_query(session, actor, filters)
    rows = session.scalars(
        query.options(
            selectinload(Incident.services),
            selectinload(Incident.teams),
            selectinload(Incident.tag_rows),
            selectinload(Incident.problem),
        )
    ).all()
    return list(rows), total


SUMMARY_COLUMNS = (
    "id", "number", "title", "summary", "severity", "status", "type", "private",
    "customer_impact", *(f"{name}_at" for name in rules.MILESTONES),
    "created_at", "updated_at", "version",
)  # fmt: skip


def list_incident_summaries(
    session: Session, actor: Actor, filters: IncidentFilters
) -> tuple[list[dict[str, Any]], int]:
    """The page `list_incidents` returns, as plain dicts and without building ORM objects.

    Each dict holds the `SUMMARY_COLUMNS` of the incident plus `problem` (its key or None)
    and `services`, `teams` and `tags` (slugs and tags, sorted, as on the relationships).
    Five queries in all, whatever the page size; the fast path of the incident list API.
    """
    query, total = _page_query(session, actor, filters)
    problem = aliased(Problem)
    columns = [getattr(Incident, name) for name in SUMMARY_COLUMNS]
    page = query.with_only_columns(*columns, problem.key).outerjoin(
        problem, Incident.problem_id == problem.id
    )
    rows = [
        dict(zip((*SUMMARY_COLUMNS, "problem"), row, strict=True)) for row in session.execute(page)
    ]
    ids = [row["id"] for row in rows]
    links = {
        "services": select(IncidentService.incident_id, Service.slug)
        .join(Service, Service.id == IncidentService.service_id)
        .where(IncidentService.incident_id.in_(ids))
        .order_by(Service.slug),
        "teams": select(IncidentTeam.incident_id, Team.slug)
        .join(Team, Team.id == IncidentTeam.team_id)
        .where(IncidentTeam.incident_id.in_(ids))
        .order_by(Team.slug),
        "tags": select(IncidentTag.incident_id, IncidentTag.tag)
        .where(IncidentTag.incident_id.in_(ids))
        .order_by(IncidentTag.tag),
    }
    by_id = {row["id"]: row for row in rows}
    for name, link_query in links.items():
        for row in rows:
            row[name] = []
        for incident_id, value in session.execute(link_query) if ids else ():
            by_id[incident_id][name].append(value)
    return rows, total
