"""Which incidents an actor may see, as one SQL condition: the single privacy rule every query
over incidents (lists, search, insights, directory pages, reports) applies.

Must not live here: any other access rule (writes are checked by `core.access` in services).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, or_
from sqlalchemy.orm import aliased

from afteraction.core.access import Actor
from afteraction.storage.tables import Incident, RoleAssignment


def visibility_clause(actor: Actor) -> Any:
    """Private incidents: admins, whoever declared it, and people holding a role on it."""
    if actor.is_admin:
        return Incident.id.is_not(None)
    conditions: list[ColumnElement[bool]] = [Incident.private.is_(False)]
    if actor.user_id is not None:
        conditions.append(Incident.created_by_id == actor.user_id)
    if actor.person_id is not None:
        # an alias, so that a query already selecting role assignments (a person's roles)
        # does not correlate this subquery's own table away
        held = aliased(RoleAssignment)
        conditions.append(
            exists().where(held.incident_id == Incident.id, held.person_id == actor.person_id)
        )
    return or_(*conditions)
