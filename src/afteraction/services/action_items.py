"""What follows from an incident: action items (recovery, prevention, learning) with owner, due
date and status, and references (pull requests, tickets, dashboards, docs). Every write is
audited; nothing here commits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, selectinload

from afteraction.core import incidents as rules
from afteraction.core.access import Actor, require_write
from afteraction.core.errors import NotFound, ValidationError
from afteraction.services.incidents import get_incident, person_of
from afteraction.storage import audit
from afteraction.storage.tables import ActionItem, Incident, Reference
from afteraction.storage.types import utcnow


def action_items_of(session: Session, incident: Incident) -> list[ActionItem]:
    query = (
        select(ActionItem)
        .where(ActionItem.incident_id == incident.id)
        .options(selectinload(ActionItem.owner))
        .order_by(ActionItem.id)
    )
    return list(session.scalars(query))


def _check_url(url: str, field_name: str) -> str:
    url = url.strip()
    if url and not url.startswith(("http://", "https://")):
        raise ValidationError("links must start with http:// or https://", field=field_name)
    if len(url) > 2000:
        raise ValidationError("links are limited to 2000 characters", field=field_name)
    return url


def add_action_item(
    session: Session,
    actor: Actor,
    key: str | int,
    *,
    title: str,
    kind: str = "prevention",
    owner_id: int | None = None,
    due: date | None = None,
    status: str = "open",
    url: str = "",
) -> ActionItem:
    require_write(actor)
    incident = get_incident(session, actor, key)
    title = title.strip()
    if not title or len(title) > 500:
        raise ValidationError("title must be 1–500 characters", field="title")
    item = ActionItem(
        incident_id=incident.id,
        title=title,
        kind=rules.check_choice(kind, rules.ACTION_ITEM_KINDS, field_name="kind"),
        owner_id=person_of(session, owner_id, "owner_id").id if owner_id else None,
        due=due,
        status=rules.check_choice(status, rules.ACTION_ITEM_STATUSES, field_name="status"),
        url=_check_url(url, "url"),
        completed_at=utcnow() if status == "done" else None,
    )
    session.add(item)
    session.flush()
    audit.record(
        session,
        actor,
        "action_item.created",
        target_type="action_item",
        target_id=item.id,
        incident_id=incident.id,
        after={"title": title, "kind": kind, "status": status, "due": due},
    )
    return item


def update_action_item(
    session: Session, actor: Actor, item_id: int, changes: Mapping[str, Any]
) -> ActionItem:
    require_write(actor)
    item = session.get(ActionItem, item_id)
    if item is None:
        raise NotFound("action item", item_id)
    get_incident(session, actor, item.incident.number)  # visibility
    before = {k: getattr(item, k) for k in changes if hasattr(item, k)}
    for name, value in changes.items():
        if name == "title":
            if not str(value).strip() or len(str(value)) > 500:
                raise ValidationError("title must be 1–500 characters", field="title")
            item.title = str(value).strip()
        elif name == "kind":
            item.kind = rules.check_choice(value, rules.ACTION_ITEM_KINDS, field_name="kind")
        elif name == "status":
            item.status = rules.check_choice(value, rules.ACTION_ITEM_STATUSES, field_name="status")
            item.completed_at = utcnow() if value == "done" else None
        elif name == "owner_id":
            item.owner_id = person_of(session, value, "owner_id").id if value else None
        elif name == "due":
            item.due = value
        elif name == "url":
            item.url = _check_url(value or "", "url")
        else:
            raise ValidationError(f"cannot edit {name}", field=name)
    audit.record(
        session,
        actor,
        "action_item.updated",
        target_type="action_item",
        target_id=item.id,
        incident_id=item.incident_id,
        before=before,
        after=dict(changes),
    )
    return item


def references_of(session: Session, incident: Incident) -> list[Reference]:
    query = select(Reference).where(Reference.incident_id == incident.id)
    return list(session.scalars(query.order_by(Reference.id)))


def add_reference(
    session: Session,
    actor: Actor,
    key: str | int,
    *,
    url: str,
    kind: str = "other",
    title: str = "",
) -> Reference:
    require_write(actor)
    incident = get_incident(session, actor, key)
    url = _check_url(url, "url")
    if not url:
        raise ValidationError("a reference needs a URL", field="url")
    kind = rules.check_choice(kind, rules.REFERENCE_KINDS, field_name="kind")
    existing = session.scalar(
        select(Reference).where(and_(Reference.incident_id == incident.id, Reference.url == url))
    )
    if existing is not None:
        return existing
    reference = Reference(incident_id=incident.id, kind=kind, url=url, title=title.strip()[:500])
    session.add(reference)
    session.flush()
    audit.record(
        session,
        actor,
        "reference.added",
        target_type="reference",
        target_id=reference.id,
        incident_id=incident.id,
        after={"url": url, "kind": kind},
    )
    return reference
