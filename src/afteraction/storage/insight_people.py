"""The people rows the on-call, silo and response figures are computed from: people and
their zones, team memberships, pages, shifts, involvements, participation and the
interactions of each incident. Plain SQLAlchemy Core queries; no metric arithmetic.

Privacy: pages tied to an incident the actor may not see are left out, and so are the
messages and roles of such incidents (every incident query starts from the visibility
clause, through `insight_queries.conditions`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from afteraction.core import metrics as m
from afteraction.core.access import Actor
from afteraction.core.evidence import MembershipRecord, PageRecord, PersonRecord, ShiftRecord
from afteraction.core.metrics import InsightFilters
from afteraction.storage.evidence_tables import IncidentChannel, Message, OnCallShift
from afteraction.storage.evidence_tables import Page as PageRow
from afteraction.storage.insight_queries import raw_rows, visible_ids
from afteraction.storage.tables import (
    Incident,
    IncidentService,
    Person,
    RoleAssignment,
    Service,
    Team,
    TeamMembership,
)
from afteraction.storage.visibility import in_window, visibility_clause


def people(session: Session) -> dict[str, PersonRecord]:
    """Everyone, keyed by person id as text, with their name and time zone."""
    query = select(Person.id, Person.name, Person.time_zone)
    return {
        str(i): PersonRecord(str(i), name, time_zone=tz) for i, name, tz in session.execute(query)
    }


def memberships(session: Session) -> list[MembershipRecord]:
    query = select(TeamMembership.person_id, Team.slug, TeamMembership.start, TeamMembership.end)
    query = query.join(Team, Team.id == TeamMembership.team_id)
    return [MembershipRecord(str(p), t, s, e) for p, t, s, e in session.execute(query)]


def service_owners(session: Session) -> dict[str, tuple[str, ...]]:
    """service slug -> the slugs of its owning teams."""
    query = select(Service.slug, Team.slug).join(Team, Team.id == Service.team_id)
    return {s: (t,) for s, t in session.execute(query)}


def _page_visible(actor: Actor) -> ColumnElement[bool]:
    return or_(
        PageRow.incident_id.is_(None),
        PageRow.incident_id.in_(select(Incident.id).where(visibility_clause(actor))),
    )


def pages(session: Session, actor: Actor, start: datetime, end: datetime) -> list[PageRecord]:
    """PagerDuty log entries to a known person from 5 minutes before `start` to `end`
    (so that a page begun just before the window merges as it does inside it)."""
    query = select(
        PageRow.external_id, PageRow.external_incident_id, PageRow.kind, PageRow.at,
        PageRow.person_id, PageRow.method, PageRow.escalation_level,
    ).where(
        PageRow.at >= start - timedelta(minutes=5), PageRow.at < end,
        PageRow.person_id.is_not(None), _page_visible(actor),
    )  # fmt: skip
    return [
        PageRecord(ext, inc, kind, at, str(person), method, level)
        for ext, inc, kind, at, person, method, level in session.execute(query)
    ]


def shifts(session: Session) -> list[ShiftRecord]:
    query = select(
        OnCallShift.person_id, OnCallShift.schedule, OnCallShift.start, OnCallShift.end
    ).where(OnCallShift.person_id.is_not(None))
    return [ShiftRecord(str(p), s, a, b) for p, s, a, b in session.execute(query)]


def active_incidents(
    session: Session, actor: Actor, filters: InsightFilters, start: datetime, end: datetime
) -> list[tuple[int, str]]:
    """(id, public id) of the visible incidents matching `filters` (any dates) with some
    activity in [start, end): a role taken, a message in an attached channel inside the
    attachment's window, or a page for the incident. People's first involvements in them
    are dated from their evidence (`core.analysis.people.first_involvements`)."""
    ids = select(Incident.id).where(visibility_clause(actor))
    if filters.service or filters.team or filters.severity:
        ids = ids.where(Incident.id.in_(visible_ids(actor, filters.without_dates())))
    roles = select(RoleAssignment.incident_id).where(
        RoleAssignment.start >= start, RoleAssignment.start < end
    )
    messages = (
        select(IncidentChannel.incident_id)
        .join(Message, Message.channel_id == IncidentChannel.channel_id)
        .where(Message.at >= start, Message.at < end)
        .where(in_window())
    )
    paged = select(PageRow.incident_id).where(
        PageRow.incident_id.is_not(None), PageRow.at >= start, PageRow.at < end
    )
    active = roles.union(messages, paged).subquery()
    query = (
        select(Incident.id, Incident.number)
        .where(Incident.id.in_(select(active.c[0])), Incident.id.in_(ids))
        .order_by(Incident.number)
    )
    return [(i, f"INC-{number}") for i, number in session.execute(query)]


def participation(session: Session, actor: Actor, filters: InsightFilters) -> list[m.Participation]:
    """One row per (service, person, incident): role holders and message authors.

    The people are read first; services and start times only for the incidents that
    have some (start times as integers, a datetime made once per incident used)."""
    ids = visible_ids(actor, filters)
    found: set[tuple[int, int]] = set()
    roles = select(RoleAssignment.incident_id, RoleAssignment.person_id).where(
        RoleAssignment.incident_id.in_(ids)
    )
    found.update(session.execute(roles))
    authors = (
        select(IncidentChannel.incident_id, Message.author_person_id)
        .join(Message, Message.channel_id == IncidentChannel.channel_id)
        .where(IncidentChannel.incident_id.in_(ids), Message.author_person_id.is_not(None))
        .distinct()
    )
    found.update((i, p) for i, p in session.execute(authors) if p is not None)
    if not found:
        return []
    involved = select(RoleAssignment.incident_id).union(select(IncidentChannel.incident_id))
    svc = (
        select(IncidentService.incident_id, Service.slug, Incident.number, Incident.started_us)
        .join(Service, Service.id == IncidentService.service_id)
        .join(Incident, Incident.id == IncidentService.incident_id)
        .where(IncidentService.incident_id.in_(ids), Incident.type.in_(filters.measured_types()))
        .where(IncidentService.incident_id.in_(involved))
    )
    services: dict[int, list[tuple[str, str, datetime | None]]] = defaultdict(list)
    for incident_id, slug, number, started in raw_rows(session, svc):
        at = None if started is None else m.from_micros(started)
        services[incident_id].append((slug, f"INC-{number}", at))
    rows = []
    for incident_id, person_id in sorted(found):
        for slug, public_id, started in services.get(incident_id, ()):
            rows.append(m.Participation(slug, str(person_id), public_id, 1.0, started))
    return rows


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def interactions(
    session: Session, ids: list[int]
) -> tuple[dict[int, dict[str, list[datetime]]], dict[int, list[m.RoleAssignment]]]:
    """Per incident id: each person's interaction times (role assignment starts, authored
    messages in the incident's channels inside their attachment window, pages to them for
    the incident), and the role assignments in order of the rows."""
    times: dict[int, dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    roles: dict[int, list[m.RoleAssignment]] = defaultdict(list)
    for chunk in _chunks(ids, 500):
        role_q = select(
            RoleAssignment.incident_id, RoleAssignment.role, RoleAssignment.person_id,
            RoleAssignment.start,
        ).where(RoleAssignment.incident_id.in_(chunk))  # fmt: skip
        for incident_id, role, person, at in session.execute(role_q):
            times[incident_id][str(person)].append(at)
            roles[incident_id].append(m.RoleAssignment(role, str(person), at))
        message_q = (
            select(IncidentChannel.incident_id, Message.author_person_id, Message.at)
            .join(Message, Message.channel_id == IncidentChannel.channel_id)
            .where(IncidentChannel.incident_id.in_(chunk), Message.author_person_id.is_not(None))
            .where(in_window())
        )
        for channel_incident, author, at in session.execute(message_q):
            times[channel_incident][str(author)].append(at)
        page_q = select(PageRow.incident_id, PageRow.person_id, PageRow.at).where(
            PageRow.incident_id.in_(chunk), PageRow.person_id.is_not(None)
        )
        for page_incident, paged, at in session.execute(page_q):
            if page_incident is not None:
                times[page_incident][str(paged)].append(at)
    return times, roles
