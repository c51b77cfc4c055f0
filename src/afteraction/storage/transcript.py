"""Windowed reads of an incident's transcript: messages of every attached channel, pages,
incident transcript cues (never interview cues) and accepted timeline entries, merged in
time order, one window at a time (keyset cursor on (at, id)), plus the author facts for
hover cards (team, title, tenure then, time zone, on call).

A window costs a fixed handful of queries whatever the incident's size, so a
10,000-message incident opens as fast as a small one. Rendering (mrkdwn to HTML) is the
caller's job; nothing is written here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from afteraction.core import times
from afteraction.storage.analysis_tables import TimelineEntry
from afteraction.storage.evidence_tables import (
    Channel,
    ExternalIncident,
    IncidentChannel,
    Message,
    OnCallShift,
    Page,
    TranscriptCue,
)
from afteraction.storage.tables import Identity, Person, Team, TeamMembership
from afteraction.storage.visibility import in_window

WINDOW = 200
MAX_WINDOW = 1000


@dataclass(slots=True)
class Item:
    kind: str  # message, page, cue, entry
    id: int
    at: datetime
    text: str
    channel_id: int | None = None
    ts: str | None = None
    thread_ts: str | None = None
    author_id: int | None = None
    author_name: str = ""
    subtype: str | None = None
    hidden: bool = False
    purged: bool = False  # its text was removed by the retention policy
    is_bot: bool = False
    reactions: list[Any] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    replies: list[Item] = field(default_factory=list)


@dataclass(slots=True)
class Card:
    name: str
    title: str
    teams: str
    tenure: str
    time_zone: str
    local_time: str
    on_call: str


@dataclass(slots=True)
class Window:
    items: list[Item]
    next_cursor: tuple[datetime, int] | None
    channels: list[tuple[int, str]]
    cards: dict[tuple[int, int], Card]
    mention_names: dict[str, str]


@dataclass(frozen=True, slots=True)
class Filters:
    channel_ids: Sequence[int] = ()
    query: str = ""
    person_id: int | None = None
    message_ids: Sequence[int] | None = None
    start: datetime | None = None


def incident_pages(incident_id: int) -> Any:
    """The condition on `Page` for the paging log entries that are evidence of an
    incident: its own, and those of the PagerDuty incidents linked to it."""
    external = select(ExternalIncident.external_id).where(
        ExternalIncident.incident_id == incident_id
    )
    return or_(Page.incident_id == incident_id, Page.external_incident_id.in_(external))


def channels_of(session: Session, incident_id: int) -> list[tuple[int, str]]:
    query = (
        select(Channel.id, Channel.name)
        .join(IncidentChannel, IncidentChannel.channel_id == Channel.id)
        .where(IncidentChannel.incident_id == incident_id)
        .order_by(Channel.name)
    )
    return [(row.id, row.name) for row in session.execute(query)]


def authors_of(session: Session, incident_id: int) -> list[tuple[int, str]]:
    """(person id, name) of everyone who wrote a message the incident's transcript holds
    (inside each channel's window), by name: what the transcript's person filter offers."""
    authors = (
        _message_query(incident_id)
        .with_only_columns(Message.author_person_id)
        .where(Message.author_person_id.is_not(None))
        .distinct()
        .subquery()
    )
    query = (
        select(Person.id, Person.name)
        .where(Person.id.in_(select(authors.c.author_person_id)))
        .order_by(Person.name, Person.id)
    )
    return [(row.id, row.name) for row in session.execute(query)]


def _message_query(incident_id: int) -> Any:
    return (
        select(
            Message.id,
            Message.at,
            Message.channel_id,
            Message.ts,
            Message.thread_ts,
            Message.author_person_id,
            Message.author_name,
            Message.subtype,
            Message.raw_text.label("text_raw"),
            Message.hidden,
            Message.purged_at,
            Message.is_bot,
            Message.reactions,
            Message.files,
            Message.mentions,
        )
        .join(IncidentChannel, IncidentChannel.channel_id == Message.channel_id)
        .where(
            IncidentChannel.incident_id == incident_id,
            in_window(),
        )
    )


def _item(row: Any) -> Item:
    return Item(
        "message",
        row.id,
        row.at,
        row.text_raw or "",
        channel_id=row.channel_id,
        ts=row.ts,
        thread_ts=row.thread_ts,
        author_id=row.author_person_id,
        author_name=row.author_name or "",
        subtype=row.subtype,
        hidden=bool(row.hidden),
        purged=row.purged_at is not None,
        is_bot=bool(row.is_bot),
        reactions=list(row.reactions or ()),
        files=[str(f) for f in row.files or ()],
    )


def read_window(
    session: Session,
    incident_id: int,
    *,
    cursor: tuple[datetime, int] | None = None,
    limit: int = WINDOW,
    filters: Filters | None = None,
) -> Window:
    """One window of the transcript after `cursor` (or from `filters.start`)."""
    filters = filters or Filters()
    limit = max(1, min(limit, MAX_WINDOW))
    flat = bool(filters.query or filters.person_id or filters.message_ids is not None)
    query = _message_query(incident_id)
    if not flat:
        query = query.where(or_(Message.thread_ts.is_(None), Message.thread_ts == Message.ts))
    if filters.channel_ids:
        query = query.where(Message.channel_id.in_(filters.channel_ids))
    if filters.query:
        for term in filters.query.split()[:8]:
            query = query.where(Message.text_plain.ilike(f"%{term}%"))
    if filters.person_id is not None:
        query = query.where(Message.author_person_id == filters.person_id)
    if filters.message_ids is not None:
        query = query.where(Message.id.in_(list(filters.message_ids)[:5000]))
    if cursor is not None:
        at, last_id = cursor
        query = query.where(or_(Message.at > at, and_(Message.at == at, Message.id > last_id)))
    elif filters.start is not None:
        query = query.where(Message.at >= filters.start)
    rows = session.execute(query.order_by(Message.at, Message.id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [_item(r) for r in rows]
    mentions = {str(m) for r in rows for m in r.mentions or ()}
    if not flat:
        _attach_replies(session, incident_id, items)
    low = items[0].at if (cursor is not None or filters.start is not None) and items else None
    high = items[-1].at if more and items else None
    if not flat and not filters.channel_ids:
        items = _merge(items, _others(session, incident_id, low, high))
    next_cursor = (rows[-1].at, rows[-1].id) if more else None
    people = {i.author_id for i in items if i.author_id is not None}
    people |= {r.author_id for i in items for r in i.replies if r.author_id is not None}
    window_start = rows[0].at if rows else None
    window_end = rows[-1].at if rows else None
    cards = _cards(session, people, items, window_start, window_end)
    return Window(
        items,
        next_cursor,
        channels_of(session, incident_id),
        cards,
        _mention_names(session, mentions),
    )


def _attach_replies(session: Session, incident_id: int, items: list[Item]) -> None:
    roots = {(i.channel_id, i.ts): i for i in items if i.thread_ts and i.thread_ts == i.ts}
    if not roots:
        return
    query = _message_query(incident_id).where(
        Message.thread_ts.in_({ts for _, ts in roots}),
        Message.channel_id.in_({c for c, _ in roots}),
        Message.thread_ts != Message.ts,
    )
    for row in session.execute(query.order_by(Message.at, Message.id)):
        root = roots.get((row.channel_id, row.thread_ts))
        if root is not None:
            root.replies.append(_item(row))


def _others(
    session: Session, incident_id: int, low: datetime | None, high: datetime | None
) -> list[Item]:
    def bounded(column: Any) -> list[Any]:
        conditions = []
        if low is not None:
            conditions.append(column >= low)
        if high is not None:
            conditions.append(column <= high)
        return conditions

    pages = select(
        Page.id, Page.at, Page.kind, Page.summary, Page.person_id, Page.escalation_level
    ).where(incident_pages(incident_id), *bounded(Page.at))
    items = [
        Item("page", r.id, r.at, f"{r.kind}: {r.summary}".strip(": "), author_id=r.person_id)
        for r in session.execute(pages)
    ]
    cues = select(
        TranscriptCue.id,
        TranscriptCue.at,
        TranscriptCue.speaker,
        TranscriptCue.text,
        TranscriptCue.person_id,
    ).where(
        TranscriptCue.incident_id == incident_id,
        TranscriptCue.at.is_not(None),
        *bounded(TranscriptCue.at),
    )
    items += [
        Item("cue", r.id, r.at, r.text, author_id=r.person_id, author_name=r.speaker or "")
        for r in session.execute(cues)
    ]
    entries = select(
        TimelineEntry.id, TimelineEntry.at, TimelineEntry.kind, TimelineEntry.text
    ).where(
        TimelineEntry.incident_id == incident_id,
        TimelineEntry.status == "accepted",
        *bounded(TimelineEntry.at),
    )
    items += [Item("entry", r.id, r.at, r.text, subtype=r.kind) for r in session.execute(entries)]
    return items


_ORDER = {"entry": 0, "page": 1, "message": 2, "cue": 3}


def _merge(messages: list[Item], others: list[Item]) -> list[Item]:
    return sorted(messages + others, key=lambda i: (i.at, _ORDER[i.kind], i.id))


def _mention_names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    query = (
        select(Identity.external_id, Person.name)
        .join(Person, Person.id == Identity.person_id)
        .where(Identity.system == "slack", Identity.external_id.in_(ids))
    )
    return {row.external_id: row.name for row in session.execute(query)}


def _cards(
    session: Session,
    people: set[int],
    items: list[Item],
    start: datetime | None,
    end: datetime | None,
) -> dict[tuple[int, int], Card]:
    """(person id, item id) → hover card facts at the time of that item."""
    if not people:
        return {}
    rows = {
        r.id: r
        for r in session.execute(
            select(Person.id, Person.name, Person.title, Person.time_zone, Person.start_date).where(
                Person.id.in_(people)
            )
        )
    }
    teams: dict[int, list[tuple[str, Any, Any]]] = defaultdict(list)
    members = (
        select(TeamMembership.person_id, Team.name, TeamMembership.start, TeamMembership.end)
        .join(Team, Team.id == TeamMembership.team_id)
        .where(TeamMembership.person_id.in_(people))
    )
    for r in session.execute(members):
        teams[r.person_id].append((r.name, r.start, r.end))
    shifts: dict[int, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    if start is not None and end is not None:
        query = select(
            OnCallShift.person_id, OnCallShift.start, OnCallShift.end, OnCallShift.schedule
        ).where(
            OnCallShift.person_id.in_(people), OnCallShift.start <= end, OnCallShift.end > start
        )
        for shift in session.execute(query):
            if shift.person_id is not None:
                shifts[shift.person_id].append((shift.start, shift.end, shift.schedule))
    cards: dict[tuple[int, int], Card] = {}
    for item in items + [r for i in items for r in i.replies]:
        person = rows.get(item.author_id) if item.author_id is not None else None
        if person is None:
            continue
        cards[(person.id, item.id)] = _card(
            person, teams[person.id], shifts[person.id], item.at, start is not None
        )
    return cards


def _card(
    person: Any,
    teams: list[tuple[str, Any, Any]],
    shifts: list[Any],
    at: datetime,
    have_window: bool,
) -> Card:
    day = at.astimezone(UTC).date()
    then = [n for n, s, e in teams if (s is None or s <= day) and (e is None or day < e)]
    tenure = "unknown (no start date in the roster)"
    if person.start_date is not None:
        days = (day - person.start_date).days
        tenure = f"{days // 365} y {(days % 365) // 30} m" if days >= 365 else f"{days} days"
        tenure = "not yet started" if days < 0 else tenure
    zone = times.zone_or_none(person.time_zone)
    local = at.astimezone(zone).strftime("%H:%M %a") if zone else "unknown"
    on_call = "unknown (no imported schedule)"
    if have_window and shifts:
        covering = [s for s in shifts if s[0] <= at < s[1]]
        on_call = f"on call ({covering[0][2]})" if covering else "not on call"
    elif have_window and not shifts:
        on_call = "no shift in the imported schedules"
    return Card(
        person.name,
        person.title or "unknown",
        ", ".join(sorted(then)) or "unknown",
        tenure,
        person.time_zone or "unknown",
        local,
        on_call,
    )
