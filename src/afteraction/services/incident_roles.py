"""Who does what during an incident: roles (commander, scribe, ...) and when each was held.
Single-holder roles end the previous holder's term when someone new takes them. Every write
is audited; nothing here commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from afteraction.core import incidents as rules
from afteraction.core.access import Actor, require_write
from afteraction.core.errors import NotFound, ValidationError
from afteraction.services.incidents import get_incident, person_of
from afteraction.storage import audit
from afteraction.storage.tables import Incident, RoleAssignment
from afteraction.storage.types import utcnow

SINGLE_HOLDER_ROLES = frozenset({"commander", "communications lead", "scribe"})


def roles_of(session: Session, incident: Incident) -> list[RoleAssignment]:
    query = (
        select(RoleAssignment)
        .where(RoleAssignment.incident_id == incident.id)
        .options(selectinload(RoleAssignment.person))
        .order_by(RoleAssignment.start, RoleAssignment.id)
    )
    return list(session.scalars(query))


def assign_role(
    session: Session,
    actor: Actor,
    key: str | int,
    *,
    role: str,
    person_id: int,
    start: datetime | None = None,
) -> RoleAssignment:
    """Give `role` to a person from `start`; single-holder roles end the previous holder then."""
    require_write(actor)
    incident = get_incident(session, actor, key)
    role = role.strip().lower()
    if not role or len(role) > 60:
        raise ValidationError("role must be 1–60 characters", field="role")
    person = person_of(session, person_id, "person_id")
    moment = rules.require_aware(start, field_name="start") if start else utcnow()
    if role in SINGLE_HOLDER_ROLES:
        for current in roles_of(session, incident):
            if current.role == role and current.end is None:
                if current.person_id == person_id:
                    return current
                current.end = moment
    assignment = RoleAssignment(
        incident_id=incident.id, role=role, person_id=person.id, start=moment
    )
    session.add(assignment)
    session.flush()
    audit.record(
        session,
        actor,
        "role.assigned",
        target_type="role",
        target_id=assignment.id,
        incident_id=incident.id,
        after={"role": role, "person": person.name, "start": moment},
    )
    return assignment


def end_role(
    session: Session,
    actor: Actor,
    key: str | int,
    assignment_id: int,
    *,
    end: datetime | None = None,
) -> RoleAssignment:
    require_write(actor)
    incident = get_incident(session, actor, key)
    assignment = session.get(RoleAssignment, assignment_id)
    if assignment is None or assignment.incident_id != incident.id:
        raise NotFound("role assignment", assignment_id)
    moment = rules.require_aware(end, field_name="end") if end else utcnow()
    if moment < assignment.start:
        raise ValidationError("a role cannot end before it started", field="end")
    assignment.end = moment
    audit.record(
        session,
        actor,
        "role.ended",
        target_type="role",
        target_id=assignment.id,
        incident_id=incident.id,
        after={"role": assignment.role, "end": moment},
    )
    return assignment
