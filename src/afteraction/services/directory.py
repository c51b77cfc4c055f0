"""The organisation directory: people, teams, dated team memberships, external identities,
services and problems.

Reads return rows; writes validate, record an audit entry and never commit. A person who
enters the directory takes the accounts kept aside with their email as identities
(`storage.source_people.claim_kept`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from afteraction.core import incidents as rules
from afteraction.core import times
from afteraction.core.access import Actor, require_write
from afteraction.core.errors import Conflict, NotFound, ValidationError
from afteraction.storage import audit, source_people
from afteraction.storage.tables import (
    Identity,
    Person,
    Problem,
    Service,
    Team,
    TeamMembership,
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
    source_people.claim_kept(session, [(person.id, person.email)])
    return person


def _new_person(data: PersonInput, email: str | None) -> Person:
    return Person(
        name=_name(data.name),
        email=email,
        time_zone=times.check_zone_name(data.time_zone),
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


def add_people(
    session: Session, actor: Actor, people: Sequence[Person], *, audit: bool = True
) -> list[int]:
    """Insert people checked by `check_new_person` in one flush, each with the audit record
    `create_person` writes (unless `audit` is False: the caller then records those it
    keeps with `record_created`); returns their ids in order."""
    require_write(actor)
    if not people:
        return []
    session.add_all(people)
    session.flush()
    if audit:
        for person in people:
            _audit_created(session, actor, person)
        source_people.claim_kept(session, [(p.id, p.email) for p in people])
    return [person.id for person in people]


def record_created(session: Session, actor: Actor, person_ids: Sequence[int]) -> None:
    """The audit record `create_person` writes, for people `add_people` inserted without."""
    people = [get_person(session, person_id) for person_id in person_ids]
    for person in people:
        _audit_created(session, actor, person)
    source_people.claim_kept(session, [(p.id, p.email) for p in people])


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


# -- problems ----------------------------------------------------------------------------------


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
