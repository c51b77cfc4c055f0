"""REST endpoints of the caller's own notifications and subscriptions: what the
`/notifications` page shows and does, through the same service (`services.inbox`).

`GET /notifications` (latest first, with the unread count), `POST /notifications/read`
(all, or the `ids` given), `GET`/`POST /subscriptions` (follow an incident's report, or a
team's reports and weekly digest), `DELETE /subscriptions/{id}`. Every user, viewers
included, has their own; another user's subscription is not found.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from afteraction.services import inbox
from afteraction.storage.db import writing
from afteraction.web.deps import CurrentActor, DbSession
from afteraction.web.schemas import inbox as s
from afteraction.web.schemas.common import NO_CONTENT, RowId

router = APIRouter(tags=["notifications"])


@router.get("/notifications", response_model=s.NotificationList)
def list_notifications(
    db: DbSession, actor: CurrentActor, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> s.NotificationList:
    found = inbox.inbox(db, actor, limit=limit)
    return s.NotificationList(
        items=[s.notification_read(row) for row in found.items], unread=found.unread
    )


@router.post("/notifications/read", response_model=s.MarkedRead)
def mark_notifications_read(body: s.MarkRead, db: DbSession, actor: CurrentActor) -> s.MarkedRead:
    with writing(db):
        return s.MarkedRead(marked=inbox.mark_read(db, actor, body.ids))


@router.get("/subscriptions", response_model=s.SubscriptionList)
def list_subscriptions(db: DbSession, actor: CurrentActor) -> s.SubscriptionList:
    return s.SubscriptionList(items=[s.subscription_read(f) for f in inbox.following(db, actor)])


@router.post("/subscriptions", status_code=201, response_model=s.SubscriptionRead)
def follow(body: s.SubscriptionCreate, db: DbSession, actor: CurrentActor) -> s.SubscriptionRead:
    with writing(db):
        return s.subscription_read(inbox.follow(db, actor, incident=body.incident, team=body.team))


@router.delete("/subscriptions/{subscription_id}", status_code=204, responses=NO_CONTENT)
def unfollow(subscription_id: RowId, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        inbox.unfollow(db, actor, subscription_id)
    return Response(status_code=204)
