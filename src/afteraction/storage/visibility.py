"""Which incidents, interviews and chat messages an actor may see, as SQL conditions: the
privacy rules every query over incidents (lists, search, insights, directory pages,
reports), over interviews (their lists, the activity feed, counts in errors) and over the
messages an incident holds (its transcript, search) applies, each stated once.

Must not live here: any other access rule (writes are checked by `core.access` in services).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select

from afteraction.core.access import Actor
from afteraction.storage.analysis_tables import Interview, InterviewReader
from afteraction.storage.evidence_tables import IncidentChannel, Message
from afteraction.storage.tables import Incident, RoleAssignment

INVESTIGATOR_ROLE = "investigator"
"""The incident role whose holders may read all of the incident's interviews."""


def visibility_clause(actor: Actor) -> Any:
    """Private incidents: admins, whoever declared it, and people holding a role on it."""
    if actor.is_admin:
        return Incident.id.is_not(None)
    conditions: list[ColumnElement[bool]] = [Incident.private.is_(False)]
    if actor.user_id is not None:
        conditions.append(Incident.created_by_id == actor.user_id)
    if actor.person_id is not None:
        held = select(RoleAssignment.id).where(
            RoleAssignment.incident_id == Incident.id,
            RoleAssignment.person_id == actor.person_id,
        )
        # correlated to the incident only: a query over role assignments keeps its own rows
        conditions.append(held.correlate(Incident).exists())
    return or_(*conditions)


def interview_visibility_clause(actor: Actor) -> ColumnElement[bool]:
    """Interviews (their existence included): on an incident the actor may see, to the
    people holding the investigator role on that incident (at any time), the user who runs
    the interview, and users named as its readers. Nobody else, admins included."""
    conditions: list[ColumnElement[bool]] = []
    if actor.person_id is not None:
        investigates = select(RoleAssignment.id).where(
            RoleAssignment.incident_id == Interview.incident_id,
            RoleAssignment.person_id == actor.person_id,
            RoleAssignment.role == INVESTIGATOR_ROLE,
        )
        conditions.append(investigates.correlate(Interview).exists())
    if actor.user_id is not None:
        conditions.append(Interview.investigator_user_id == actor.user_id)
        named = select(InterviewReader.user_id).where(
            InterviewReader.interview_id == Interview.id,
            InterviewReader.user_id == actor.user_id,
        )
        conditions.append(named.correlate(Interview).exists())
    if not conditions:
        return false()
    visible = select(Incident.id).where(visibility_clause(actor))
    return and_(or_(*conditions), Interview.incident_id.in_(visible))


def in_window() -> ColumnElement[bool]:
    """A message lies in the window its channel is attached for (`IncidentChannel` joined or
    correlated): on or after `since`, before `until`, either end open when empty. What an
    incident holds of a channel is exactly this; its transcript and search both use it."""
    return and_(
        or_(IncidentChannel.since.is_(None), Message.at >= IncidentChannel.since),
        or_(IncidentChannel.until.is_(None), Message.at < IncidentChannel.until),
    )
