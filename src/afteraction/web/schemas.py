"""Pydantic schemas of the REST API (`…Create`, `…Update`, `…Read`), and the functions that
turn rows into `Read` dicts. Schemas live only in the web layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from afteraction.core import times
from afteraction.core.errors import ValidationError
from afteraction.core.incidents import MILESTONES
from afteraction.services.incidents import SUMMARY_COLUMNS
from afteraction.storage.tables import (
    ActionItem,
    CustomerImpact,
    Incident,
    MilestoneEdit,
    Person,
    Problem,
    Reference,
    RoleAssignment,
    Service,
    Team,
    User,
)
from afteraction.storage.tables import IncidentUpdate as UpdateRow

USER_TIME_ERROR = "user_time"
"""Pydantic error type of a refused `UserTime`; its message already names the field."""


def _user_time(value: Any, info: ValidationInfo) -> Any:
    """Text goes through `core.times.parse_time`, so a time without a zone gets the product's
    one refusal (naming the field, asking for a zone, giving an example), not pydantic's."""
    if isinstance(value, str) and value.strip():
        try:
            return times.parse_time(value, info.field_name or "time")
        except ValidationError as error:
            message = {"message": error.message}
            raise PydanticCustomError(USER_TIME_ERROR, "{message}", message) from None
    return value


UserTime = Annotated[AwareDatetime, BeforeValidator(_user_time)]
"""An aware date and time a person sends: ISO 8601 with `Z` or an offset."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Milestones(Strict):
    started: UserTime | None = None
    detected: UserTime | None = None
    declared: UserTime | None = None
    acknowledged: UserTime | None = None
    mitigated: UserTime | None = None
    resolved: UserTime | None = None
    closed: UserTime | None = None


class IncidentCreate(Strict):
    title: str = Field(min_length=1, max_length=300, examples=["Checkout latency above SLO"])
    severity: str = Field(examples=["SEV2"], max_length=20)
    summary: str = Field("", max_length=20_000)
    type: str = Field("default", max_length=40)
    status: str | None = Field(None, max_length=40)
    private: bool = False
    customer_impact: str = Field("", max_length=5_000)
    services: list[str] = Field(default_factory=list, max_length=100)
    teams: list[str] = Field(default_factory=list, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=100)
    problem: str | None = None
    milestones: Milestones = Field(default_factory=Milestones)
    allow_out_of_order: bool = False


class IncidentUpdate(Strict):
    title: str | None = Field(None, min_length=1, max_length=300)
    summary: str | None = Field(None, max_length=20_000)
    severity: str | None = Field(None, max_length=20)
    type: str | None = Field(None, max_length=40)
    private: bool | None = None
    customer_impact: str | None = Field(None, max_length=5_000)
    services: list[str] | None = Field(None, max_length=100)
    teams: list[str] | None = Field(None, max_length=100)
    tags: list[str] | None = Field(None, max_length=100)
    problem: str | None = None
    version: int | None = Field(
        None, description="The version you edited; a newer stored version is a 409 conflict."
    )


class StatusChange(Strict):
    status: str = Field(max_length=40)
    at: UserTime | None = None
    note: str = Field("", max_length=20_000)


class MilestonesUpdate(Strict):
    milestones: Milestones
    allow_out_of_order: bool = False
    reason: str = Field("", max_length=2_000)


class RoleCreate(Strict):
    role: str = Field(min_length=1, max_length=60)
    person_id: int
    start: UserTime | None = None


class RoleEnd(Strict):
    end: UserTime | None = None


class UpdateCreate(Strict):
    body: str = Field(min_length=1, max_length=20_000)
    at: UserTime | None = None


class ActionItemCreate(Strict):
    title: str = Field(min_length=1, max_length=500)
    kind: str = "prevention"
    owner_id: int | None = None
    due: date | None = None
    status: str = "open"
    url: str = Field("", max_length=2000)


class ActionItemUpdate(Strict):
    title: str | None = Field(None, min_length=1, max_length=500)
    kind: str | None = None
    owner_id: int | None = None
    due: date | None = None
    status: str | None = None
    url: str | None = Field(None, max_length=2000)


class ImpactCreate(Strict):
    start: UserTime
    end: UserTime | None = None
    description: str = Field("", max_length=2000)


class ImpactUpdate(Strict):
    start: UserTime | None = None
    end: UserTime | None = None
    description: str | None = Field(None, max_length=2000)


class ReferenceCreate(Strict):
    url: str = Field(min_length=1, max_length=2000)
    kind: str = "other"
    title: str = Field("", max_length=500)


class PersonCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, max_length=320)
    time_zone: str | None = Field(None, max_length=64)
    location: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=200)
    department: str | None = Field(None, max_length=200)
    manager_id: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    github_login: str | None = Field(None, max_length=100)


class PersonUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    email: str | None = Field(None, max_length=320)
    time_zone: str | None = Field(None, max_length=64)
    location: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=200)
    department: str | None = Field(None, max_length=200)
    manager_id: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    github_login: str | None = Field(None, max_length=100)


class MembershipCreate(Strict):
    team: str
    start: date | None = None
    end: date | None = None


class TeamCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(None, max_length=80)
    description: str = Field("", max_length=5_000)


class TeamUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    slug: str | None = Field(None, max_length=80)
    description: str | None = Field(None, max_length=5_000)


class ServiceCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(None, max_length=80)
    team: str | None = None
    tier: int = 2
    description: str = Field("", max_length=5_000)


class ServiceUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    slug: str | None = Field(None, max_length=80)
    team: str | None = Field(None, description="The owning team's slug; null for no owner.")
    tier: int | None = None
    description: str | None = Field(None, max_length=5_000)


class ProblemCreate(Strict):
    title: str = Field(min_length=1, max_length=200)
    key: str | None = Field(None, max_length=80)
    description: str = Field("", max_length=20_000)
    status: str = "open"
    workaround: str = Field("", max_length=20_000)


class ProblemUpdate(Strict):
    title: str | None = Field(None, min_length=1, max_length=200)
    key: str | None = Field(None, max_length=80)
    description: str | None = Field(None, max_length=20_000)
    status: str | None = None
    workaround: str | None = Field(None, max_length=20_000)


class UserCreate(Strict):
    email: str = Field(max_length=320)
    password: str = Field(min_length=8, max_length=1000)
    role: str
    name: str = Field("", max_length=200)
    person_id: int | None = None


class UserUpdate(Strict):
    role: str | None = None
    active: bool | None = Field(None, description="false disables the account's logins.")


class TokenCreate(Strict):
    name: str = Field(min_length=1, max_length=200)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorResponse(BaseModel):
    error: ErrorDetail


class IncidentRead(BaseModel):
    id: str = Field(description="Public id such as INC-42")
    number: int
    title: str
    summary: str
    severity: str
    status: str
    type: str
    private: bool
    customer_impact: str
    services: list[str]
    teams: list[str]
    tags: list[str]
    problem: str | None
    milestones: dict[str, datetime | None]
    created_at: datetime
    updated_at: datetime
    version: int
    url: str
    warnings: list[str] = []


class IncidentPage(BaseModel):
    items: list[IncidentRead]
    total: int
    limit: int
    offset: int
    next_offset: int | None


# -- row → dict ---------------------------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def incident_dict(incident: Incident) -> dict[str, Any]:
    """The API's view of an incident (the same shape as `incident_summary_dict`)."""
    row = {name: getattr(incident, name) for name in SUMMARY_COLUMNS}
    row["services"] = [s.slug for s in incident.services]
    row["teams"] = [t.slug for t in incident.teams]
    row["tags"] = incident.tags
    row["problem"] = incident.problem.key if incident.problem else None
    return incident_summary_dict(row)


def incident_summary_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    """The API's view of one `services.incidents.list_incident_summaries` row (columns
    `SUMMARY_COLUMNS` plus services, teams, tags and problem); no ORM object needed."""
    public_id = f"INC-{row['number']}"
    return {
        "id": public_id,
        "number": row["number"],
        "title": row["title"],
        "summary": row["summary"],
        "severity": row["severity"],
        "status": row["status"],
        "type": row["type"],
        "private": row["private"],
        "customer_impact": row["customer_impact"],
        "services": row["services"],
        "teams": row["teams"],
        "tags": row["tags"],
        "problem": row["problem"],
        "milestones": {m: _iso(row[f"{m}_at"]) for m in MILESTONES},
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "version": row["version"],
        "url": f"/incidents/{public_id}",
    }


def person_dict(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "name": person.name,
        "email": person.email,
        "time_zone": person.time_zone,
        "location": person.location,
        "title": person.title,
        "department": person.department,
        "manager_id": person.manager_id,
        "start_date": _iso(person.start_date),
        "end_date": _iso(person.end_date),
        "github_login": person.github_login,
        "teams": [
            {"team": m.team.slug, "start": _iso(m.start), "end": _iso(m.end)}
            for m in person.memberships
        ],
    }


def team_dict(team: Team) -> dict[str, Any]:
    return {"id": team.id, "slug": team.slug, "name": team.name, "description": team.description}


def service_dict(service: Service) -> dict[str, Any]:
    return {
        "id": service.id,
        "slug": service.slug,
        "name": service.name,
        "tier": service.tier,
        "team": service.team.slug if service.team else None,
        "description": service.description,
    }


def problem_dict(problem: Problem, incident_count: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": problem.key,
        "title": problem.title,
        "description": problem.description,
        "status": problem.status,
        "workaround": problem.workaround,
    }
    if incident_count is not None:
        data["incident_count"] = incident_count
    return data


def role_dict(role: RoleAssignment) -> dict[str, Any]:
    return {
        "id": role.id,
        "role": role.role,
        "person_id": role.person_id,
        "person": role.person.name,
        "start": _iso(role.start),
        "end": _iso(role.end),
    }


def update_dict(update: UpdateRow) -> dict[str, Any]:
    return {
        "id": update.id,
        "at": _iso(update.at),
        "status": update.status,
        "body": update.body,
        "author": update.author_person.name if update.author_person else None,
    }


def impact_dict(row: CustomerImpact) -> dict[str, Any]:
    seconds = None if row.end_at is None else (row.end_at - row.start_at).total_seconds()
    return {
        "id": row.id,
        "start": _iso(row.start_at),
        "end": _iso(row.end_at),
        "seconds": seconds,
        "description": row.description,
    }


def action_item_dict(item: ActionItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "incident": f"INC-{item.incident.number}",
        "title": item.title,
        "kind": item.kind,
        "owner_id": item.owner_id,
        "owner": item.owner.name if item.owner else None,
        "due": _iso(item.due),
        "status": item.status,
        "url": item.url,
        "created_at": _iso(item.created_at),
        "completed_at": _iso(item.completed_at),
    }


def reference_dict(reference: Reference) -> dict[str, Any]:
    return {
        "id": reference.id,
        "kind": reference.kind,
        "url": reference.url,
        "title": reference.title,
    }


def milestone_edit_dict(edit: MilestoneEdit) -> dict[str, Any]:
    return {
        "milestone": edit.milestone,
        "old": _iso(edit.old_value),
        "new": _iso(edit.new_value),
        "at": _iso(edit.at),
        "reason": edit.reason,
    }


def user_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "person_id": user.person_id,
        "is_active": user.is_active,
        "last_login_at": _iso(user.last_login_at),
    }


def milestone_values(milestones: Milestones) -> dict[str, datetime | None]:
    return {name: value for name, value in milestones if name in milestones.model_fields_set}
