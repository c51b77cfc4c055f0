"""Per-user notifications, subscriptions and weekly team digests on the database.

Lives here: recording in-app notifications (with their email/Slack copies marked pending),
listing and marking them read, subscriptions to incidents and teams, who should hear about a
published report, and building a team's weekly digest once. Does not live here: sending
email or Slack messages (`afteraction.services.notify` does that with `adapters.delivery`), or any
interview content: notification text is written by the callers from titles and counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from afteraction.core.errors import ValidationError
from afteraction.storage.review_tables import (
    Digest,
    Report,
    Subscription,
    UserNotification,
)
from afteraction.storage.tables import (
    Incident,
    IncidentTeam,
    RoleAssignment,
    TeamMembership,
    User,
)
from afteraction.storage.types import utcnow


def users_of_people(session: Session, person_ids: Iterable[int]) -> list[int]:
    ids = set(person_ids)
    if not ids:
        return []
    query = select(User.id).where(User.person_id.in_(ids), User.is_active.is_(True))
    return sorted(session.scalars(query))


def notify(
    session: Session,
    user_ids: Iterable[int],
    *,
    kind: str,
    subject: str,
    body: str = "",
    url: str = "",
    incident_id: int | None = None,
    email: bool = True,
    slack: bool = True,
) -> list[UserNotification]:
    """One in-app notification per user (duplicates in `user_ids` collapse); the email and
    Slack copies start pending and are sent by the delivery job."""
    rows = []
    for user_id in sorted(set(user_ids)):
        row = UserNotification(
            user_id=user_id,
            incident_id=incident_id,
            kind=kind,
            subject=subject[:300],
            body=body,
            url=url,
            email_status="pending" if email else "none",
            slack_status="pending" if slack else "none",
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def inbox(session: Session, user_id: int, *, limit: int = 50) -> list[UserNotification]:
    query = select(UserNotification).where(UserNotification.user_id == user_id)
    return list(session.scalars(query.order_by(UserNotification.id.desc()).limit(limit)))


def unread_count(session: Session, user_id: int) -> int:
    query = select(func.count()).where(
        UserNotification.user_id == user_id, UserNotification.read_at.is_(None)
    )
    return int(session.scalar(query) or 0)


def mark_read(session: Session, user_id: int, ids: Sequence[int] | None = None) -> int:
    """Mark the user's notifications read (all, or `ids`); other users' rows are untouched.
    Returns how many were marked."""
    statement = update(UserNotification).where(
        UserNotification.user_id == user_id, UserNotification.read_at.is_(None)
    )
    if ids is not None:
        statement = statement.where(UserNotification.id.in_(list(ids)))
    result = session.execute(statement.values(read_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def pending(session: Session, channel: str, *, limit: int = 200) -> list[UserNotification]:
    column = UserNotification.email_status if channel == "email" else UserNotification.slack_status
    query = select(UserNotification).where(column == "pending").order_by(UserNotification.id)
    return list(session.scalars(query.limit(limit)))


def set_status(row: UserNotification, channel: str, status: str, error: str = "") -> None:
    if channel == "email":
        row.email_status = status
    else:
        row.slack_status = status
    if error:
        row.error = (row.error + f"\n{channel}: {error}").strip()[:4000]


# -- subscriptions -----------------------------------------------------------------------


def subscribe(
    session: Session, user_id: int, *, incident_id: int | None = None, team_id: int | None = None
) -> Subscription:
    if (incident_id is None) == (team_id is None):
        raise ValidationError("subscribe to one incident or one team", field="target")
    found = session.scalar(
        select(Subscription).where(
            Subscription.user_id == user_id,
            Subscription.incident_id.is_(None)
            if incident_id is None
            else Subscription.incident_id == incident_id,
            Subscription.team_id.is_(None) if team_id is None else Subscription.team_id == team_id,
        )
    )
    if found is not None:
        return found
    row = Subscription(user_id=user_id, incident_id=incident_id, team_id=team_id)
    session.add(row)
    session.flush()
    return row


def subscriptions_of(session: Session, user_id: int) -> list[Subscription]:
    """The user's subscriptions, oldest first."""
    query = select(Subscription).where(Subscription.user_id == user_id)
    return list(session.scalars(query.order_by(Subscription.id)))


def unsubscribe(session: Session, user_id: int, subscription_id: int) -> bool:
    """Delete the user's subscription; False when there is none of theirs by that id."""
    row = session.get(Subscription, subscription_id)
    if row is None or row.user_id != user_id:
        return False
    session.delete(row)
    return True


def incident_team_ids(session: Session, incident_id: int, person_ids: Iterable[int]) -> set[int]:
    """The incident's teams and the current teams of `person_ids`."""
    teams = set(
        session.scalars(select(IncidentTeam.team_id).where(IncidentTeam.incident_id == incident_id))
    )
    ids = list(person_ids)
    if ids:
        teams.update(
            session.scalars(
                select(TeamMembership.team_id).where(
                    TeamMembership.person_id.in_(ids), TeamMembership.end.is_(None)
                )
            )
        )
    return teams


def audience(session: Session, incident: Incident, participants: Iterable[int]) -> list[int]:
    """Users to tell about a published report: participants, members of their teams and of
    the incident's teams, and subscribers of the incident or of those teams. Private
    incidents reach participants and incident subscribers only."""
    people = set(participants)
    teams = incident_team_ids(session, incident.id, people)
    if not incident.private and teams:
        people.update(
            session.scalars(
                select(TeamMembership.person_id).where(
                    TeamMembership.team_id.in_(teams), TeamMembership.end.is_(None)
                )
            )
        )
    users = set(users_of_people(session, people))
    conditions = [Subscription.incident_id == incident.id]
    if not incident.private and teams:
        conditions.append(Subscription.team_id.in_(teams))
    users.update(session.scalars(select(Subscription.user_id).where(or_(*conditions))))
    return sorted(users)


# -- digests -----------------------------------------------------------------------------


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def build_digests(session: Session, now: datetime) -> list[Digest]:
    """For the week before `now`'s week, one digest per team whose incidents (or whose
    members' incidents) had a report published; a digest is built once (idempotent)."""
    start = week_start(now.date()) - timedelta(days=7)
    low = datetime.combine(start, datetime.min.time(), tzinfo=now.tzinfo)
    high = low + timedelta(days=7)
    reports = session.execute(
        select(Report.id, Report.incident_id, Incident.private)
        .join(Incident, Incident.id == Report.incident_id)
        .where(Report.first_published_at >= low, Report.first_published_at < high)
    ).all()
    by_team: dict[int, list[int]] = {}
    for report_id, incident_id, private in reports:
        if private:
            continue
        for team_id in incident_team_ids(session, incident_id, _role_people(session, incident_id)):
            by_team.setdefault(team_id, []).append(report_id)
    made = []
    for team_id, report_ids in sorted(by_team.items()):
        exists = session.scalar(
            select(Digest.id).where(Digest.team_id == team_id, Digest.week_start == start)
        )
        if exists is None:
            digest = Digest(team_id=team_id, week_start=start, report_ids=sorted(set(report_ids)))
            session.add(digest)
            made.append(digest)
    session.flush()
    return made


def _role_people(session: Session, incident_id: int) -> list[int]:
    query = select(RoleAssignment.person_id).where(RoleAssignment.incident_id == incident_id)
    return list(set(session.scalars(query)))


def team_member_users(session: Session, team_id: int) -> list[int]:
    people = session.scalars(
        select(TeamMembership.person_id).where(
            TeamMembership.team_id == team_id, TeamMembership.end.is_(None)
        )
    )
    users = set(users_of_people(session, people))
    users.update(
        session.scalars(select(Subscription.user_id).where(Subscription.team_id == team_id))
    )
    return sorted(users)
