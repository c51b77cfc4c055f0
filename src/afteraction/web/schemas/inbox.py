"""API schemas of a user's own notifications and subscriptions (`services.inbox`)."""

from __future__ import annotations

from pydantic import Field

from afteraction.services.inbox import Following
from afteraction.services.schemas.common import ReadModel, Timestamp
from afteraction.storage.review_tables import UserNotification
from afteraction.web.schemas.common import RowId, Strict


class NotificationRead(ReadModel):
    id: int
    kind: str = Field(description="What it is about: report_published, digest, action_item_due...")
    subject: str
    body: str
    url: str = Field(description="Where it points in the app (a path), or empty")
    created_at: Timestamp
    read_at: Timestamp | None


class NotificationList(ReadModel):
    items: list[NotificationRead] = Field(description="The latest first")
    unread: int = Field(description="How many of all the caller's notifications are unread")


class MarkRead(Strict):
    ids: list[RowId] | None = Field(
        None, max_length=1000, description="Only these notifications; all unread ones if absent"
    )


class MarkedRead(ReadModel):
    marked: int = Field(description="How many were unread and are now read")


class SubscriptionCreate(Strict):
    incident: str | None = Field(None, max_length=20, description="Follow its report (INC-42)")
    team: str | None = Field(
        None, max_length=80, description="Follow the team's reports and weekly digest (its slug)"
    )


class SubscriptionRead(ReadModel):
    id: int
    label: str
    incident: str | None = Field(
        description="The incident followed; null for a team, or an incident no longer visible"
    )
    team: str | None = Field(description="The slug of the team followed")
    created_at: Timestamp


class SubscriptionList(ReadModel):
    items: list[SubscriptionRead]


def notification_read(row: UserNotification) -> NotificationRead:
    return NotificationRead.model_validate(row, from_attributes=True)


def subscription_read(found: Following) -> SubscriptionRead:
    return SubscriptionRead.model_validate(found, from_attributes=True)
