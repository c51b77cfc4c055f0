"""API schemas of what hangs off an incident besides its lifecycle: customer-impact
intervals, action items and references (Create/Update bodies, Read models and builders)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from afteraction.services.schemas.common import ReadModel, Timestamp
from afteraction.storage.tables import ActionItem, CustomerImpact, Reference
from afteraction.web.schemas.common import RowId, Strict, UserTime


class ImpactCreate(Strict):
    start: UserTime
    end: UserTime | None = None
    description: str = Field("", max_length=2000)


class ImpactUpdate(Strict):
    start: UserTime | None = None
    end: UserTime | None = None
    description: str | None = Field(None, max_length=2000)


class ImpactRead(ReadModel):
    id: int
    start: Timestamp
    end: Timestamp | None = Field(description="null while the impact goes on")
    seconds: float | None = Field(description="end - start; null while open")
    description: str


class ImpactList(ReadModel):
    items: list[ImpactRead]
    impact_duration_seconds: float | None = Field(
        description="The union of the intervals (overlaps counted once); null when none is "
        "recorded or one is still open"
    )
    definition: str


def impact_read(row: CustomerImpact) -> ImpactRead:
    seconds = None if row.end_at is None else (row.end_at - row.start_at).total_seconds()
    return ImpactRead(
        id=row.id, start=row.start_at, end=row.end_at, seconds=seconds, description=row.description
    )


class ActionItemCreate(Strict):
    title: str = Field(min_length=1, max_length=500)
    kind: str = "prevention"
    owner_id: RowId | None = None
    due: date | None = None
    status: str = "open"
    url: str = Field("", max_length=2000)


class ActionItemUpdate(Strict):
    title: str | None = Field(None, min_length=1, max_length=500)
    kind: str | None = None
    owner_id: RowId | None = None
    due: date | None = None
    status: str | None = None
    url: str | None = Field(None, max_length=2000)


class ActionItemRead(ReadModel):
    id: int
    incident: str
    title: str
    kind: str = Field(description="recovery, prevention or learning")
    owner_id: int | None
    owner: str | None = Field(description="The owner's name")
    due: date | None
    status: str
    url: str
    created_at: Timestamp
    completed_at: Timestamp | None


class ActionItemList(ReadModel):
    items: list[ActionItemRead]


def action_item_read(item: ActionItem) -> ActionItemRead:
    return ActionItemRead(
        id=item.id,
        incident=f"INC-{item.incident.number}",
        title=item.title,
        kind=item.kind,
        owner_id=item.owner_id,
        owner=item.owner.name if item.owner else None,
        due=item.due,
        status=item.status,
        url=item.url,
        created_at=item.created_at,
        completed_at=item.completed_at,
    )


class ReferenceCreate(Strict):
    url: str = Field(min_length=1, max_length=2000)
    kind: str = "other"
    title: str = Field("", max_length=500)


class ReferenceRead(ReadModel):
    id: int
    kind: str
    url: str
    title: str


class ReferenceList(ReadModel):
    items: list[ReferenceRead]


def reference_read(reference: Reference) -> ReferenceRead:
    return ReferenceRead(
        id=reference.id, kind=reference.kind, url=reference.url, title=reference.title
    )
