"""The incident page and its small forms: status buttons, milestones (with the out-of-order
override), roles, status updates, action items and references, plus the activity feed.

Every form posts here, writes through `afteraction.services.incidents` inside one
transaction (`writing_as`) and redirects back (303). A refused form re-renders the incident
page with the message beside that form and the typed values kept (422, or 409 on a clash).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core import incidents as rules
from afteraction.core import times
from afteraction.core.access import Actor, require_write
from afteraction.core.errors import Conflict, ValidationError
from afteraction.core.metrics.definitions import METRICS
from afteraction.services import action_items, activity, impact, incident_roles, users
from afteraction.services import incidents as repo
from afteraction.storage.tables import (
    ActionItem,
    AuditLog,
    CustomerImpact,
    Incident,
    IncidentUpdate,
    MilestoneEdit,
    Person,
    Reference,
    RoleAssignment,
    SeverityLevel,
    User,
)
from afteraction.storage.types import utcnow
from afteraction.web.deps import CurrentUser, DbSession
from afteraction.web.pagecache import cached_page
from afteraction.web.routes.pages_forms import (
    TIME_ZONES,
    Form,
    can_write,
    errors_of,
    render_page,
    see_other,
    writing_as,
)
from afteraction.web.routes.pages_incidents import FormDep, incident_key
from afteraction.web.schemas.common import RowId

router = APIRouter(include_in_schema=False)
DURATIONS = [m for m in METRICS.values() if m.start and m.end and m.id != "time_between_failures"]
ACTIONS = {
    "incident.declared": "declared the incident",
    "incident.updated": "edited the incident",
    "incident.status_changed": "changed the status",
    "incident.milestones_set": "edited milestones",
    "role.assigned": "assigned a role",
    "role.ended": "ended a role",
    "update.posted": "posted an update",
    "action_item.created": "added an action item",
    "action_item.updated": "changed an action item",
    "reference.added": "added a reference",
}
QUIET = frozenset({"summary", "customer_impact", "title"})
EMPTY: tuple[Any, ...] = (None, "", [], False)
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
SAFE_NEXT = re.compile(r"/action-items(\?[\w=&%+.-]*)?")


@dataclass(frozen=True, slots=True)
class MilestoneRow:
    name: str
    definition: str
    value: datetime | None
    input_value: str


@dataclass(frozen=True, slots=True)
class DurationRow:
    """A duration and the milestones it runs between, e.g. resolved − started."""

    label: str
    start: str
    end: str
    value: str

    @property
    def caption(self) -> str:
        return f"{self.label} ({self.end} − {self.start})"


@dataclass(frozen=True, slots=True)
class FeedRow:
    at: datetime
    actor: str
    text: str
    details: str


@dataclass(slots=True)
class IncidentPage:
    incident: Incident
    severity_description: str
    next_statuses: tuple[str, ...]
    milestones: list[MilestoneRow]
    durations: list[DurationRow]
    order_warnings: list[str]
    history: list[MilestoneEdit]
    roles_current: list[RoleAssignment]
    roles_past: list[RoleAssignment]
    updates: list[IncidentUpdate]
    impacts: list[CustomerImpact]
    impact_total: str
    action_items: list[ActionItem]
    references: list[Reference]
    feed: list[FeedRow]
    people: list[Person]
    can_write: bool
    today: date
    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    role_names: tuple[str, ...] = rules.DEFAULT_ROLES
    item_kinds: tuple[str, ...] = rules.ACTION_ITEM_KINDS
    item_statuses: tuple[str, ...] = rules.ACTION_ITEM_STATUSES
    reference_kinds: tuple[str, ...] = rules.REFERENCE_KINDS
    time_zones: tuple[str, ...] = TIME_ZONES

    def value(self, form: str, name: str, default: Any = "") -> Any:
        return self.values.get(form, {}).get(name, default)

    def error(self, form: str, name: str) -> str | None:
        return self.errors.get(form, {}).get(name)

    def is_overdue(self, item: ActionItem) -> bool:
        return rules.action_item_overdue(item.status, item.due, self.today)


def _durations(incident: Incident) -> list[DurationRow]:
    moments = repo.milestones_of(incident)
    rows = []
    for metric in DURATIONS:
        start, end = moments.get(str(metric.start)), moments.get(str(metric.end))
        value = rules.format_duration(end - start) if start and end else "not yet known"
        rows.append(DurationRow(metric.label, str(metric.start), str(metric.end), value))
    if incident.resolved_at is None and incident.started_at is not None:
        elapsed = rules.format_duration(utcnow() - incident.started_at)
        rows.append(DurationRow("open so far", "started", "now", elapsed))
    return rows


def _impact_total(rows: list[CustomerImpact]) -> str:
    if not rows:
        return "not recorded"
    seconds = impact.impact_duration(rows)
    if seconds is None:
        return "still affecting customers"
    return rules.format_duration(timedelta(seconds=seconds))


def _feed(rows: list[AuditLog]) -> list[FeedRow]:
    feed = []
    for row in rows:
        after = row.after or {}
        if row.action == "incident.status_changed":
            details = f"{(row.before or {}).get('status')} → {after.get('status')}"
            if after.get("note"):
                details += f": {str(after['note'])[:120]}"
        else:
            details = "; ".join(
                f"{k}: {_short(v)}" for k, v in after.items() if k not in QUIET and v not in EMPTY
            )
        feed.append(FeedRow(row.at, row.actor_label, ACTIONS.get(row.action, row.action), details))
    return feed


def _short(value: Any) -> str:
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = str(value)
    if ISO_TIME.match(text):
        text = times.display(datetime.fromisoformat(text))
    return text if len(text) <= 80 else text[:79] + "…"


def build_page(db: Session, actor: Actor, number: int) -> IncidentPage:
    incident = repo.get_incident(db, actor, number)
    severity = db.get(SeverityLevel, incident.severity)
    roles = incident_roles.roles_of(db, incident)
    moments = repo.milestones_of(incident)
    impacts = impact.impacts_of(db, incident)
    return IncidentPage(
        incident=incident,
        severity_description=severity.description if severity else "",
        next_statuses=rules.DEFAULT_LIFECYCLE.allowed_from(incident.status),
        milestones=[
            MilestoneRow(name, rules.MILESTONE_DEFINITIONS[name], value, times.local_input(value))
            for name, value in moments.items()
        ],
        durations=_durations(incident),
        order_warnings=rules.milestone_order_problems(moments),
        history=repo.milestone_history(db, incident),
        roles_current=[r for r in roles if r.end is None],
        roles_past=[r for r in roles if r.end is not None],
        updates=repo.updates_of(db, incident),
        impacts=impacts,
        impact_total=_impact_total(impacts),
        action_items=action_items.action_items_of(db, incident),
        references=action_items.references_of(db, incident),
        feed=_feed(activity.feed(db, actor, incident, limit=100)),
        people=list(db.scalars(select(Person).order_by(Person.name).limit(2000))),
        can_write=can_write(actor),
        today=datetime.now(UTC).date(),
    )


@router.get("/incidents/{key}")
@cached_page
def incident_page(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    page = build_page(db, users.actor_for(user), incident_key(key))
    return render_page(request, "incident.html", page, user=user)


Write = Callable[[Actor, Form], str]


def submit(
    request: Request, db: Session, user: User, number: int, name: str, form: Form, write: Write
) -> Response:
    """Run one form's write in a transaction; redirect back, or re-render with the message.
    A caller who may not change the incident (or see it) is refused before the form is read."""
    actor = users.actor_for(user)
    require_write(actor)
    repo.get_incident(db, actor, number)
    try:
        with writing_as(db, user):
            notice = write(actor, form)
    except (ValidationError, Conflict) as error:
        page = build_page(db, actor, number)
        page.errors = {name: errors_of(error)}
        page.values = {name: form.raw()}
        status = 409 if isinstance(error, Conflict) else 422
        return render_page(request, "incident.html", page, user=user, status_code=status)
    return see_other(request, f"/incidents/{rules.format_public_id(number)}#{name}", notice)


@router.post("/incidents/{key}/status")
def change_status(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Actor, form: Form) -> str:
        status = form.text("status", limit=40, required=True)
        at = form.moment("at", times.parse_zone(form.text("time_zone", limit=64)))
        note = form.text("note", limit=repo.LIMITS["body"])
        repo.change_status(db, actor, number, status, at=at, note=note)
        return f"Status changed to {status}."

    return submit(request, db, user, number, "status", form, write)


@router.post("/incidents/{key}/milestones")
def edit_milestones(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    """Only the fields whose text changed are saved, read in the chosen time zone."""
    number = incident_key(key)

    def write(actor: Actor, form: Form) -> str:
        zone = times.parse_zone(form.text("time_zone", limit=64))
        current = repo.milestones_of(repo.get_incident(db, actor, number))
        changed = {
            name: form.moment(name, zone)
            for name in rules.MILESTONES
            if name in form.data and form.text(name, limit=40) != times.local_input(current[name])
        }
        if not changed:
            return "No milestone changed."
        _, warnings = repo.set_milestones(
            db,
            actor,
            number,
            changed,
            allow_out_of_order=form.flag("allow_out_of_order"),
            reason=form.text("reason", limit=2_000),
        )
        saved = f"Saved {', '.join(changed)}."
        return saved + (" Out of order: " + "; ".join(warnings) if warnings else "")

    return submit(request, db, user, number, "milestones", form, write)


@router.post("/incidents/{key}/roles")
def assign_role(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Actor, form: Form) -> str:
        role = form.text("role", limit=60, required=True)
        person_id = form.integer("person_id")
        if person_id is None:
            raise ValidationError("choose a person", field="person_id")
        start = form.moment("start", times.parse_zone(form.text("time_zone", limit=64)))
        assignment = incident_roles.assign_role(
            db, actor, number, role=role, person_id=person_id, start=start
        )
        return f"{assignment.person.name} is now {assignment.role}."

    return submit(request, db, user, number, "roles", form, write)


@router.post("/incidents/{key}/roles/{role_id}/end")
def end_role(
    key: str, role_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Actor, form: Form) -> str:  # noqa: ARG001
        assignment = incident_roles.end_role(db, actor, number, role_id)
        return f"{assignment.person.name} no longer {assignment.role}."

    return submit(request, db, user, number, "roles", form, write)


@router.post("/incidents/{key}/updates")
def post_update(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Actor, form: Form) -> str:
        body = form.text("body", limit=repo.LIMITS["body"], required=True)
        repo.post_update(db, actor, number, body=body)
        return "Update posted."

    return submit(request, db, user, number, "updates", form, write)


@router.post("/incidents/{key}/impact")
def add_impact(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Actor, form: Form) -> str:
        zone = times.parse_zone(form.text("time_zone", limit=64))
        start = form.moment("start", zone)
        if start is None:
            raise ValidationError("when did customers start to be affected?", field="start")
        description = form.text("description", limit=impact.MAX_DESCRIPTION)
        end = form.moment("end", zone)
        impact.add_impact(db, actor, number, start=start, end=end, description=description)
        return "Customer impact recorded."

    return submit(request, db, user, number, "impact", form, write)


@router.post("/incidents/{key}/impact/{impact_id}/end")
def end_impact(
    key: str, impact_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Actor, form: Form) -> str:
        end = form.moment("end", times.parse_zone(form.text("time_zone", limit=64))) or utcnow()
        impact.update_impact(db, actor, number, impact_id, {"end": end})
        return "Customer impact ended."

    return submit(request, db, user, number, "impact", form, write)


@router.post("/incidents/{key}/impact/{impact_id}/remove")
def remove_impact(
    key: str, impact_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Actor, form: Form) -> str:  # noqa: ARG001
        impact.remove_impact(db, actor, number, impact_id)
        return "Customer impact interval removed."

    return submit(request, db, user, number, "impact", form, write)


@router.post("/incidents/{key}/action-items")
def add_action_item(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Actor, form: Form) -> str:
        item = action_items.add_action_item(
            db,
            actor,
            number,
            title=form.text("title", limit=500, required=True),
            kind=form.text("kind", limit=20) or "prevention",
            owner_id=form.integer("owner_id"),
            due=form.day("due"),
            url=form.text("url", limit=2_000),
        )
        return f"Action item added: {item.title[:80]}"

    return submit(request, db, user, number, "action_items", form, write)


@router.post("/incidents/{key}/action-items/{item_id}/status")
def action_item_status(
    key: str, item_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Actor, form: Form) -> str:
        item = db.get(ActionItem, item_id)
        if item is None or item.incident.number != number:
            raise ValidationError(f"no action item {item_id} on this incident", field="status")
        status = form.text("status", limit=20, required=True)
        action_items.update_action_item(db, actor, item_id, {"status": status})
        return f"Action item marked {status}."

    response = submit(request, db, user, number, "action_items", form, write)
    target = form.text("next", limit=300)
    if response.status_code == 303 and SAFE_NEXT.fullmatch(target):
        response.headers["location"] = target
    return response


@router.post("/incidents/{key}/references")
def add_reference(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Actor, form: Form) -> str:
        reference = action_items.add_reference(
            db,
            actor,
            number,
            url=form.text("url", limit=2_000, required=True),
            kind=form.text("kind", limit=40) or "other",
            title=form.text("title", limit=500),
        )
        return f"Reference added: {reference.title or reference.url}"

    return submit(request, db, user, number, "references", form, write)
