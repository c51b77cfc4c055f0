"""What the directory pages and API read across incidents, as an actor may see it: open action
items, problems with their incident counts, a problem's incidents, a person's roles and action
items, current team sizes.

Every read that reaches an incident applies `storage.visibility.visibility_clause`, so a
private incident is never listed or counted for someone who may not see it. Writes to the
directory are `services.directory` and `services.directory_edit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from afteraction.core.access import Actor
from afteraction.core.incidents import ACTION_ITEM_STATUSES, UNFINISHED_ACTION_ITEMS
from afteraction.storage.tables import (
    ActionItem,
    Incident,
    Person,
    Problem,
    RoleAssignment,
    TeamMembership,
)
from afteraction.storage.visibility import visibility_clause


def action_items(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    owner_id: int | None = None,
    limit: int = 1000,
) -> list[ActionItem]:
    """Action items of visible incidents, those with a due date first (soonest first).
    `status` is one of `ACTION_ITEM_STATUSES` or "unfinished"."""
    query = (
        select(ActionItem)
        .join(Incident, ActionItem.incident_id == Incident.id)
        .where(visibility_clause(actor))
        .options(contains_eager(ActionItem.incident), selectinload(ActionItem.owner))
    )
    if status == "unfinished":
        query = query.where(ActionItem.status.in_(UNFINISHED_ACTION_ITEMS))
    elif status in ACTION_ITEM_STATUSES:
        query = query.where(ActionItem.status == status)
    if owner_id is not None:
        query = query.where(ActionItem.owner_id == owner_id)
    order = (ActionItem.due.is_(None), ActionItem.due, ActionItem.id)
    return list(session.scalars(query.order_by(*order).limit(limit)).unique())


def problems_with_counts(session: Session, actor: Actor) -> list[tuple[Problem, int]]:
    """Every problem with the number of its incidents the actor may see."""
    counts = (
        select(Incident.problem_id, func.count().label("n"))
        .where(visibility_clause(actor), Incident.problem_id.is_not(None))
        .group_by(Incident.problem_id)
        .subquery()
    )
    query = (
        select(Problem, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.problem_id == Problem.id)
        .order_by(Problem.key)
    )
    return [(row[0], int(row[1])) for row in session.execute(query)]


def problem_incidents(session: Session, actor: Actor, problem: Problem) -> Sequence[Incident]:
    """The problem's incidents the actor may see, newest first."""
    query = (
        select(Incident)
        .where(Incident.problem_id == problem.id, visibility_clause(actor))
        .order_by(Incident.number.desc())
    )
    return session.scalars(query).all()


def current_team_sizes(session: Session, today: date) -> dict[int, int]:
    """Team id → people with a membership that has not ended by `today`."""
    current = (
        select(TeamMembership.team_id, func.count(func.distinct(TeamMembership.person_id)))
        .where((TeamMembership.end.is_(None)) | (TeamMembership.end > today))
        .group_by(TeamMembership.team_id)
    )
    return {int(team_id): int(n) for team_id, n in session.execute(current)}


def person_roles(
    session: Session, actor: Actor, person: Person, *, limit: int = 500
) -> list[tuple[RoleAssignment, Incident]]:
    """Roles the person held on incidents the actor may see, latest first."""
    query = (
        select(RoleAssignment, Incident)
        .join(Incident, RoleAssignment.incident_id == Incident.id)
        .where(RoleAssignment.person_id == person.id, visibility_clause(actor))
        .order_by(RoleAssignment.start.desc())
        .limit(limit)
    )
    return [(row[0], row[1]) for row in session.execute(query)]


def person_action_items(session: Session, actor: Actor, person: Person) -> list[ActionItem]:
    """Action items the person owns on incidents the actor may see."""
    query = (
        select(ActionItem)
        .join(Incident, ActionItem.incident_id == Incident.id)
        .where(ActionItem.owner_id == person.id, visibility_clause(actor))
        .options(contains_eager(ActionItem.incident))
        .order_by(ActionItem.id)
    )
    return list(session.scalars(query).unique())
