"""A signed-in user's own notifications and what they follow, for every entry point (the
`/notifications` page, `/api/v1/notifications` and `/api/v1/subscriptions`): read the inbox
(with how many are unread), mark it read, follow an incident's or a team's published reports
(a team's weekly digest comes with it), and stop following.

Rules, here once: each user sees and changes only their own rows (another user's
subscription is not found, never deleted quietly); following an incident needs the right to
see it, and a subscription to an incident the user may no longer see is listed without its
id; following the same thing twice keeps one subscription. Writes run in the caller's
transaction. Lives elsewhere: who is told about a published report and the digests
(`storage.notifications`), sending email and Slack copies (`services.notify`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import Actor
from afteraction.core.errors import NotFound, PermissionDenied, ValidationError
from afteraction.services import directory
from afteraction.services import incidents as repo
from afteraction.storage import notifications
from afteraction.storage.review_tables import Subscription, UserNotification
from afteraction.storage.tables import Incident, Team
from afteraction.storage.visibility import visibility_clause


@dataclass(frozen=True, slots=True)
class Inbox:
    items: list[UserNotification]  # newest first
    unread: int  # of all the user's notifications, not only those listed


@dataclass(frozen=True, slots=True)
class Following:
    """One subscription: an incident's reports (`incident` its id, or None when the user may
    no longer see it) or a team's reports and weekly digest (`team` its slug)."""

    id: int
    label: str
    incident: str | None
    team: str | None
    created_at: datetime


def _user_of(actor: Actor) -> int:
    if actor.user_id is None:
        raise PermissionDenied("notifications belong to a signed-in user")
    return actor.user_id


def inbox(session: Session, actor: Actor, *, limit: int = 50) -> Inbox:
    """The caller's latest notifications and how many of all theirs are unread."""
    user_id = _user_of(actor)
    return Inbox(
        notifications.inbox(session, user_id, limit=limit),
        notifications.unread_count(session, user_id),
    )


def mark_read(session: Session, actor: Actor, ids: Sequence[int] | None = None) -> int:
    """Mark the caller's unread notifications read (all, or those of `ids`); returns how
    many were marked. Ids of other users' notifications change nothing."""
    return notifications.mark_read(session, _user_of(actor), ids)


def follow(
    session: Session,
    actor: Actor,
    *,
    incident: str | int | None = None,
    team: str | None = None,
) -> Following:
    """Follow one incident's report (it must be visible to the caller) or one team's
    reports and weekly digest; following it again returns the subscription there is."""
    user_id = _user_of(actor)
    if bool(incident) == bool(team):
        raise ValidationError("follow one incident or one team", field="incident")
    if incident:
        row = repo.get_incident(session, actor, incident)
        found = notifications.subscribe(session, user_id, incident_id=row.id)
    else:
        found = notifications.subscribe(
            session, user_id, team_id=directory.team_by_slug(session, str(team)).id
        )
    return _following(session, actor, found)


def following(session: Session, actor: Actor) -> list[Following]:
    """What the caller follows, oldest first."""
    rows = notifications.subscriptions_of(session, _user_of(actor))
    return [_following(session, actor, row) for row in rows]


def unfollow(session: Session, actor: Actor, subscription_id: int) -> None:
    """Stop following; NotFound when the subscription is not the caller's."""
    if not notifications.unsubscribe(session, _user_of(actor), subscription_id):
        raise NotFound("subscription", subscription_id)


def _following(session: Session, actor: Actor, row: Subscription) -> Following:
    if row.team_id is not None:
        team = session.get(Team, row.team_id)
        slug = team.slug if team else None
        label = f"team {team.name}" if team else "a removed team"
        return Following(row.id, label, None, slug, row.created_at)
    incident = session.scalar(
        select(Incident).where(Incident.id == row.incident_id, visibility_clause(actor))
    )
    public_id = None if incident is None else incident.public_id
    label = public_id or "an incident you cannot see"
    return Following(row.id, label, public_id, None, row.created_at)
