"""Incident use cases: read one (access checked), declare, edit, move through the lifecycle,
set milestones (with history), post status updates. Lists are `storage.incident_lists`, roles
`services.incident_roles`, action items and references `services.action_items`.

Rules come from `afteraction.core` (lifecycle, milestone order, access); this module
applies them to rows and records every write in the audit log. It never commits: callers
wrap calls in `with session.begin():`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from afteraction.core import incidents as rules
from afteraction.core.access import Actor, require_write
from afteraction.core.errors import Conflict, NotFound, ValidationError
from afteraction.storage import audit
from afteraction.storage.tables import (
    Incident,
    IncidentTag,
    IncidentUpdate,
    MilestoneEdit,
    Person,
    Problem,
    Service,
    SeverityLevel,
    Team,
)
from afteraction.storage.types import utcnow
from afteraction.storage.visibility import visibility_clause

LIMITS = {"title": 300, "summary": 20_000, "customer_impact": 5_000, "tag": 80, "body": 20_000}


@dataclass(slots=True)
class IncidentInput:
    """Fields of a new incident; validated by `declare`."""

    title: str
    severity: str
    summary: str = ""
    type: str = "default"
    status: str | None = None
    private: bool = False
    customer_impact: str = ""
    services: Sequence[str] = ()
    teams: Sequence[str] = ()
    tags: Sequence[str] = ()
    problem: str | None = None
    milestones: Mapping[str, datetime | None] = field(default_factory=dict)
    allow_out_of_order: bool = False
    number: int | None = None


# -- reading -----------------------------------------------------------------------------


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def check_length(value: str, name: str) -> str:
    limit = LIMITS[name]
    if len(value) > limit:
        raise ValidationError(
            f"{name} is {len(value)} characters; the limit is {limit}", field=name
        )
    return value


def start_of(incident: Incident) -> datetime | None:
    """When the incident started: its started milestone, else detected, else declared."""
    return incident.started_at or incident.detected_at or incident.declared_at


def get_incident(session: Session, actor: Actor, key: str | int) -> Incident:
    """The incident `INC-42`/`42`, or NotFound (also when it exists but is not visible)."""
    number = key if isinstance(key, int) else rules.parse_public_id(str(key))
    incident = session.scalar(
        select(Incident).where(Incident.number == number, visibility_clause(actor))
    )
    if incident is None:
        raise NotFound("incident", rules.format_public_id(number))
    return incident


def milestones_of(incident: Incident) -> dict[str, datetime | None]:
    return {name: getattr(incident, f"{name}_at") for name in rules.MILESTONES}


def snapshot(incident: Incident) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": incident.title,
        "summary": incident.summary,
        "severity": incident.severity,
        "status": incident.status,
        "type": incident.type,
        "private": incident.private,
        "customer_impact": incident.customer_impact,
        "services": [s.slug for s in incident.services],
        "teams": [t.slug for t in incident.teams],
        "tags": incident.tags,
        "problem": incident.problem.key if incident.problem else None,
    }
    data.update(milestones_of(incident))
    return data


# -- lookups -------------------------------------------------------------------------------


def _severity(session: Session, name: str) -> str:
    wanted = name.strip().upper()
    if session.get(SeverityLevel, wanted) is None:
        known = ", ".join(session.scalars(select(SeverityLevel.name).order_by(SeverityLevel.rank)))
        raise ValidationError(f"unknown severity {name!r}; known: {known}", field="severity")
    return wanted


def _by_slugs(
    session: Session, model: type[Service] | type[Team], slugs: Iterable[str], field_name: str
) -> list[Any]:
    wanted = list(dict.fromkeys(s.strip() for s in slugs if s.strip()))
    if not wanted:
        return []
    slug_column = Service.slug if model is Service else Team.slug
    rows: Iterable[Service | Team] = session.scalars(select(model).where(slug_column.in_(wanted)))
    found = {row.slug: row for row in rows}
    missing = [s for s in wanted if s not in found]
    if missing:
        raise ValidationError(f"unknown {field_name}: {', '.join(missing)}", field=field_name)
    return [found[s] for s in wanted]


def _problem(session: Session, key: str | None) -> Problem | None:
    if not key:
        return None
    problem = session.scalar(select(Problem).where(Problem.key == key))
    if problem is None:
        raise ValidationError(f"unknown problem {key!r}", field="problem")
    return problem


def _tags(values: Iterable[str]) -> list[IncidentTag]:
    tags = list(dict.fromkeys(check_length(t.strip().lower(), "tag") for t in values if t.strip()))
    return [IncidentTag(tag=t) for t in tags]


def person_of(session: Session, person_id: int, field_name: str) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise ValidationError(f"unknown person id {person_id}", field=field_name)
    return person


# -- declaring and editing -------------------------------------------------------------------


def declare(session: Session, actor: Actor, data: IncidentInput) -> tuple[Incident, list[str]]:
    """Create an incident; returns it and any milestone-order warnings that were overridden."""
    require_write(actor)
    title = check_length(data.title.strip(), "title")
    if not title:
        raise ValidationError("title must not be empty", field="title")
    lifecycle = rules.DEFAULT_LIFECYCLE
    status = data.status or lifecycle.initial
    if status not in lifecycle.statuses:
        lifecycle.check(lifecycle.initial, status)
    rules.check_choice(data.type, rules.INCIDENT_TYPES, field_name="type")
    milestones = dict(data.milestones)
    now = utcnow()
    milestones.setdefault("declared", now)
    if milestones.get("declared") is None:
        milestones["declared"] = now
    implied = rules.milestone_for_status(lifecycle, status)
    if implied and milestones.get(implied) is None:
        milestones[implied] = now
    if milestones.get("started") is None:
        milestones["started"] = min(v for v in milestones.values() if v is not None)
    warnings = rules.check_milestones(milestones, allow_out_of_order=data.allow_out_of_order)
    incident = Incident(
        title=title,
        summary=check_length(data.summary, "summary"),
        severity=_severity(session, data.severity),
        status=status,
        type=data.type,
        private=data.private,
        customer_impact=check_length(data.customer_impact, "customer_impact"),
        problem=_problem(session, data.problem),
        services=_by_slugs(session, Service, data.services, "service"),
        teams=_by_slugs(session, Team, data.teams, "team"),
        tag_rows=_tags(data.tags),
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
        **{f"{name}_at": _utc(value) for name, value in milestones.items()},
    )
    _insert_with_number(session, incident, data.number)
    audit.record(
        session,
        actor,
        "incident.declared",
        target_type="incident",
        target_id=incident.public_id,
        incident_id=incident.id,
        after=snapshot(incident),
    )
    return incident, warnings


def _insert_with_number(session: Session, incident: Incident, number: int | None) -> None:
    """Give the incident the next free number; concurrent declarations retry, never collide."""
    for _attempt in range(20):
        incident.number = number or (session.scalar(select(func.max(Incident.number))) or 0) + 1
        savepoint = session.begin_nested()
        session.add(incident)
        try:
            session.flush()
        except IntegrityError as error:
            savepoint.rollback()
            if number is not None:
                raise Conflict(f"incident INC-{number} already exists") from error
            continue
        savepoint.commit()
        return
    raise Conflict("could not allocate an incident number; try again")


EDITABLE = (
    "title",
    "summary",
    "severity",
    "type",
    "private",
    "customer_impact",
    "problem",
    "services",
    "teams",
    "tags",
)


def update(
    session: Session,
    actor: Actor,
    key: str | int,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None = None,
) -> Incident:
    """Edit descriptive fields. `expected_version` guards against lost concurrent edits."""
    require_write(actor)
    incident = get_incident(session, actor, key)
    if expected_version is not None and incident.version != expected_version:
        raise Conflict(
            f"{incident.public_id} was changed by someone else (version {incident.version}, "
            f"you edited version {expected_version}); reload and apply your change again",
            details={"current_version": incident.version},
        )
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"cannot edit {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    before = snapshot(incident)
    for name, value in changes.items():
        _apply(session, incident, name, value)
    incident.updated_at = utcnow()
    _flush_versioned(session, incident)
    after = snapshot(incident)
    changed_before = {k: v for k, v in before.items() if after.get(k) != v}
    changed_after = {k: after[k] for k in changed_before}
    if changed_after:
        audit.record(
            session,
            actor,
            "incident.updated",
            target_type="incident",
            target_id=incident.public_id,
            incident_id=incident.id,
            before=changed_before,
            after=changed_after,
        )
    return incident


def _apply(session: Session, incident: Incident, name: str, value: Any) -> None:
    if name == "title":
        title = check_length(str(value).strip(), "title")
        if not title:
            raise ValidationError("title must not be empty", field="title")
        incident.title = title
    elif name in ("summary", "customer_impact"):
        setattr(incident, name, check_length(str(value), name))
    elif name == "severity":
        incident.severity = _severity(session, str(value))
    elif name == "type":
        incident.type = rules.check_choice(str(value), rules.INCIDENT_TYPES, field_name="type")
    elif name == "private":
        incident.private = bool(value)
    elif name == "problem":
        incident.problem = _problem(session, value)
    elif name == "services":
        incident.services = _by_slugs(session, Service, value, "service")
    elif name == "teams":
        incident.teams = _by_slugs(session, Team, value, "team")
    elif name == "tags":
        incident.tag_rows = _tags(value)


def _flush_versioned(session: Session, incident: Incident) -> None:
    """Flush an edit of `incident`; a concurrent edit committed first (PostgreSQL: the
    versioned UPDATE matched no row) is a Conflict carrying the version now stored, read
    on a connection of its own: the failed transaction can no longer be read from."""
    incident_id, public_id = incident.id, incident.public_id
    try:
        session.flush()
    except StaleDataError as error:
        with session.get_bind().engine.connect() as connection:
            current = connection.scalar(select(Incident.version).where(Incident.id == incident_id))
        raise Conflict(
            f"{public_id} was changed by someone else (now version {current}); "
            "reload and apply your change again",
            details={"current_version": current},
        ) from error


def change_status(
    session: Session,
    actor: Actor,
    key: str | int,
    status: str,
    *,
    at: datetime | None = None,
    note: str = "",
) -> Incident:
    """Move along the lifecycle; sets the matching milestone (at `at`, default now) if unset."""
    require_write(actor)
    incident = get_incident(session, actor, key)
    lifecycle = rules.DEFAULT_LIFECYCLE
    lifecycle.check(incident.status, status)
    if at is not None:
        rules.require_aware(at, field_name="at")
    previous = incident.status
    if previous == status:
        return incident
    incident.status = status
    milestone = rules.milestone_for_status(lifecycle, status)
    moment = at or utcnow()
    implied = dict.fromkeys(_implied_milestones(incident, milestone, status), moment)
    rules.check_milestones(milestones_of(incident) | implied)
    for name in implied:
        _set_milestone(session, actor, incident, name, moment, reason=f"status {status}")
    incident.updated_at = utcnow()
    _flush_versioned(session, incident)
    audit.record(
        session,
        actor,
        "incident.status_changed",
        target_type="incident",
        target_id=incident.public_id,
        incident_id=incident.id,
        before={"status": previous},
        after={"status": status, "note": note},
    )
    if note:
        post_update(session, actor, incident.number, body=note, at=moment)
    return incident


def _implied_milestones(incident: Incident, milestone: str | None, status: str) -> list[str]:
    """Milestones a status change fills in: its own, plus mitigated when resolving."""
    names = [milestone] if milestone else []
    if status == "resolved":
        names.append("mitigated")
    return [name for name in names if getattr(incident, f"{name}_at") is None]


def _set_milestone(
    session: Session,
    actor: Actor,
    incident: Incident,
    name: str,
    value: datetime | None,
    *,
    reason: str,
) -> None:
    old = getattr(incident, f"{name}_at")
    if value is not None:
        value = value.astimezone(UTC)
    if old == value:
        return
    setattr(incident, f"{name}_at", value)
    session.add(
        MilestoneEdit(
            incident_id=incident.id,
            milestone=name,
            old_value=old,
            new_value=value,
            actor_id=actor.user_id,
            reason=reason,
        )
    )


def set_milestones(
    session: Session,
    actor: Actor,
    key: str | int,
    values: Mapping[str, datetime | None],
    *,
    allow_out_of_order: bool = False,
    reason: str = "",
) -> tuple[Incident, list[str]]:
    """Edit milestone timestamps; each edit is kept in the milestone history."""
    require_write(actor)
    incident = get_incident(session, actor, key)
    merged = milestones_of(incident)
    merged.update(values)
    warnings = rules.check_milestones(merged, allow_out_of_order=allow_out_of_order)
    before = {k: v for k, v in milestones_of(incident).items() if k in values}
    for name, value in values.items():
        _set_milestone(session, actor, incident, name, value, reason=reason)
    incident.updated_at = utcnow()
    _flush_versioned(session, incident)
    audit.record(
        session,
        actor,
        "incident.milestones_set",
        target_type="incident",
        target_id=incident.public_id,
        incident_id=incident.id,
        before=before,
        after=dict(values),
    )
    return incident, warnings


def milestone_history(session: Session, incident: Incident) -> list[MilestoneEdit]:
    query = select(MilestoneEdit).where(MilestoneEdit.incident_id == incident.id)
    return list(session.scalars(query.order_by(MilestoneEdit.at, MilestoneEdit.id)))


# -- roles, updates, action items, references ---------------------------------------------------


def updates_of(session: Session, incident: Incident) -> list[IncidentUpdate]:
    query = select(IncidentUpdate).where(IncidentUpdate.incident_id == incident.id)
    return list(session.scalars(query.order_by(IncidentUpdate.at.desc(), IncidentUpdate.id.desc())))


def post_update(
    session: Session,
    actor: Actor,
    key: str | int,
    *,
    body: str,
    at: datetime | None = None,
    author_person_id: int | None = None,
) -> IncidentUpdate:
    require_write(actor)
    incident = get_incident(session, actor, key)
    text = check_length(body.strip(), "body")
    if not text:
        raise ValidationError("an update needs some text", field="body")
    update_row = IncidentUpdate(
        incident_id=incident.id,
        at=rules.require_aware(at, field_name="at") if at else utcnow(),
        status=incident.status,
        body=text,
        author_person_id=author_person_id or actor.person_id,
        author_user_id=actor.user_id,
    )
    session.add(update_row)
    session.flush()
    audit.record(
        session,
        actor,
        "update.posted",
        target_type="update",
        target_id=update_row.id,
        incident_id=incident.id,
        after={"body": text[:200]},
    )
    return update_row
