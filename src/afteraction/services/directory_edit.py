"""Editing and removing directory rows: people, teams, services and problems.

Edits change only the fields given, with the checks creation makes (a slug, key or email
already in use is a Conflict naming the field). Removal is refused with a Conflict naming
what still refers to the row, so incident history is never erased or silently unlinked;
rows that only belong to the removed one (a person's memberships and identities) go with
it. Every write records an audit entry and never commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from afteraction.core import incidents as rules
from afteraction.core import times
from afteraction.core.access import Actor, require_write
from afteraction.core.errors import Conflict, NotFound, ValidationError
from afteraction.services import interviews
from afteraction.services.directory import (
    PersonInput,
    _name,
    _slug,
    get_person,
    person_by_email,
    problem_by_key,
)
from afteraction.storage import audit
from afteraction.storage.analysis_tables import Interview, TimelineEntry
from afteraction.storage.evidence_tables import Message, OnCallShift, Page, TranscriptCue
from afteraction.storage.insights_tables import ServiceLevelObjective
from afteraction.storage.review_tables import Attendance, Review
from afteraction.storage.tables import (
    ActionItem,
    Incident,
    IncidentService,
    IncidentTeam,
    IncidentUpdate,
    Person,
    Problem,
    RoleAssignment,
    Service,
    Team,
    TeamMembership,
    User,
)
from afteraction.storage.visibility import visibility_clause


def _unknown_fields(changes: Mapping[str, Any], editable: Sequence[str]) -> None:
    unknown = sorted(set(changes) - set(editable))
    if unknown:
        raise ValidationError(f"cannot edit {', '.join(unknown)}", field=unknown[0])


def _record_changes(
    session: Session,
    actor: Actor,
    action: str,
    target: tuple[str, object],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> None:
    """Audit the fields whose value changed (nothing when the edit changed nothing)."""
    changed = sorted(name for name in after if before.get(name) != after[name])
    if changed:
        audit.record(
            session,
            actor,
            action,
            target_type=target[0],
            target_id=target[1],
            before={name: before.get(name) for name in changed},
            after={name: after[name] for name in changed},
        )


def _refuse_if_referenced(
    session: Session,
    what: str,
    checks: Sequence[tuple[str, ColumnElement[bool], type[Any]]],
    *,
    unseen: bool = False,
    actor: Actor | None = None,
) -> None:
    """Raise Conflict naming every kind of row that still refers to `what`.

    Each check is (phrase with `{n}` for the count, where clause, table class). `unseen`:
    rows the actor may not see refer to it too; they are neither named nor counted. With
    `actor`, rows of an incident (a table with `incident_id`) count only when the actor may
    see that incident; the others make the refusal say so without a number."""
    reasons: list[str] = []
    counts: dict[str, int] = {}
    visible = select(Incident.id).where(visibility_clause(actor)) if actor else None
    for phrase, clause, table in checks:
        n = session.scalar(select(func.count()).select_from(table).where(clause)) or 0
        if n and visible is not None and hasattr(table, "incident_id"):
            shown = or_(table.incident_id.is_(None), table.incident_id.in_(visible))
            seen = session.scalar(select(func.count()).select_from(table).where(clause, shown))
            unseen = unseen or (seen or 0) < n
            n = seen or 0
        if n:
            reasons.append(phrase.format(n=n, s="" if n == 1 else "s"))
            counts[table.__tablename__] = int(n)
    if unseen:
        reasons.append("is referred to by records you may not see")
    if reasons:
        raise Conflict(
            f"cannot delete {what}: it still {'; '.join(reasons)}",
            details={"references": counts},
        )


def _taken(field_name: str, message: str) -> Conflict:
    return Conflict(message, details={"field": field_name})


TEAM_FIELDS = ("name", "slug", "description")


_Sluggish = TypeVar("_Sluggish", Team, Service)


def _by_ref(session: Session, model: type[_Sluggish], noun: str, ref: str | int) -> _Sluggish:
    """A team or service by slug, or by numeric id when none has that slug."""
    text = str(ref)
    row = session.scalar(select(model).where(model.slug == text))
    if row is None and text.isdigit():
        row = session.get(model, int(text))
    if row is None:
        raise NotFound(noun, ref)
    return row


def team_by_ref(session: Session, ref: str | int) -> Team:
    """A team by slug, or by numeric id when no team has that slug."""
    return _by_ref(session, Team, "team", ref)


def _team_values(team: Team) -> dict[str, Any]:
    return {name: getattr(team, name) for name in TEAM_FIELDS}


def update_team(session: Session, actor: Actor, ref: str | int, changes: Mapping[str, Any]) -> Team:
    """Change only the given fields, with the checks `create_team` makes."""
    require_write(actor)
    team = team_by_ref(session, ref)
    _unknown_fields(changes, TEAM_FIELDS)
    before = _team_values(team)
    if "name" in changes:
        team.name = _name(str(changes["name"] or ""))
    if "description" in changes:
        team.description = str(changes["description"] or "")
    if "slug" in changes and changes["slug"] != team.slug:
        slug = _slug(str(changes["slug"] or ""))
        clash = select(Team.id).where(Team.slug == slug, Team.id != team.id)
        if session.scalar(clash) is not None:
            raise _taken("slug", f"the slug {slug!r} is already used by another team")
        team.slug = slug
    session.flush()
    _record_changes(session, actor, "team.updated", ("team", team.slug), before, _team_values(team))
    return team


def delete_team(session: Session, actor: Actor, ref: str | int) -> None:
    """Remove a team that owns no services, has no memberships and is on no incident."""
    require_write(actor)
    team = team_by_ref(session, ref)
    _refuse_if_referenced(
        session,
        f"team {team.slug!r}",
        [
            ("owns {n} service{s}", Service.team_id == team.id, Service),
            ("has {n} membership{s}", TeamMembership.team_id == team.id, TeamMembership),
            ("is named on {n} incident{s}", IncidentTeam.team_id == team.id, IncidentTeam),
        ],
    )
    audit.record(
        session,
        actor,
        "team.deleted",
        target_type="team",
        target_id=team.slug,
        before=_team_values(team),
    )
    session.delete(team)
    session.flush()


PERSON_FIELDS = tuple(f.name for f in fields(PersonInput))


def _person_values(person: Person) -> dict[str, Any]:
    return {name: getattr(person, name) for name in PERSON_FIELDS}


def _optional_text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def update_person(
    session: Session, actor: Actor, person_id: int, changes: Mapping[str, Any]
) -> Person:
    """Change only the given fields, with the checks `create_person` makes."""
    require_write(actor)
    person = get_person(session, person_id)
    _unknown_fields(changes, PERSON_FIELDS)
    before = _person_values(person)
    for name, value in changes.items():
        if name == "name":
            person.name = _name(str(value or ""))
        elif name == "email":
            person.email = _person_email(session, person, value)
        elif name == "time_zone":
            person.time_zone = times.check_zone_name(_optional_text(value))
        elif name == "manager_id":
            if value is not None:
                if int(value) == person.id:
                    raise ValidationError("a person cannot manage themselves", field=name)
                get_person(session, int(value))
            person.manager_id = value
        elif name in ("start_date", "end_date"):
            setattr(person, name, value)
        else:
            setattr(person, name, _optional_text(value))
    if person.start_date and person.end_date and person.end_date < person.start_date:
        raise ValidationError("end_date cannot be before start_date", field="end_date")
    session.flush()
    after = _person_values(person)
    _record_changes(session, actor, "person.updated", ("person", person.id), before, after)
    return person


def _person_email(session: Session, person: Person, value: Any) -> str | None:
    email = _optional_text(value)
    if email is None:
        return None
    email = email.lower()
    if "@" not in email:
        raise ValidationError(f"{value!r} is not an email address", field="email")
    holder = person_by_email(session, email)
    if holder is not None and holder.id != person.id:
        raise _taken("email", f"another person ({holder.name}) already has the email {email}")
    return email


def delete_person(session: Session, actor: Actor, person_id: int) -> None:
    """Remove a person nothing in the incident record refers to. Their team memberships and
    external identities go with them; people they managed keep no manager."""
    require_write(actor)
    person = get_person(session, person_id)
    pid = person.id
    interviews_of = set(session.scalars(select(Interview.id).where(Interview.person_id == pid)))
    seen = interviews_of & interviews.readable_ids(session, actor) if interviews_of else set()
    _refuse_if_referenced(
        session,
        f"person {person.name!r}",
        [
            ("holds {n} role{s} in incidents", RoleAssignment.person_id == pid, RoleAssignment),
            ("owns {n} action item{s}", ActionItem.owner_id == pid, ActionItem),
            (
                "wrote {n} incident update{s}",
                IncidentUpdate.author_person_id == pid,
                IncidentUpdate,
            ),
            ("authored {n} message{s}", Message.author_person_id == pid, Message),
            ("received {n} page{s}", Page.person_id == pid, Page),
            ("has {n} on-call shift{s}", OnCallShift.person_id == pid, OnCallShift),
            ("speaks in {n} transcript cue{s}", TranscriptCue.person_id == pid, TranscriptCue),
            (
                "appears {n} time{s} in incident timelines",
                TimelineEntry.person_id == pid,
                TimelineEntry,
            ),
            ("has {n} interview{s}", Interview.id.in_(seen), Interview),
            ("investigates {n} review{s}", Review.investigator_person_id == pid, Review),
            ("attended {n} review meeting{s}", Attendance.person_id == pid, Attendance),
            ("is linked to {n} user account{s}", User.person_id == pid, User),
        ],
        unseen=bool(interviews_of - seen),
        actor=actor,
    )
    audit.record(
        session,
        actor,
        "person.deleted",
        target_type="person",
        target_id=pid,
        before=_person_values(person),
    )
    session.execute(update(Person).where(Person.manager_id == pid).values(manager_id=None))
    session.delete(person)
    session.flush()


SERVICE_FIELDS = ("name", "slug", "team", "tier", "description")


def service_by_ref(session: Session, ref: str | int) -> Service:
    """A service by slug, or by numeric id when no service has that slug."""
    return _by_ref(session, Service, "service", ref)


def service_values(service: Service) -> dict[str, Any]:
    return {
        "name": service.name,
        "slug": service.slug,
        "team": service.team.slug if service.team else None,
        "tier": service.tier,
        "description": service.description,
    }


def update_service(
    session: Session, actor: Actor, ref: str | int, changes: Mapping[str, Any]
) -> Service:
    """Change only the given fields (`team` is the owning team's slug, or None for no
    owner), with the checks `create_service` makes."""
    require_write(actor)
    service = service_by_ref(session, ref)
    _unknown_fields(changes, SERVICE_FIELDS)
    before = service_values(service)
    if "name" in changes:
        service.name = _name(str(changes["name"] or ""))
    if "description" in changes:
        service.description = str(changes["description"] or "")
    if "tier" in changes:
        if changes["tier"] not in (1, 2, 3):
            raise ValidationError("tier must be 1, 2 or 3", field="tier")
        service.tier = int(changes["tier"])
    if "team" in changes:
        team_slug = changes["team"]
        if team_slug:
            found = session.scalar(select(Team).where(Team.slug == str(team_slug)))
            if found is None:
                raise ValidationError(f"no team {team_slug!r}", field="team")
            service.team = found
        else:
            service.team = None
    if "slug" in changes and changes["slug"] != service.slug:
        slug = _slug(str(changes["slug"] or ""))
        clash = select(Service.id).where(Service.slug == slug, Service.id != service.id)
        if session.scalar(clash) is not None:
            raise _taken("slug", f"the slug {slug!r} is already used by another service")
        service.slug = slug
    session.flush()
    after = service_values(service)
    _record_changes(session, actor, "service.updated", ("service", service.slug), before, after)
    return service


def delete_service(session: Session, actor: Actor, ref: str | int) -> None:
    """Remove a service that no incident names and that has no service level objectives."""
    require_write(actor)
    service = service_by_ref(session, ref)
    sid = service.id
    _refuse_if_referenced(
        session,
        f"service {service.slug!r}",
        [
            ("is named on {n} incident{s}", IncidentService.service_id == sid, IncidentService),
            (
                "has {n} service level objective{s}",
                ServiceLevelObjective.service_id == sid,
                ServiceLevelObjective,
            ),
        ],
    )
    audit.record(
        session,
        actor,
        "service.deleted",
        target_type="service",
        target_id=service.slug,
        before=service_values(service),
    )
    session.delete(service)
    session.flush()


PROBLEM_FIELDS = ("key", "title", "description", "status", "workaround")


def _problem_values(problem: Problem) -> dict[str, Any]:
    return {name: getattr(problem, name) for name in PROBLEM_FIELDS}


def update_problem(session: Session, actor: Actor, key: str, changes: Mapping[str, Any]) -> Problem:
    """Change only the given fields, with the checks `create_problem` makes."""
    require_write(actor)
    problem = problem_by_key(session, key)
    _unknown_fields(changes, PROBLEM_FIELDS)
    before = _problem_values(problem)
    if "title" in changes:
        problem.title = _name(str(changes["title"] or ""), "title")
    if "status" in changes:
        status = str(changes["status"] or "")
        problem.status = rules.check_choice(status, rules.PROBLEM_STATUSES, field_name="status")
    for name in ("description", "workaround"):
        if name in changes:
            setattr(problem, name, str(changes[name] or ""))
    if "key" in changes and changes["key"] != problem.key:
        new_key = _key(str(changes["key"] or ""))
        clash = select(Problem.id).where(Problem.key == new_key, Problem.id != problem.id)
        if session.scalar(clash) is not None:
            raise _taken("key", f"the key {new_key!r} is already used by another problem")
        problem.key = new_key
    session.flush()
    after = _problem_values(problem)
    _record_changes(session, actor, "problem.updated", ("problem", problem.key), before, after)
    return problem


def _key(value: str) -> str:
    try:
        return _slug(value)
    except ValidationError as error:
        raise ValidationError(error.message.replace("slug", "key"), field="key") from error


def delete_problem(session: Session, actor: Actor, key: str) -> None:
    """Remove a problem no incident is linked to."""
    require_write(actor)
    problem = problem_by_key(session, key)
    _refuse_if_referenced(
        session,
        f"problem {problem.key!r}",
        [("is linked to {n} incident{s}", Incident.problem_id == problem.id, Incident)],
    )
    audit.record(
        session,
        actor,
        "problem.deleted",
        target_type="problem",
        target_id=problem.key,
        before=_problem_values(problem),
    )
    session.delete(problem)
    session.flush()
