"""The append-only audit log: one helper to record a write, one to read an incident's feed.

Values are stored as JSON-safe dicts (datetimes and dates as ISO 8601 strings).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from afteraction.core.access import Actor
from afteraction.storage.tables import AuditLog


def jsonable(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, datetime | date):
            out[key] = value.isoformat()
        elif isinstance(value, list | tuple):
            out[key] = [v.isoformat() if isinstance(v, datetime | date) else v for v in value]
        else:
            out[key] = value
    return out


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    target_type: str,
    target_id: object,
    incident_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditLog:
    row = AuditLog(
        actor_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        incident_id=incident_id,
        before=jsonable(before),
        after=jsonable(after),
    )
    session.add(row)
    return row


def incident_feed(
    session: Session,
    incident_id: int,
    *,
    limit: int = 200,
    where: ColumnElement[bool] | None = None,
) -> list[AuditLog]:
    """The incident's entries, newest first; `where` narrows them (the caller's privacy rule)."""
    query = (
        select(AuditLog)
        .where(AuditLog.incident_id == incident_id, *(() if where is None else (where,)))
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
