"""Read models of an incident, shared by `/api/v1/incidents…` and `afteraction incident …
--json`: `IncidentRead` (one incident), `IncidentPage` (a page of the list), `RoleRead`,
`UpdateRead` and `IncidentDetail` (an incident with its roles and updates), with the
functions that build them from rows. Request bodies live in `afteraction.web.schemas`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field

from afteraction.core.incidents import MILESTONES
from afteraction.services.schemas.common import ReadModel, Timestamp
from afteraction.storage.incident_lists import SUMMARY_COLUMNS
from afteraction.storage.tables import Incident, RoleAssignment
from afteraction.storage.tables import IncidentUpdate as UpdateRow


class MilestoneTimes(ReadModel):
    """When each milestone happened; null when not (yet) recorded."""

    started: Timestamp | None
    detected: Timestamp | None
    declared: Timestamp | None
    acknowledged: Timestamp | None
    mitigated: Timestamp | None
    resolved: Timestamp | None
    closed: Timestamp | None


class IncidentRead(ReadModel):
    id: str = Field(description="Public id such as INC-42")
    number: int
    title: str
    summary: str
    severity: str
    status: str
    type: str
    private: bool
    customer_impact: str
    services: list[str] = Field(description="Affected service slugs")
    teams: list[str] = Field(description="Team slugs")
    tags: list[str]
    problem: str | None = Field(description="The linked problem's key")
    milestones: MilestoneTimes
    created_at: Timestamp
    updated_at: Timestamp
    version: int = Field(description="Send it back on PATCH to be told of a concurrent edit")
    url: str = Field(description="The incident's page")
    warnings: list[str] = Field(
        default_factory=list, description="Milestones recorded out of order, and the like"
    )


class IncidentPage(ReadModel):
    items: list[IncidentRead]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class RoleRead(ReadModel):
    id: int
    role: str
    person_id: int
    person: str = Field(description="The person's name")
    start: Timestamp
    end: Timestamp | None


class UpdateRead(ReadModel):
    id: int
    at: Timestamp
    status: str = Field(description="The incident's status when the update was posted")
    body: str
    author: str | None = Field(description="The author's name, when known")


class IncidentDetail(IncidentRead):
    """An incident with its roles and updates (`afteraction incident show --json`)."""

    roles: list[RoleRead]
    updates: list[UpdateRead]


def incident_read(incident: Incident, warnings: Sequence[str] = ()) -> IncidentRead:
    """One incident as the API and `--json` show it (the same as `incident_summary_read`)."""
    row = {name: getattr(incident, name) for name in SUMMARY_COLUMNS}
    row["services"] = [s.slug for s in incident.services]
    row["teams"] = [t.slug for t in incident.teams]
    row["tags"] = list(incident.tags)
    row["problem"] = incident.problem.key if incident.problem else None
    return incident_summary_read(row, warnings)


def incident_summary_read(row: Mapping[str, Any], warnings: Sequence[str] = ()) -> IncidentRead:
    """One row of the incident list query (the incident's columns plus services, teams, tags
    and problem) as the API shows it; no ORM object needed."""
    public_id = f"INC-{row['number']}"
    return IncidentRead(
        id=public_id,
        number=row["number"],
        title=row["title"],
        summary=row["summary"],
        severity=row["severity"],
        status=row["status"],
        type=row["type"],
        private=row["private"],
        customer_impact=row["customer_impact"],
        services=row["services"],
        teams=row["teams"],
        tags=row["tags"],
        problem=row["problem"],
        milestones=MilestoneTimes(**{m: row[f"{m}_at"] for m in MILESTONES}),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        url=f"/incidents/{public_id}",
        warnings=list(warnings),
    )


def incident_detail(
    incident: Incident, roles: Sequence[RoleAssignment], updates: Sequence[UpdateRow]
) -> IncidentDetail:
    return IncidentDetail(
        **incident_read(incident).model_dump(),
        roles=[role_read(r) for r in roles],
        updates=[update_read(u) for u in updates],
    )


def incident_page(
    items: Sequence[IncidentRead], *, total: int, limit: int, offset: int
) -> IncidentPage:
    end = offset + limit
    return IncidentPage(
        items=list(items),
        total=total,
        limit=limit,
        offset=offset,
        next_offset=end if end < total else None,
    )


def role_read(role: RoleAssignment) -> RoleRead:
    return RoleRead(
        id=role.id,
        role=role.role,
        person_id=role.person_id,
        person=role.person.name,
        start=role.start,
        end=role.end,
    )


def update_read(update: UpdateRow) -> UpdateRead:
    return UpdateRead(
        id=update.id,
        at=update.at,
        status=update.status,
        body=update.body,
        author=update.author_person.name if update.author_person else None,
    )
