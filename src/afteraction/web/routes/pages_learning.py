"""What follows a published report: the notification inbox and subscriptions (a team's or
an incident's reports, the weekly digest), the organisation page `/learning`, and opening
an issue for an action item. Writes go through `services.inbox` (and `notify` for issues),
as the API's do, in one transaction each and redirect back (303).
"""

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from afteraction.core import report_rules as report_rules
from afteraction.services import directory, inbox, notify, readership, users
from afteraction.services.action_items import update_action_item
from afteraction.web.deps import CurrentUser, DbSession, SettingsDep
from afteraction.web.routes.pages_forms import (
    see_other,
    write_then_back,
    writing_as,
)
from afteraction.web.routes.pages_incidents import FormDep, incident_key
from afteraction.web.schemas.common import RowId
from afteraction.web.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)


# -- notifications, learning -------------------------------------------------------------


@router.get("/notifications")
def notifications_page(request: Request, db: DbSession, user: CurrentUser) -> Response:
    actor = users.actor_for(user)
    found = inbox.inbox(db, actor)
    context = {
        "rows": found.items,
        "unread": found.unread,
        "subscriptions": inbox.following(db, actor),
        "teams": directory.list_teams(db),
    }
    return render(request, "notifications.html", context, user=user)


@router.post("/subscriptions")
def subscribe(request: Request, db: DbSession, user: CurrentUser, form: FormDep) -> Response:
    """Follow a team's or an incident's published reports (and the team's weekly digest)."""
    team = form.text("team", limit=80)
    incident = form.text("incident", limit=20)
    back = f"/incidents/{incident}/report" if incident else "/notifications"

    def write(actor: Any) -> str:
        if incident:
            followed = inbox.follow(db, actor, incident=incident_key(incident))
            return f"You will hear when {followed.label}'s report is published."
        inbox.follow(db, actor, team=team)
        return f"Subscribed to {team}'s reports and weekly digest."

    return write_then_back(request, db, user, back, write)


@router.post("/subscriptions/{subscription_id}/delete")
def unsubscribe(
    subscription_id: RowId, request: Request, db: DbSession, user: CurrentUser
) -> Response:
    def write(actor: Any) -> str:
        inbox.unfollow(db, actor, subscription_id)
        return "Unsubscribed."

    return write_then_back(request, db, user, "/notifications", write)


@router.post("/notifications/read")
def notifications_read(request: Request, db: DbSession, user: CurrentUser) -> Response:
    with writing_as(db, user):
        marked = inbox.mark_read(db, users.actor_for(user))
    notice = f"{marked} marked read." if marked else "Nothing was unread."
    return see_other(request, "/notifications", notice)


@router.get("/learning")
def learning_page(request: Request, db: DbSession, user: CurrentUser) -> Response:
    actor = users.actor_for(user)
    rows = readership.learning_rows(db, actor)
    done, total = readership.follow_through(db, actor)
    context = {
        "rows": rows,
        "definitions": report_rules.LEARNING_DEFINITIONS,
        "done": done,
        "total": total,
        "median_days": report_rules.median(
            r.days_to_publish for r in rows if r.days_to_publish is not None
        ),
        "median_readers": report_rules.median(r.readers for r in rows),
    }
    return render(request, "learning.html", context, user=user)


@router.post("/action-items/{item_id}/issue")
def action_item_issue(
    item_id: RowId,
    request: Request,
    db: DbSession,
    user: CurrentUser,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """Open a Jira or GitHub issue for the item when configured; otherwise store the link."""
    system = form.text("system", limit=10)
    link = form.text("url", limit=2000)
    back = form.text("next", limit=300)
    back = back if back.startswith("/incidents/") else "/action-items"

    def write(actor: Any) -> str:
        if link:
            update_action_item(db, actor, item_id, {"url": link})
            return "Link stored."
        url = notify.create_issue(db, settings, actor, item_id, system=system)
        return f"Issue created: {url}"

    return write_then_back(request, db, user, back, write)
