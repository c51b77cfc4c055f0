"""Customer-impact intervals of an incident: list, record, change, remove, and the impact
duration of many incidents at once for the metrics.

Lives here: reads and audited writes on `customer_impacts`. The rules (valid interval,
overlaps merged, missing when none or one open) are `core.metrics.impact`'s. Callers own the
write transaction (`with writing(session):`), as everywhere in storage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import Actor, require_write
from afteraction.core.errors import NotFound, ValidationError
from afteraction.core.metrics.impact import ImpactInterval, check_interval, impact_seconds
from afteraction.services.incidents import get_incident
from afteraction.storage import audit
from afteraction.storage.tables import CustomerImpact, Incident

MAX_DESCRIPTION = 2000


def impacts_of(session: Session, incident: Incident) -> list[CustomerImpact]:
    query = select(CustomerImpact).where(CustomerImpact.incident_id == incident.id)
    return list(session.scalars(query.order_by(CustomerImpact.start_at, CustomerImpact.id)))


def impact_duration(rows: Iterable[CustomerImpact]) -> float | None:
    """Seconds of customer impact (overlaps once); None when none recorded or one open."""
    return impact_seconds(ImpactInterval(r.start_at, r.end_at) for r in rows)


def impact_by_incident(session: Session, incident_ids: Iterable[int]) -> dict[int, float | None]:
    """Impact duration per incident id, for the incidents that have any interval recorded."""
    ids = list(incident_ids)
    found: dict[int, list[ImpactInterval]] = {}
    for start in range(0, len(ids), 5000):
        query = select(CustomerImpact.incident_id, CustomerImpact.start_at, CustomerImpact.end_at)
        for incident_id, start_at, end_at in session.execute(
            query.where(CustomerImpact.incident_id.in_(ids[start : start + 5000]))
        ):
            found.setdefault(incident_id, []).append(ImpactInterval(start_at, end_at))
    return {incident_id: impact_seconds(items) for incident_id, items in found.items()}


def _description(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_DESCRIPTION:
        raise ValidationError(
            f"the description is limited to {MAX_DESCRIPTION} characters", field="description"
        )
    return text


def _as_dict(row: CustomerImpact) -> dict[str, Any]:
    return {
        "start": row.start_at.isoformat(),
        "end": row.end_at.isoformat() if row.end_at else None,
        "description": row.description[:200],
    }


def add_impact(
    session: Session,
    actor: Actor,
    key: str | int,
    *,
    start: datetime,
    end: datetime | None = None,
    description: str = "",
) -> CustomerImpact:
    require_write(actor)
    incident = get_incident(session, actor, key)
    interval = check_interval(start, end)
    row = CustomerImpact(
        incident_id=incident.id,
        start_at=interval.start,
        end_at=interval.end,
        description=_description(description),
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "impact.added", target_type="customer_impact",
                 target_id=row.id, incident_id=incident.id, after=_as_dict(row))  # fmt: skip
    return row


def _get(session: Session, actor: Actor, key: str | int, impact_id: int) -> CustomerImpact:
    incident = get_incident(session, actor, key)
    row = session.get(CustomerImpact, impact_id)
    if row is None or row.incident_id != incident.id:
        raise NotFound("customer impact interval", impact_id)
    return row


def update_impact(
    session: Session, actor: Actor, key: str | int, impact_id: int, changes: Mapping[str, Any]
) -> CustomerImpact:
    """Change `start`, `end` (None reopens) and/or `description` of one interval."""
    require_write(actor)
    row = _get(session, actor, key, impact_id)
    before = _as_dict(row)
    start = changes.get("start", row.start_at)
    end = changes.get("end", row.end_at)
    if start is None:
        raise ValidationError("an impact interval needs a start", field="start")
    interval = check_interval(start, end)
    row.start_at, row.end_at = interval.start, interval.end
    if "description" in changes:
        row.description = _description(changes["description"] or "")
    session.flush()
    audit.record(session, actor, "impact.changed", target_type="customer_impact",
                 target_id=row.id, incident_id=row.incident_id, before=before,
                 after=_as_dict(row))  # fmt: skip
    return row


def remove_impact(session: Session, actor: Actor, key: str | int, impact_id: int) -> None:
    require_write(actor)
    row = _get(session, actor, key, impact_id)
    audit.record(session, actor, "impact.removed", target_type="customer_impact",
                 target_id=row.id, incident_id=row.incident_id, before=_as_dict(row))  # fmt: skip
    session.delete(row)
    session.flush()


__all__ = [
    "add_impact",
    "impact_by_incident",
    "impact_duration",
    "impacts_of",
    "remove_impact",
    "update_impact",
]
