"""The organisation directory: people, teams, dated team memberships, external identities,
services and problems.

Reads return rows; writes validate, record an audit entry and never commit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session, selectinload

from afteraction.core import incidents as rules
from afteraction.core.access import Actor, require_write
from afteraction.core.errors import Conflict, NotFound, ValidationError
from afteraction.storage import audit
from afteraction.storage.analysis_tables import Interview, TimelineEntry
from afteraction.storage.evidence_tables import Message, OnCallShift, Page, TranscriptCue
from afteraction.storage.insights_tables import ServiceLevelObjective
from afteraction.storage.review_tables import Attendance, Review
from afteraction.storage.tables import (
    ActionItem,
    Identity,
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

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:80] or "item"


def _slug(value: str) -> str:
    if not SLUG_RE.match(value):
        raise ValidationError(
            f"{value!r} is not a valid slug (lowercase letters, digits and dashes)", field="slug"
        )
    return value


def _name(value: str, field_name: str = "name") -> str:
    value = value.strip()
    if not value or len(value) > 200:
        raise ValidationError(f"{field_name} must be 1–200 characters", field=field_name)
    return value


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
    session: Session, what: str, checks: Sequence[tuple[str, ColumnElement[bool], type[Any]]]
) -> None:
    """Raise Conflict naming every kind of row that still refers to `what`.

    Each check is (phrase with `{n}` for the count, where clause, table class)."""
    reasons: list[str] = []
    counts: dict[str, int] = {}
    for phrase, clause, table in checks:
        n = session.scalar(select(func.count()).select_from(table).where(clause)) or 0
        if n:
            reasons.append(phrase.format(n=n, s="" if n == 1 else "s"))
            counts[table.__tablename__] = int(n)
    if reasons:
        raise Conflict(
            f"cannot delete {what}: it still {'; '.join(reasons)}",
            details={"references": counts},
        )


def _taken(field_name: str, message: str) -> Conflict:
    return Conflict(message, details={"field": field_name})


# -- teams -------------------------------------------------------------------------------------


def list_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name)))


def team_by_slug(session: Session, slug: str) -> Team:
    team = session.scalar(select(Team).where(Team.slug == slug))
    if team is None:
        raise NotFound("team", slug)
    return team


def create_team(
    session: Session, actor: Actor, *, name: str, slug: str | None = None, description: str = ""
) -> Team:
    require_write(actor)
    team = Team(name=_name(name), slug=_slug(slug or slugify(name)), description=description)
    if session.scalar(select(Team.id).where(Team.slug == team.slug)) is not None:
        raise Conflict(f"team {team.slug!r} already exists")
    session.add(team)
    session.flush()
    audit.record(
        session,
        actor,
        "team.created",
        target_type="team",
        target_id=team.slug,
        after={"name": team.name},
    )
    return team


TEAM_FIELDS = ("name", "slug", "description")


def team_by_ref(session: Session, ref: str | int) -> Team:
    """A team by slug, or by numeric id when no team has that slug."""
    text = str(ref)
    team = session.scalar(select(Team).where(Team.slug == text))
    if team is None and text.isdigit():
        team = session.get(Team, int(text))
    if team is None:
        raise NotFound("team", ref)
    return team


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


# -- people ------------------------------------------------------------------------------------


@dataclass(slots=True)
class PersonInput:
    name: str
    email: str | None = None
    time_zone: str | None = None
    location: str | None = None
    title: str | None = None
    department: str | None = None
    manager_id: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    github_login: str | None = None


def list_people(session: Session, *, text: str | None = None, limit: int = 500) -> list[Person]:
    query = select(Person).options(
        selectinload(Person.memberships).selectinload(TeamMembership.team)
    )
    if text:
        pattern = f"%{text}%"
        query = query.where(Person.name.ilike(pattern) | Person.email.ilike(pattern))
    return list(session.scalars(query.order_by(Person.name).limit(limit)))


def get_person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("person", person_id)
    return person


def person_by_email(session: Session, email: str) -> Person | None:
    return session.scalar(select(Person).where(func.lower(Person.email) == email.strip().lower()))


def _check_zone(zone: str | None) -> str | None:
    if not zone:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(f"unknown time zone {zone!r}", field="time_zone") from error
    return zone


def create_person(session: Session, actor: Actor, data: PersonInput) -> Person:
    require_write(actor)
    email = data.email.strip().lower() if data.email else None
    if email and "@" not in email:
        raise ValidationError(f"{data.email!r} is not an email address", field="email")
    if email and person_by_email(session, email) is not None:
        raise Conflict(f"a person with email {email} already exists")
    if data.manager_id is not None:
        get_person(session, data.manager_id)
    person = _new_person(data, email)
    session.add(person)
    session.flush()
    _audit_created(session, actor, person)
    return person


def _new_person(data: PersonInput, email: str | None) -> Person:
    return Person(
        name=_name(data.name),
        email=email,
        time_zone=_check_zone(data.time_zone),
        location=data.location,
        title=data.title,
        department=data.department,
        manager_id=data.manager_id,
        start_date=data.start_date,
        end_date=data.end_date,
        github_login=data.github_login,
    )


def _audit_created(session: Session, actor: Actor, person: Person) -> None:
    audit.record(
        session,
        actor,
        "person.created",
        target_type="person",
        target_id=person.id,
        after={"name": person.name, "email": person.email},
    )


def emails_in_use(session: Session) -> set[str]:
    """Every person's email, lower-cased as `person_by_email` compares them."""
    query = select(func.lower(Person.email)).where(Person.email.is_not(None))
    return {email for email in session.scalars(query) if email is not None}


def check_new_person(data: PersonInput, emails_taken: set[str]) -> Person:
    """The unsaved person `create_person` would add, after the same checks in the same
    order, looking emails up in `emails_taken` (see `emails_in_use`) instead of querying
    for each. For bulk imports, with `add_people`; a manager is not accepted here."""
    email = data.email.strip().lower() if data.email else None
    if email and "@" not in email:
        raise ValidationError(f"{data.email!r} is not an email address", field="email")
    if email and email in emails_taken:
        raise Conflict(f"a person with email {email} already exists")
    if data.manager_id is not None:
        raise ValidationError("no manager can be given here", field="manager_id")
    return _new_person(data, email)


def add_people(session: Session, actor: Actor, people: Sequence[Person]) -> list[int]:
    """Insert people checked by `check_new_person` in one flush, each with the audit record
    `create_person` writes; returns their ids in order."""
    require_write(actor)
    if not people:
        return []
    session.add_all(people)
    session.flush()
    for person in people:
        _audit_created(session, actor, person)
    return [person.id for person in people]


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
            person.time_zone = _check_zone(_optional_text(value))
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
            ("has {n} interview{s}", Interview.person_id == pid, Interview),
            ("investigates {n} review{s}", Review.investigator_person_id == pid, Review),
            ("attended {n} review meeting{s}", Attendance.person_id == pid, Attendance),
            ("is linked to {n} user account{s}", User.person_id == pid, User),
        ],
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


def add_membership(
    session: Session,
    actor: Actor,
    *,
    person_id: int,
    team_slug: str,
    start: date | None = None,
    end: date | None = None,
) -> TeamMembership:
    require_write(actor)
    if start and end and end < start:
        raise ValidationError("a membership cannot end before it starts", field="end")
    membership = TeamMembership(
        person_id=get_person(session, person_id).id,
        team_id=team_by_slug(session, team_slug).id,
        start=start,
        end=end,
    )
    session.add(membership)
    session.flush()
    audit.record(
        session,
        actor,
        "membership.added",
        target_type="person",
        target_id=person_id,
        after={"team": team_slug, "start": start, "end": end},
    )
    return membership


def current_team(person: Person, on: date | None = None) -> Team | None:
    """The team a person belonged to on `on` (default: today's open membership)."""
    for membership in sorted(person.memberships, key=lambda m: m.start or date.min, reverse=True):
        starts_ok = membership.start is None or on is None or membership.start <= on
        if on is None:
            if membership.end is None:
                return membership.team
        elif starts_ok and (membership.end is None or on < membership.end):
            return membership.team
    return None


def add_identity(
    session: Session, *, person_id: int, system: str, external_id: str, display_name: str = ""
) -> Identity:
    existing = session.scalar(
        select(Identity).where(Identity.system == system, Identity.external_id == external_id)
    )
    if existing is not None:
        if existing.person_id != person_id:
            raise Conflict(f"{system} identity {external_id} already belongs to another person")
        return existing
    identity = Identity(
        person_id=person_id, system=system, external_id=external_id, display_name=display_name
    )
    session.add(identity)
    return identity


# -- services ----------------------------------------------------------------------------------


def list_services(session: Session) -> list[Service]:
    query = select(Service).options(selectinload(Service.team)).order_by(Service.name)
    return list(session.scalars(query))


def service_by_slug(session: Session, slug: str) -> Service:
    service = session.scalar(select(Service).where(Service.slug == slug))
    if service is None:
        raise NotFound("service", slug)
    return service


def create_service(
    session: Session,
    actor: Actor,
    *,
    name: str,
    slug: str | None = None,
    team_slug: str | None = None,
    tier: int = 2,
    description: str = "",
) -> Service:
    require_write(actor)
    if tier not in (1, 2, 3):
        raise ValidationError("tier must be 1, 2 or 3", field="tier")
    service = Service(
        name=_name(name),
        slug=_slug(slug or slugify(name)),
        team_id=team_by_slug(session, team_slug).id if team_slug else None,
        tier=tier,
        description=description,
    )
    if session.scalar(select(Service.id).where(Service.slug == service.slug)) is not None:
        raise Conflict(f"service {service.slug!r} already exists")
    session.add(service)
    session.flush()
    audit.record(
        session,
        actor,
        "service.created",
        target_type="service",
        target_id=service.slug,
        after={"name": service.name, "team": team_slug},
    )
    return service


SERVICE_FIELDS = ("name", "slug", "team", "tier", "description")


def service_by_ref(session: Session, ref: str | int) -> Service:
    """A service by slug, or by numeric id when no service has that slug."""
    text = str(ref)
    service = session.scalar(select(Service).where(Service.slug == text))
    if service is None and text.isdigit():
        service = session.get(Service, int(text))
    if service is None:
        raise NotFound("service", ref)
    return service


def _service_values(service: Service) -> dict[str, Any]:
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
    before = _service_values(service)
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
    after = _service_values(service)
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
        before=_service_values(service),
    )
    session.delete(service)
    session.flush()


# -- problems ----------------------------------------------------------------------------------


def list_problems(session: Session) -> list[tuple[Problem, int]]:
    counts = (
        select(Incident.problem_id, func.count().label("n"))
        .group_by(Incident.problem_id)
        .subquery()
    )
    query = (
        select(Problem, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.problem_id == Problem.id)
        .order_by(Problem.key)
    )
    return [(row[0], int(row[1])) for row in session.execute(query)]


def problem_by_key(session: Session, key: str) -> Problem:
    problem = session.scalar(select(Problem).where(Problem.key == key))
    if problem is None:
        raise NotFound("problem", key)
    return problem


def create_problem(
    session: Session,
    actor: Actor,
    *,
    title: str,
    key: str | None = None,
    description: str = "",
    status: str = "open",
    workaround: str = "",
) -> Problem:
    require_write(actor)
    problem = Problem(
        key=_slug(key or slugify(title)),
        title=_name(title, "title"),
        description=description,
        status=rules.check_choice(status, rules.PROBLEM_STATUSES, field_name="status"),
        workaround=workaround,
    )
    if session.scalar(select(Problem.id).where(Problem.key == problem.key)) is not None:
        raise Conflict(f"problem {problem.key!r} already exists")
    session.add(problem)
    session.flush()
    audit.record(
        session,
        actor,
        "problem.created",
        target_type="problem",
        target_id=problem.key,
        after={"title": problem.title},
    )
    return problem


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


def incidents_for_problem(session: Session, problem: Problem) -> Sequence[Incident]:
    query = select(Incident).where(Incident.problem_id == problem.id).order_by(Incident.number)
    return session.scalars(query).all()
