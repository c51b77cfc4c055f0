"""Build the analysis input for one incident from the database: an `EvidenceBundle`, an
`IncidentContext` and the repeat-helper history, with the maps back to row ids that the
workspace needs to turn suggestions into evidence links.

One Core select per kind of row (messages, pages, shifts, transcript cues, people,
memberships, roles, services, identities, history) and no per-row ORM loading; the big
selects (messages, pages) read plain column values (datetimes as stored, JSON as text)
converted here in one pass, so a 10,000-message incident builds in tens of milliseconds.
People are keyed by their `Person.id` as text; people the importers could not match keep a
source key such as `slack:U024BE7LH` and simply show as "unknown" where the roster would
have answered. No analysis rules live here (they are in `afteraction.core.analysis`) and
nothing is written.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Integer, String, Text, and_, or_, select, type_coerce, union
from sqlalchemy.orm import Session

from afteraction.core import times
from afteraction.core.analysis.people import IncidentContext, RoleAssignment
from afteraction.core.evidence import (
    EvidenceBundle,
    MembershipRecord,
    MessageRecord,
    PageRecord,
    PersonRecord,
    Reaction,
    ShiftRecord,
    TranscriptCue,
)
from afteraction.storage.evidence_tables import (
    Channel,
    ExternalIncident,
    IncidentChannel,
    Message,
    OnCallShift,
    Page,
)
from afteraction.storage.evidence_tables import TranscriptCue as CueRow
from afteraction.storage.tables import (
    Identity,
    Incident,
    IncidentService,
    Person,
    Service,
    Team,
    TeamMembership,
)
from afteraction.storage.tables import RoleAssignment as RoleRow
from afteraction.storage.types import utcnow
from afteraction.storage.visibility import in_window

FATIGUE_LOOKBACK = timedelta(days=7)
SOURCE_SYSTEMS = ("slack", "pagerduty")


@dataclass(slots=True)
class IncidentEvidence:
    """The analysis input for one incident plus the ways back to database rows."""

    incident_id: int
    public_id: str
    bundle: EvidenceBundle
    context: IncidentContext
    history: dict[str, int]
    message_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    page_ids: dict[str, int] = field(default_factory=dict)
    channel_names: dict[str, str] = field(default_factory=dict)
    person_ids: dict[str, int] = field(default_factory=dict)

    def person_key(self, person_id: int | None) -> str | None:
        return str(person_id) if person_id is not None else None

    def evidence_links(self, refs: Iterable[tuple[str, ...]]) -> list[dict[str, Any]]:
        """Suggestion evidence (("message", channel, ts), ("page", id)...) as row links."""
        links: list[dict[str, Any]] = []
        for ref in refs:
            if ref[0] == "message" and (ref[1], ref[2]) in self.message_ids:
                links.append({"type": "message", "id": self.message_ids[(ref[1], ref[2])]})
            elif ref[0] == "page" and ref[1] in self.page_ids:
                links.append({"type": "page", "id": self.page_ids[ref[1]]})
            elif ref[0] == "person" and ref[1] in self.person_ids:
                links.append({"type": "person", "id": self.person_ids[ref[1]]})
        return links


class _Keys:
    """Source identities (slack, pagerduty) → person keys."""

    def __init__(self, identities: Mapping[tuple[str, str], int]) -> None:
        self.identities = identities
        self.seen: set[int] = set()

    def of(self, person_id: int | None, system: str, external: str | None) -> str | None:
        if person_id is None and external:
            person_id = self.identities.get((system, external))
        if person_id is not None:
            self.seen.add(person_id)
            return str(person_id)
        return f"{system}:{external}" if external else None


def _json(raw: Any) -> Any:
    """A JSON column read as text (decoding only what is there is much faster); drivers that
    decode JSON themselves (psycopg) hand over the value already decoded."""
    if raw is None or raw == "null":
        return None
    return orjson.loads(raw) if isinstance(raw, str | bytes) else raw


def _utc(value: Any) -> datetime:
    """A UTC datetime column read without per-row type processing: SQLite gives its stored
    text (naive UTC), PostgreSQL an aware datetime."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value + "+00:00")  # far faster than .replace()
        except ValueError:
            value = datetime.fromisoformat(value)
    moment: datetime = value
    return times.from_storage(moment)


def _reactions(raw: Any, keys: _Keys) -> tuple[Reaction, ...]:
    out = []
    for item in raw or ():
        if not isinstance(item, dict):
            continue
        users = tuple(
            k for k in (keys.of(None, "slack", str(u)) for u in item.get("users") or ()) if k
        )
        out.append(Reaction(str(item.get("name", "")), int(item.get("count") or len(users)), users))
    return tuple(out)


def _message_query(incident_id: int) -> Any:
    """The incident's messages as plain values: datetimes, JSON and flags are coerced so
    that no column needs a per-row result processor (they are converted in `_messages`)."""
    return (
        select(
            Message.id,
            Message.channel_id,
            Message.ts,
            type_coerce(Message.at, String),
            Message.author_person_id,
            Message.author_external,
            Message.raw_text.label("text_raw"),
            Message.subtype,
            Message.thread_ts,
            type_coerce(Message.edited_at, String),
            Message.inviter_external,
            type_coerce(Message.mentions, Text),
            type_coerce(Message.reactions, Text),
            type_coerce(Message.files, Text),
            type_coerce(Message.is_bot, Integer),
            type_coerce(Message.hidden, Integer),
        )
        .join(IncidentChannel, IncidentChannel.channel_id == Message.channel_id)
        .where(
            IncidentChannel.incident_id == incident_id,
            in_window(),
        )
        .order_by(Message.at, Message.id)
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while tens of thousands of records are built: they
    form no reference cycles, and every collection pass over them is wasted work (it cost
    about a third of the build). Reference counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _messages(
    session: Session, incident_id: int, keys: _Keys, evidence: IncidentEvidence
) -> list[MessageRecord]:
    connection = session.connection()
    channel_of = {
        row_id: (external_id, name)
        for row_id, external_id, name in connection.execute(
            select(Channel.id, Channel.external_id, Channel.name)
            .join(IncidentChannel, IncidentChannel.channel_id == Channel.id)
            .where(IncidentChannel.incident_id == incident_id)
        )
    }
    rows = connection.execute(_message_query(incident_id)).fetchall()
    records: list[MessageRecord] = []
    channel, last_channel_id = "", None
    append, message_ids, channels = records.append, evidence.message_ids, evidence.channel_names
    of, seen, authors = keys.of, keys.seen, dict[int, str]()
    for (
        row_id,
        channel_id,
        ts,
        at_raw,
        person_id,
        author_external,
        text,
        subtype,
        thread_ts,
        edited_raw,
        inviter,
        mentions_raw,
        reactions_raw,
        files_raw,
        is_bot,
        hidden,
    ) in rows:
        if channel_id != last_channel_id:
            channel, channel_name = channel_of[channel_id]
            channels[channel] = channel_name
            last_channel_id = channel_id
        message_ids[(channel, ts)] = row_id
        if person_id is not None:
            author = authors.get(person_id)
            if author is None:
                author = authors[person_id] = str(person_id)
                seen.add(person_id)
        else:
            author = of(None, "slack", author_external)
        mentions = _json(mentions_raw) if mentions_raw is not None else None
        reactions = _json(reactions_raw) if reactions_raw is not None else None
        files = _json(files_raw) if files_raw is not None else None
        append(
            MessageRecord(
                channel,
                ts,
                _utc(at_raw),
                author,
                text or "",
                subtype,
                thread_ts,
                _utc(edited_raw) if edited_raw is not None else None,
                of(None, "slack", inviter) if inviter else None,
                tuple(k for k in (of(None, "slack", str(m)) for m in mentions) if k)
                if mentions
                else (),
                _reactions(reactions, keys) if reactions else (),
                tuple(str(f) for f in files) if files else (),
                bool(is_bot),
                bool(hidden),
            )
        )
    return records


def _window(incident: Any, messages: list[MessageRecord]) -> tuple[datetime, datetime, datetime]:
    """(start, end, started): the evidence window covers the milestones and every message."""
    marks = [incident.started_at, incident.detected_at, incident.declared_at]
    started = next((m for m in marks if m is not None), None)
    if started is None:
        started = messages[0].at if messages else incident.created_at
    lows = [started] + ([messages[0].at] if messages else [])
    ends = [incident.resolved_at, incident.closed_at, incident.mitigated_at]
    highs = [e for e in ends if e is not None] + ([messages[-1].at] if messages else [])
    start = min(lows)
    end = max(highs) if highs else max(utcnow(), start)
    return start, max(end, start), started


def _pages(
    session: Session,
    incident_id: int,
    external_ids: list[str],
    start: datetime,
    end: datetime,
    keys: _Keys,
    evidence: IncidentEvidence,
) -> tuple[list[PageRecord], list[str]]:
    conditions = [Page.incident_id == incident_id, Page.at.between(start - FATIGUE_LOOKBACK, end)]
    if external_ids:
        conditions.append(Page.external_incident_id.in_(external_ids))
    query = select(
        Page.id,
        Page.external_id,
        Page.external_incident_id,
        Page.incident_id,
        Page.kind,
        type_coerce(Page.at, String),
        Page.person_id,
        Page.person_external,
        Page.method,
        Page.escalation_level,
        Page.summary,
    ).where(or_(*conditions))
    records = []
    ours = set(external_ids)
    rows = session.connection().execute(query.order_by(Page.at, Page.id)).fetchall()
    for (
        row_id,
        external_id,
        external_incident,
        page_incident,
        kind,
        at,
        person_id,
        person_external,
        method,
        level,
        summary,
    ) in rows:
        if page_incident == incident_id:
            ours.add(external_incident)
        evidence.page_ids[external_id] = row_id
        records.append(
            PageRecord(
                external_id,
                external_incident,
                kind,
                _utc(at),
                keys.of(person_id, "pagerduty", person_external),
                method,
                level,
                summary or "",
            )
        )
    return records, sorted(ours)


def _shifts(session: Session, start: datetime, end: datetime, keys: _Keys) -> list[ShiftRecord]:
    query = select(
        OnCallShift.person_id,
        OnCallShift.person_external,
        OnCallShift.schedule,
        OnCallShift.start,
        OnCallShift.end,
        OnCallShift.escalation_level,
    ).where(OnCallShift.start <= end, OnCallShift.end > start - FATIGUE_LOOKBACK)
    records = []
    for row in session.execute(query):
        key = keys.of(row.person_id, "pagerduty", row.person_external)
        if key is not None:
            records.append(ShiftRecord(key, row.schedule, row.start, row.end, row.escalation_level))
    return records


def _roles(session: Session, incident_id: int, keys: _Keys) -> list[RoleAssignment]:
    query = select(RoleRow.role, RoleRow.person_id, RoleRow.start, RoleRow.end).where(
        RoleRow.incident_id == incident_id
    )
    return [
        RoleAssignment(row.role, str(keys.of(row.person_id, "", None)), row.start, row.end)
        for row in session.execute(query.order_by(RoleRow.start, RoleRow.id))
    ]


def _cues(session: Session, incident_id: int, keys: _Keys) -> list[TranscriptCue]:
    """The incident's call transcript cues with a time (interview recordings are not
    evidence of the incident), speakers keyed like everyone else."""
    query = (
        select(
            CueRow.start_seconds,
            CueRow.end_seconds,
            CueRow.speaker,
            CueRow.text,
            CueRow.at,
            CueRow.person_id,
        )
        .where(
            CueRow.incident_id == incident_id,
            CueRow.at.is_not(None),
        )
        .order_by(CueRow.at, CueRow.id)
    )
    return [
        TranscriptCue(r[0], r[1], r[2], r[3], r[4], keys.of(r[5], "", None))
        for r in session.execute(query)
    ]


def _services(session: Session, incident_id: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    query = (
        select(Service.slug, Team.slug.label("team"))
        .join(IncidentService, IncidentService.service_id == Service.id)
        .outerjoin(Team, Team.id == Service.team_id)
        .where(IncidentService.incident_id == incident_id)
    )
    rows = session.execute(query).all()
    services = tuple(sorted({r.slug for r in rows}))
    teams = tuple(sorted({r.team for r in rows if r.team}))
    return services, teams


def _people(
    session: Session, ids: set[int]
) -> tuple[dict[str, PersonRecord], list[MembershipRecord], dict[int, list[tuple[int, Any, Any]]]]:
    people: dict[str, PersonRecord] = {}
    if not ids:
        return people, [], {}
    query = select(
        Person.id,
        Person.name,
        Person.email,
        Person.time_zone,
        Person.title,
        Person.department,
        Person.location,
        Person.manager_id,
        Person.start_date,
        Person.end_date,
    ).where(Person.id.in_(ids))
    for row in session.execute(query):
        people[str(row.id)] = PersonRecord(
            key=str(row.id),
            name=row.name,
            email=row.email,
            time_zone=row.time_zone,
            title=row.title,
            department=row.department,
            location=row.location,
            manager_key=str(row.manager_id) if row.manager_id is not None else None,
            start_date=row.start_date,
            end_date=row.end_date,
        )
    members = select(
        TeamMembership.person_id,
        TeamMembership.team_id,
        Team.slug,
        TeamMembership.start,
        TeamMembership.end,
    ).join(Team, Team.id == TeamMembership.team_id)
    memberships = []
    by_person: dict[int, list[tuple[int, Any, Any]]] = defaultdict(list)
    for member in session.execute(members.where(TeamMembership.person_id.in_(ids))):
        memberships.append(
            MembershipRecord(str(member.person_id), member.slug, member.start, member.end)
        )
        by_person[member.person_id].append((member.team_id, member.start, member.end))
    return people, memberships, by_person


def _member_on(spans: list[tuple[int, Any, Any]], team_ids: set[int], on: date) -> bool:
    return any(
        team in team_ids and (start is None or start <= on) and (end is None or on < end)
        for team, start, end in spans
    )


def incident_history(
    session: Session,
    incident_id: int,
    before: datetime,
    memberships: Mapping[int, list[tuple[int, Any, Any]]],
    person_ids: set[int],
) -> dict[str, int]:
    """Past incidents (started before `before`) each person worked — held a role, was paged
    or wrote in an attached channel — on services none of their teams owned then."""
    if not person_ids:
        return {}
    involved = union(
        select(RoleRow.person_id, RoleRow.incident_id).where(RoleRow.person_id.in_(person_ids)),
        select(Page.person_id, Page.incident_id).where(
            Page.person_id.in_(person_ids), Page.incident_id.is_not(None)
        ),
        select(Message.author_person_id, IncidentChannel.incident_id)
        .join(IncidentChannel, IncidentChannel.channel_id == Message.channel_id)
        .where(Message.author_person_id.in_(person_ids)),
    ).subquery()
    query = (
        select(involved.c[0], involved.c[1], Incident.started_at, Incident.created_at)
        .join(Incident, Incident.id == involved.c[1])
        .where(
            involved.c[1] != incident_id,
            or_(
                Incident.started_at < before,
                and_(Incident.started_at.is_(None), Incident.created_at < before),
            ),
        )
    )
    pairs = session.execute(query).all()
    owners: dict[int, set[int]] = defaultdict(set)
    incident_ids = {row[1] for row in pairs}
    if incident_ids:
        owned = (
            select(IncidentService.incident_id, Service.team_id)
            .join(Service, Service.id == IncidentService.service_id)
            .where(IncidentService.incident_id.in_(incident_ids), Service.team_id.is_not(None))
        )
        for other, team_id in session.execute(owned):
            if team_id is not None:
                owners[other].add(team_id)
    counts: dict[str, int] = {}
    for person_id, other, started_at, created_at in pairs:
        teams = owners.get(other)
        on = (times.from_storage(started_at) or times.from_storage(created_at) or before).date()
        if teams and not _member_on(list(memberships.get(person_id, ())), teams, on):
            counts[str(person_id)] = counts.get(str(person_id), 0) + 1
    return counts


def _incident_row(session: Session, incident_id: int) -> Any:
    query = select(
        Incident.id,
        Incident.number,
        Incident.started_at,
        Incident.detected_at,
        Incident.declared_at,
        Incident.mitigated_at,
        Incident.resolved_at,
        Incident.closed_at,
        Incident.created_at,
    ).where(Incident.id == incident_id)
    return session.execute(query).one()


def build_incident_evidence(
    session: Session, incident_id: int, *, with_history: bool = True
) -> IncidentEvidence:
    """Everything the analysis needs for incident `incident_id` (visibility is the caller's
    job: look the incident up with `services.incidents.get_incident` first)."""
    with _collector_paused():
        return _build(session, incident_id, with_history=with_history)


def _build(session: Session, incident_id: int, *, with_history: bool) -> IncidentEvidence:
    incident = _incident_row(session, incident_id)
    identities = {
        (row.system, row.external_id): row.person_id
        for row in session.execute(
            select(Identity.system, Identity.external_id, Identity.person_id).where(
                Identity.system.in_(SOURCE_SYSTEMS)
            )
        )
    }
    keys = _Keys(identities)
    placeholder = IncidentContext(start=utcnow(), end=utcnow(), started=utcnow())
    evidence = IncidentEvidence(
        incident.id, f"INC-{incident.number}", EvidenceBundle(), placeholder, {}
    )
    messages = _messages(session, incident_id, keys, evidence)
    start, end, started = _window(incident, messages)
    external = list(
        session.scalars(
            select(ExternalIncident.external_id).where(ExternalIncident.incident_id == incident_id)
        )
    )
    pages, page_incidents = _pages(session, incident_id, external, start, end, keys, evidence)
    shifts = _shifts(session, start, end, keys)
    roles = _roles(session, incident_id, keys)
    cues = _cues(session, incident_id, keys)
    services, owning = _services(session, incident_id)
    people, memberships, spans = _people(session, keys.seen)
    evidence.person_ids = {key: int(key) for key in people}
    evidence.bundle = EvidenceBundle(people, memberships, messages, pages, shifts, cues)
    evidence.context = IncidentContext(
        start=start,
        end=end,
        started=started,
        owning_teams=owning,
        affected_services=services,
        roles=tuple(roles),
        page_incident_ids=tuple(page_incidents),
    )
    if with_history:
        evidence.history = incident_history(session, incident_id, started, spans, keys.seen)
    return evidence
