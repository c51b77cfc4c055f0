"""API schemas of an incident and its lifecycle: declare (`IncidentCreate`), edit
(`IncidentUpdate`), status, milestones (with their history), roles and updates, and the
configuration that governs them (severities, lifecycle). The incident's Read models are
shared with the CLI (`afteraction.services.schemas.incidents`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from afteraction.services.schemas.common import ReadModel, Timestamp
from afteraction.services.schemas.incidents import RoleRead, UpdateRead
from afteraction.storage.tables import MilestoneEdit
from afteraction.web.schemas.common import RowId, Strict, UserTime


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
    version: RowId | None = Field(
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
    person_id: RowId
    start: UserTime | None = None


class RoleEnd(Strict):
    end: UserTime | None = None


class UpdateCreate(Strict):
    body: str = Field(min_length=1, max_length=20_000)
    at: UserTime | None = None


def milestone_values(milestones: Milestones) -> dict[str, datetime | None]:
    """The milestones the body named (an explicit null clears one)."""
    return {name: value for name, value in milestones if name in milestones.model_fields_set}


class RoleList(ReadModel):
    items: list[RoleRead]


class UpdateList(ReadModel):
    items: list[UpdateRead]


class MilestoneEditRead(ReadModel):
    milestone: str
    old: Timestamp | None
    new: Timestamp | None
    at: Timestamp
    reason: str


class MilestoneHistory(ReadModel):
    items: list[MilestoneEditRead]
    definitions: dict[str, str] = Field(description="What each milestone means")


def milestone_edit_read(edit: MilestoneEdit) -> MilestoneEditRead:
    return MilestoneEditRead(
        milestone=edit.milestone,
        old=edit.old_value,
        new=edit.new_value,
        at=edit.at,
        reason=edit.reason,
    )


class ActivityItem(ReadModel):
    at: Timestamp
    actor: str
    action: str
    before: dict[str, object] | None
    after: dict[str, object] | None


class ActivityFeed(ReadModel):
    items: list[ActivityItem]


class SeverityRead(ReadModel):
    name: str
    rank: int
    description: str


class SeverityList(ReadModel):
    items: list[SeverityRead]


class LifecycleRead(ReadModel):
    initial: str
    statuses: list[str]
    transitions: dict[str, list[str]] = Field(description="Allowed next statuses, by status")
    sets_milestone: dict[str, str] = Field(description="The milestone a status sets")
    milestone_definitions: dict[str, str]
