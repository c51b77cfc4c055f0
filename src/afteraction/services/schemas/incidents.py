"""Read models of an incident, shared by `/api/v1/incidents…` and `afteraction incident …
--json`: `IncidentRead` (one incident), `IncidentPage` (a page of the list, written by
`services.incident_lists.page_json`), `RoleRead`,
`UpdateRead` and `IncidentDetail` (an incident with its roles and updates), with the
functions that build them from rows. Request bodies live in `afteraction.web.schemas`.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from afteraction.core.incidents import MILESTONES
from afteraction.services.schemas.common import ReadModel, Timestamp
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
    """One incident as the API and `--json` show it (a list page writes the same fields
    with `services.incident_lists.page_json`)."""
    public_id = incident.public_id
    return IncidentRead(
        id=public_id,
        number=incident.number,
        title=incident.title,
        summary=incident.summary,
        severity=incident.severity,
        status=incident.status,
        type=incident.type,
        private=incident.private,
        customer_impact=incident.customer_impact,
        services=[s.slug for s in incident.services],
        teams=[t.slug for t in incident.teams],
        tags=list(incident.tags),
        problem=incident.problem.key if incident.problem else None,
        milestones=MilestoneTimes(**{m: getattr(incident, f"{m}_at") for m in MILESTONES}),
        created_at=incident.created_at,
        updated_at=incident.updated_at,
        version=incident.version,
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
