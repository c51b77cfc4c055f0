"""Load the generated demo organisation into a database: teams, people (with identities and
dated memberships), services, problems, two years of incidents with their roles, updates,
action items and references, and one login per user role.

Historical incidents are written as rows (they are history, not new declarations), each
with an `incident.imported` audit entry; the flagship incident's raw evidence (roster,
PagerDuty, on-call, Slack export, transcripts) then goes through the real importers, and
the flagship gets the annotations, timeline and analysis notes an investigator would have
made. The investigator login is the flagship's investigator: its review is theirs and they
planned its interviews. Service levels (SLAs, SLOs with their request counts) come last.
All in one transaction: a failure leaves nothing.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from afteraction.core.access import Actor
from afteraction.core.incidents import MILESTONES
from afteraction.demo.analysis import annotate_flagship
from afteraction.demo.evidence_shift import shifted_copy
from afteraction.demo.flagship_evidence import FLAGSHIP_EVIDENCE, load_flagship_evidence
from afteraction.demo.generate import build_org
from afteraction.demo.model import DemoIncident, DemoOrg
from afteraction.demo.service_levels import load_service_levels
from afteraction.demo.story import directory
from afteraction.services import reviews
from afteraction.services.interviews import INVESTIGATOR_ROLE
from afteraction.services.users import actor_for, hash_password
from afteraction.storage import audit
from afteraction.storage.db import writing
from afteraction.storage.tables import (
    ActionItem,
    CustomerImpact,
    Identity,
    Incident,
    IncidentTag,
    IncidentUpdate,
    Person,
    Problem,
    Reference,
    RoleAssignment,
    Service,
    Team,
    TeamMembership,
    User,
)
from afteraction.storage.types import utcnow

DEMO_PASSWORD = "afteraction-demo"
INVESTIGATOR_LOGIN = "investigator@example.com"
DEMO_USERS = (
    ("admin@example.com", "admin"),
    (INVESTIGATOR_LOGIN, "investigator"),
    ("responder@example.com", "responder"),
    ("viewer@example.com", "viewer"),
)
LOADER = Actor(user_id=None, label="demo loader", role="admin")


@dataclass(frozen=True, slots=True)
class DemoSummary:
    teams: int
    people: int
    services: int
    problems: int
    incidents: int
    users: tuple[tuple[str, str], ...]
    password: str
    already_loaded: bool = False


def load_demo(session: Session, *, seed: int = 7, today: date | None = None) -> DemoSummary:
    """Build the demo org for `today` (default: the story date) and write it; does nothing
    if incidents already exist. For a later day every date moves, the flagship's evidence
    included (`evidence_shift.demo_day` gives a day that keeps the story's weekdays)."""
    if session.scalar(select(func.count()).select_from(Incident)):
        session.rollback()
        return DemoSummary(0, 0, 0, 0, 0, DEMO_USERS, DEMO_PASSWORD, already_loaded=True)
    org = build_org(seed) if today is None else build_org(seed, today=today)
    shift = directory().shift(today or directory().story_date)
    with writing(session), tempfile.TemporaryDirectory(prefix="afteraction-demo-") as tmp:
        _write(session, org)
        flagship = next(incident for incident in org.incidents if incident.flagship)
        key = f"INC-{flagship.number}"
        folder = shifted_copy(FLAGSHIP_EVIDENCE, Path(tmp), shift) if shift else FLAGSHIP_EVIDENCE
        load_flagship_evidence(session, LOADER, key, folder=folder, shift=shift)
        investigator, person_id = _investigator(session, flagship)
        reviews.assign_investigator(session, LOADER, key, person_id)
        annotate_flagship(
            session, flagship.number, LOADER, investigator=actor_for(investigator), shift=shift
        )
        load_service_levels(session, LOADER, org.incidents, today or directory().story_date)
    return DemoSummary(
        teams=len(org.teams),
        people=len(org.people),
        services=len(org.services),
        problems=len(org.problems),
        incidents=len(org.incidents),
        users=DEMO_USERS,
        password=DEMO_PASSWORD,
    )


def _write(session: Session, org: DemoOrg) -> None:
    teams = {t.slug: Team(slug=t.slug, name=t.name, description=t.description) for t in org.teams}
    session.add_all(teams.values())
    people = _people(session, org, teams)
    services = {
        s.slug: Service(
            slug=s.slug, name=s.name, tier=s.tier, description=s.description, team=teams[s.team]
        )
        for s in org.services
    }
    session.add_all(services.values())
    problems = {
        p.key: Problem(
            key=p.key,
            title=p.title,
            description=p.description,
            status=p.status,
            workaround=p.workaround,
        )
        for p in org.problems
    }
    session.add_all(problems.values())
    session.flush()
    incidents = [_incident(demo, teams, services, problems) for demo in org.incidents]
    session.add_all(incidents)
    session.flush()  # one batch of inserts per table, not one round of flushes per incident
    for incident, demo in zip(incidents, org.incidents, strict=True):
        _details(session, incident, demo, people)
    session.flush()
    hashed = hash_password(DEMO_PASSWORD)
    for email, role in DEMO_USERS:
        session.add(User(email=email, name=role.title(), password_hash=hashed, role=role))
    session.flush()


def _investigator(session: Session, flagship: DemoIncident) -> tuple[User, int]:
    """The demo's investigator login, made the person who investigates the flagship (its
    `investigator` role), so their review and the interviews they planned are theirs."""
    email = next(r.person_email for r in flagship.roles if r.role == INVESTIGATOR_ROLE)
    person = session.scalar(select(Person).where(Person.email == email))
    user = session.scalar(select(User).where(User.email == INVESTIGATOR_LOGIN))
    if person is None or user is None:
        raise ValueError(f"the demo has no {INVESTIGATOR_LOGIN} login or no person {email}")
    user.person_id, user.name = person.id, person.name
    session.flush()
    return user, person.id


def _people(session: Session, org: DemoOrg, teams: dict[str, Team]) -> dict[str, Person]:
    people: dict[str, Person] = {}
    for demo in org.people:
        person = Person(
            name=demo.name,
            email=demo.email,
            time_zone=demo.time_zone,
            location=demo.location,
            title=demo.title,
            department=demo.department,
            start_date=demo.start_date,
            end_date=demo.end_date,
            github_login=demo.github_login,
        )
        person.identities = [
            Identity(system="slack", external_id=demo.slack_id, display_name=demo.name),
            Identity(system="pagerduty", external_id=demo.pagerduty_id, display_name=demo.name),
            Identity(system="github", external_id=demo.github_login, display_name=demo.name),
        ]
        last_end = demo.start_date
        for slug, start, end in demo.past_teams:
            person.memberships.append(TeamMembership(team=teams[slug], start=start, end=end))
            last_end = max(last_end, end)
        person.memberships.append(
            TeamMembership(team=teams[demo.team], start=last_end, end=demo.end_date)
        )
        people[demo.email] = person
    session.add_all(people.values())
    session.flush()
    for demo in org.people:
        if demo.manager_email:
            people[demo.email].manager_id = people[demo.manager_email].id
    return people


def _incident(
    demo: DemoIncident,
    teams: dict[str, Team],
    services: dict[str, Service],
    problems: dict[str, Problem],
) -> Incident:
    milestones = {f"{name}_at": demo.milestones.get(name) for name in MILESTONES}
    created = demo.milestones.get("declared") or demo.milestones.get("started") or utcnow()
    return Incident(
        number=demo.number,
        title=demo.title,
        summary=demo.summary,
        severity=demo.severity,
        status=demo.status,
        type=demo.type,
        private=demo.private,
        customer_impact=demo.customer_impact,
        problem=problems[demo.problem] if demo.problem else None,
        services=[services[s] for s in demo.services],
        teams=[teams[t] for t in demo.teams],
        tag_rows=[IncidentTag(tag=t) for t in dict.fromkeys(demo.tags)],
        created_at=created,
        updated_at=demo.milestones.get("closed") or created,
        **milestones,
    )


def _details(
    session: Session, incident: Incident, demo: DemoIncident, people: dict[str, Person]
) -> None:
    """The roles, updates, action items, impact, references and audit entry of a written
    incident."""
    for role in demo.roles:
        session.add(
            RoleAssignment(
                incident_id=incident.id,
                role=role.role,
                person_id=people[role.person_email].id,
                start=role.start,
                end=role.end,
            )
        )
    for update in demo.updates:
        session.add(
            IncidentUpdate(
                incident_id=incident.id,
                at=update.at,
                status=update.status,
                body=update.body,
                author_person_id=people[update.author_email].id,
            )
        )
    for item in demo.action_items:
        session.add(
            ActionItem(
                incident_id=incident.id,
                title=item.title,
                kind=item.kind,
                owner_id=people[item.owner_email].id,
                due=item.due,
                status=item.status,
                url=item.url,
            )
        )
    for start, end in demo.impacts:
        session.add(CustomerImpact(incident_id=incident.id, start_at=start, end_at=end,
                                   description=demo.customer_impact[:2000]))  # fmt: skip
    for ref in {r.url: r for r in demo.references}.values():
        session.add(Reference(incident_id=incident.id, kind=ref.kind, url=ref.url, title=ref.title))
    audit.record(
        session,
        LOADER,
        "incident.imported",
        target_type="incident",
        target_id=incident.public_id,
        incident_id=incident.id,
        after={"source": "demo generator", "flagship": demo.flagship},
    )
