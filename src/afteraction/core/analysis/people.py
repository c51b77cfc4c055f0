"""People and coordination analysis for one incident (method.md section 4).

`analyze_people(bundle, context)` turns an `EvidenceBundle` into one `PersonFacts` per
person who appears in any source (chat, pages, reactions, roles) plus a `Rollup`: how each
person arrived, whether they were on call and in their off hours, recent pages, team fit,
tenure, participation and roles. Every number carries a plain-words explanation in
`explanations`, and anything the evidence cannot tell is reported as unknown (None or
"unknown"), never guessed. Results are plain dataclasses (`dataclasses.asdict` friendly,
timezone-aware datetimes); `analysis_to_json` renders them for the API.

What counts as a page and when a person was first involved are `involvement.py`'s
definitions, shared with the on-call load page and the report's facts: on call and off
hours are judged at the moment of first involvement (`first_seen`).

Pure functions over `afteraction.core.evidence` records only: no I/O, no storage, no
third-party imports, and no identity matching (importers merge identities, we never do).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from afteraction.core.analysis.involvement import (
    NOTIFY_KIND,
    Signals,
    first_involved,
    pages_from_log,
)
from afteraction.core.errors import ValidationError
from afteraction.core.evidence import (
    JOIN_SUBTYPES,
    LEAVE_SUBTYPES,
    EvidenceBundle,
    MessageRecord,
    PageRecord,
    PersonRecord,
    ShiftRecord,
)

ARRIVAL_KINDS: tuple[str, ...] = ("paged", "invited", "mentioned", "self_joined", "unknown")
TEAM_FITS: tuple[str, ...] = ("owning_team", "former_member", "other_team", "unknown")
WORK_DAY_START_HOUR = 8
WORK_DAY_END_HOUR = 20
EVENT_SUBTYPES: frozenset[str] = LEAVE_SUBTYPES | frozenset(
    {
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "group_topic",
        "group_purpose",
        "pinned_item",
        "unpinned_item",
        "bot_add",
        "bot_remove",
        "reminder_add",
        "tombstone",
    }
)
"""Channel events that show a person was present but are not messages they wrote."""

_ARRIVAL_PRIORITY = {"paged": 0, "invited": 1, "self_joined": 1, "mentioned": 2}


class RoleAssignment(NamedTuple):
    """Who held which incident role, from `start` until `end` (None: still holding it)."""

    role: str
    person_key: str
    start: datetime
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class IncidentContext:
    """What the analysis needs to know about the incident itself.

    `start`/`end` bound the evidence window (messages and pages outside it are ignored,
    except pages before `started`, which feed the fatigue counts). `page_incident_ids`, when
    given, says which PagerDuty incidents are this one; otherwise pages inside the window
    count. `change_authors` are people known (e.g. from a linked PR) to have authored a
    change near the trigger. `time_zone` is the zone used to display incident times.
    """

    start: datetime
    end: datetime
    started: datetime
    owning_teams: tuple[str, ...] = ()
    affected_services: tuple[str, ...] = ()
    roles: tuple[RoleAssignment, ...] = ()
    time_zone: str | None = None
    page_incident_ids: tuple[str, ...] = ()
    change_authors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("start", "end", "started"):
            _require_aware(getattr(self, name), name)
        if self.end < self.start:
            raise ValidationError("the incident window ends before it starts", field="end")
        roles = tuple(RoleAssignment(*role) for role in self.roles)
        for role in roles:
            _require_aware(role.start, "roles")
            if role.end is not None:
                _require_aware(role.end, "roles")
        object.__setattr__(self, "roles", roles)


@dataclass(frozen=True, slots=True)
class ArrivalDetail:
    """Every arrival signal found; `PersonFacts.arrival` names the one that came first."""

    at: datetime | None
    escalation_level: int | None = None
    inviter_key: str | None = None
    mentioner_key: str | None = None
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RoleHeld:
    role: str
    start: datetime
    end: datetime | None


@dataclass(slots=True)
class PersonFacts:
    person_key: str
    name: str
    in_roster: bool
    arrival: str
    arrival_detail: ArrivalDetail
    first_seen: datetime | None
    first_message: datetime | None
    last_message: datetime | None
    time_zone: str | None
    on_call_at_arrival: bool | None
    off_hours_at_arrival: bool | None
    local_time_at_arrival: str | None
    pages_in_incident: int
    pages_prev_24h: int
    pages_prev_7d: int
    consecutive_pages: int
    team_fit: str
    teams: tuple[str, ...]
    left_owning_team_on: date | None
    days_since_left: int | None
    title_then: str | None
    tenure_days_then: int | None
    messages: int
    words: int
    message_share: float
    reactions_given: int
    is_observer: bool
    reactions_only: bool
    roles: tuple[RoleHeld, ...]
    explanations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TimeZoneSpread:
    zones: tuple[str, ...]
    max_offset_difference_hours: float | None
    unknown_count: int


@dataclass(frozen=True, slots=True)
class RepeatHelper:
    person_key: str
    incidents: int


@dataclass(slots=True)
class Rollup:
    people_count: int
    responders_count: int
    observers_count: int
    pulled_in_off_call_count: int
    pulled_in_off_call_keys: tuple[str, ...]
    on_call_unknown_count: int
    teams_involved: tuple[str, ...]
    time_zone_spread: TimeZoneSpread
    bots_count: int
    bot_messages: int
    unattributed_messages: int
    hidden_messages: int
    total_messages: int
    total_words: int
    repeat_helpers: tuple[RepeatHelper, ...] | None
    repeat_threshold: int
    explanations: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class PeopleAnalysis:
    people: list[PersonFacts]
    rollup: Rollup

    def person(self, person_key: str) -> PersonFacts | None:
        """The facts for one person, or None when they did not appear."""
        return next((p for p in self.people if p.person_key == person_key), None)


@dataclass(slots=True)
class _Trace:
    """Everything seen about one person while walking the evidence once."""

    page_at: datetime | None = None
    page_ref: tuple[str, ...] = ()
    escalation_level: int | None = None
    pages: int = 0
    join_at: datetime | None = None
    join_ref: tuple[str, ...] = ()
    inviter: str | None = None
    mention_at: datetime | None = None
    mention_ref: tuple[str, ...] = ()
    mentioner: str | None = None
    first_msg: datetime | None = None
    last_msg: datetime | None = None
    messages: int = 0
    words: int = 0
    reactions: int = 0
    other_at: datetime | None = None

    def signals(self) -> Signals:
        return Signals(self.page_at, self.join_at, self.mention_at, self.first_msg, self.other_at)


@dataclass(slots=True)
class _Walk:
    traces: dict[str, _Trace] = field(default_factory=lambda: defaultdict(_Trace))
    bots: set[str] = field(default_factory=set)
    bot_messages: int = 0
    unattributed: int = 0
    hidden: int = 0
    notifications: list[PageRecord] = field(default_factory=list)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{name} must be a timezone-aware datetime", field=name)


def _earlier(current: datetime | None, candidate: datetime) -> bool:
    return current is None or candidate < current


def _min_time(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


@lru_cache(maxsize=512)
def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The ZoneInfo for an IANA name, or None when the name is missing or unknown."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _is_bot(key: str | None, people: Mapping[str, PersonRecord]) -> bool:
    record = people.get(key) if key is not None else None
    return record is not None and record.is_bot


def _walk_messages(bundle: EvidenceBundle, context: IncidentContext, walk: _Walk) -> None:
    for message in bundle.messages:
        if not context.start <= message.at <= context.end:
            continue
        if message.hidden:
            walk.hidden += 1
            continue
        _walk_message(message, bundle.people, walk)


def _walk_message(message: MessageRecord, people: Mapping[str, PersonRecord], walk: _Walk) -> None:
    author = message.author_key
    ref = ("message", message.channel, message.ts)
    bot = message.is_bot or _is_bot(author, people)
    if bot:
        walk.bot_messages += 1
        if author is not None:
            walk.bots.add(author)
    elif message.subtype in JOIN_SUBTYPES:
        if author is not None:
            trace = walk.traces[author]
            if _earlier(trace.join_at, message.at):
                trace.join_at, trace.join_ref, trace.inviter = message.at, ref, message.inviter_key
    elif message.subtype in EVENT_SUBTYPES:
        if author is not None:
            _touch(walk.traces[author], message.at)
    elif author is None:
        walk.unattributed += 1
    else:
        trace = walk.traces[author]
        trace.messages += 1
        trace.words += len(message.text.split())
        if _earlier(trace.first_msg, message.at):
            trace.first_msg = message.at
        if trace.last_msg is None or message.at > trace.last_msg:
            trace.last_msg = message.at
    _walk_mentions(message, author, ref, people, walk)
    _walk_reactions(message, people, walk)


def _walk_mentions(
    message: MessageRecord,
    author: str | None,
    ref: tuple[str, ...],
    people: Mapping[str, PersonRecord],
    walk: _Walk,
) -> None:
    if message.subtype in JOIN_SUBTYPES:
        return
    for key in message.mention_keys:
        if key == author or _is_bot(key, people):
            continue
        trace = walk.traces[key]
        if _earlier(trace.mention_at, message.at):
            trace.mention_at, trace.mention_ref, trace.mentioner = message.at, ref, author


def _walk_reactions(
    message: MessageRecord, people: Mapping[str, PersonRecord], walk: _Walk
) -> None:
    for reaction in message.reactions:
        for key in reaction.user_keys:
            if _is_bot(key, people):
                walk.bots.add(key)
            else:
                walk.traces[key].reactions += 1


def _touch(trace: _Trace, at: datetime) -> None:
    if _earlier(trace.other_at, at):
        trace.other_at = at


def page_in_incident(page: PageRecord, context: IncidentContext) -> bool:
    """True when the page belongs to this incident (by PagerDuty id, else by the window)."""
    if context.page_incident_ids:
        return page.incident_external_id in context.page_incident_ids
    return context.start <= page.at <= context.end


def _walk_pages(bundle: EvidenceBundle, context: IncidentContext, walk: _Walk) -> None:
    for page in bundle.pages:
        key = page.person_key
        if key is None or not page_in_incident(page, context):
            continue
        if _is_bot(key, bundle.people):
            walk.bots.add(key)
            continue
        trace = walk.traces[key]
        if page.kind == NOTIFY_KIND:
            walk.notifications.append(page)
            if _earlier(trace.page_at, page.at):
                trace.page_at, trace.page_ref = page.at, ("page", page.external_id)
        else:
            _touch(trace, page.at)
        if trace.escalation_level is None and page.kind in (NOTIFY_KIND, "assign"):
            trace.escalation_level = page.escalation_level
    for merged in pages_from_log(walk.notifications):
        walk.traces[merged.person_key].pages += 1


def _walk_roles(context: IncidentContext, walk: _Walk) -> None:
    for role in context.roles:
        _touch(walk.traces[role.person_key], role.start)


def _arrival(trace: _Trace) -> tuple[str, datetime | None, tuple[str, ...]]:
    candidates: list[tuple[datetime, int, str, tuple[str, ...]]] = []
    if trace.page_at is not None:
        candidates.append((trace.page_at, _ARRIVAL_PRIORITY["paged"], "paged", trace.page_ref))
    if trace.join_at is not None:
        kind = "invited" if trace.inviter else "self_joined"
        candidates.append((trace.join_at, _ARRIVAL_PRIORITY[kind], kind, trace.join_ref))
    mention = trace.mention_at
    if mention is not None and (trace.first_msg is None or mention < trace.first_msg):
        candidates.append((mention, _ARRIVAL_PRIORITY["mentioned"], "mentioned", trace.mention_ref))
    if not candidates:
        return "unknown", _min_time(trace.first_msg, trace.other_at, trace.mention_at), ()
    at, _, kind, ref = min(candidates)
    return kind, at, ref


_ARRIVAL_WORDS = {
    "paged": "a PagerDuty notification to them came first",
    "invited": "someone added them to the channel before they did anything else",
    "self_joined": "they joined the channel by themselves before anyone paged or mentioned them",
    "mentioned": "someone @-mentioned them before they wrote or joined",
    "unknown": (
        "no page, channel join or earlier mention was found; they were probably already in "
        "the channel, or the event that brought them in was not imported"
    ),
}


def _arrival_explanation(kind: str, detail: ArrivalDetail) -> str:
    parts = [f"{kind}: {_ARRIVAL_WORDS[kind]}"]
    if detail.escalation_level is not None:
        parts.append(f"escalation level {detail.escalation_level}")
    if detail.inviter_key:
        parts.append(f"invited by {detail.inviter_key}")
    if detail.mentioner_key:
        parts.append(f"first mentioned by {detail.mentioner_key}")
    return "; ".join(parts) + ". The earliest signal wins; ties go to pages, then joins."


class _Schedules:
    """Shifts indexed by person, plus the span each imported schedule covers."""

    def __init__(self, shifts: Iterable[ShiftRecord]) -> None:
        self.by_person: dict[str, list[ShiftRecord]] = defaultdict(list)
        spans: dict[str, tuple[datetime, datetime]] = {}
        for shift in shifts:
            self.by_person[shift.person_key].append(shift)
            low, high = spans.get(shift.schedule, (shift.start, shift.end))
            spans[shift.schedule] = (min(low, shift.start), max(high, shift.end))
        self.spans = spans

    def on_call(self, key: str, at: datetime | None) -> tuple[bool | None, str]:
        if at is None:
            return None, "unknown: no moment of first involvement was found"
        covering = sorted(name for name, (low, high) in self.spans.items() if low <= at < high)
        if not covering:
            return None, "unknown: no imported on-call schedule covers that moment"
        for shift in self.by_person.get(key, ()):
            if shift.start <= at < shift.end:
                return True, f"on call in schedule {shift.schedule!r} when first involved"
        return False, (
            "not on call: none of the imported schedules covering that moment "
            f"({', '.join(covering)}) had them on shift"
        )


def local_time(at: datetime, zone: ZoneInfo) -> str:
    """'2024-03-10 02:14 PST (America/Los_Angeles)' for display."""
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({zone.key})"


def _off_hours(
    record: PersonRecord | None, at: datetime | None
) -> tuple[bool | None, str | None, str]:
    zone = zone_or_none(record.time_zone if record else None)
    if zone is None:
        named = record.time_zone if record else None
        why = f"time zone {named!r} is not a known IANA zone" if named else "no time zone on record"
        return None, None, f"unknown: {why}"
    if at is None:
        return None, None, "unknown: no moment of first involvement was found"
    hour = at.astimezone(zone).hour
    off = not WORK_DAY_START_HOUR <= hour < WORK_DAY_END_HOUR
    text = local_time(at, zone)
    words = "outside" if off else "inside"
    return (
        off,
        text,
        (
            f"first involved at {text}, {words} {WORK_DAY_START_HOUR:02d}:00-"
            f"{WORK_DAY_END_HOUR:02d}:00 in their own time zone (daylight saving applied)"
        ),
    )


@dataclass(slots=True)
class _PageHistory:
    """Each person's pages (`involvement.pages_from_log`) in other PagerDuty incidents
    before impact started, for fatigue counts."""

    by_person: dict[str, list[datetime]]

    @classmethod
    def build(cls, pages: Iterable[PageRecord], context: IncidentContext) -> _PageHistory:
        others = (
            page
            for page in pages
            if page.person_key is not None
            and not page_in_incident(page, context)
            and page.at < context.started
        )
        by_person: dict[str, list[datetime]] = defaultdict(list)
        for page in pages_from_log(others):
            by_person[page.person_key].append(page.at)
        return cls(by_person)

    def counts(
        self, key: str, started: datetime, this_page: datetime | None, rest_gap: timedelta
    ) -> tuple[int, int, int]:
        times = self.by_person.get(key, [])
        day = sum(1 for t in times if t >= started - timedelta(hours=24))
        week = sum(1 for t in times if t >= started - timedelta(days=7))
        run, anchor = (1, this_page) if this_page is not None else (0, started)
        for previous in reversed(times):
            if anchor - previous >= rest_gap:
                break
            run, anchor = run + 1, previous
        return day, week, run


def _team_fit(
    memberships: list[tuple[str, date | None, date | None]], owning: tuple[str, ...], on: date
) -> tuple[str, tuple[str, ...], date | None, str]:
    active = sorted(
        {t for t, s, e in memberships if (s is None or s <= on) and (e is None or on < e)}
    )
    if not owning:
        return "unknown", tuple(active), None, "unknown: the incident names no owning team"
    owned = ", ".join(owning)
    if set(active) & set(owning):
        return "owning_team", tuple(active), None, f"member of an owning team ({owned}) on {on}"
    left = [e for t, _, e in memberships if t in owning and e is not None and e <= on]
    if left:
        last = max(left)
        return (
            "former_member",
            tuple(active),
            last,
            (f"left an owning team ({owned}) on {last}, {(on - last).days} days before {on}"),
        )
    if active:
        return "other_team", tuple(active), None, f"member of {', '.join(active)}, not of {owned}"
    return "unknown", (), None, f"unknown: no team membership on record for {on}"


def _tenure(record: PersonRecord | None, on: date) -> tuple[int | None, str]:
    if record is None or record.start_date is None:
        return None, "unknown: no start date on record"
    days = (on - record.start_date).days
    if days < 0:
        return None, f"unknown: the roster start date {record.start_date} is after {on}"
    return days, f"{days} days from their start date {record.start_date} to {on}"


def _participation_explanations(total: int) -> dict[str, str]:
    return {
        "messages": (
            "chat messages they wrote inside the incident window; joins, leaves, topic "
            "changes, bot posts and hidden or deleted messages are not counted"
        ),
        "words": "whitespace-separated words in those messages",
        "message_share": f"their messages divided by the {total} messages written by people",
        "reactions_given": "emoji reactions they added to messages in the window",
        "is_observer": "present (paged, joined, mentioned or holding a role) but wrote nothing "
        "and added no reaction",
        "reactions_only": "added reactions but wrote no message",
        "title_then": "title from the current roster; title history is not imported",
        "first_seen": "first involved: the earliest of a page, a channel join or invitation, "
        "an @-mention, a message, a role or another action of theirs; on call and off hours "
        "are judged at this moment",
    }


def _person_facts(
    key: str,
    trace: _Trace,
    bundle: EvidenceBundle,
    context: IncidentContext,
    shared: _Shared,
) -> PersonFacts:
    record = bundle.people.get(key)
    kind, at, ref = _arrival(trace)
    detail = ArrivalDetail(at, trace.escalation_level, trace.inviter, trace.mentioner, ref)
    first = first_involved(trace.signals())
    moment = first or context.started
    on_call, on_call_why = shared.schedules.on_call(key, first)
    off, local, off_why = _off_hours(record, first)
    day, week, run = shared.history.counts(key, context.started, trace.page_at, shared.rest_gap)
    fit, teams, left, fit_why = _team_fit(
        shared.memberships.get(key, []), context.owning_teams, moment.date()
    )
    tenure, tenure_why = _tenure(record, moment.date())
    share = round(trace.messages / shared.total, 4) if shared.total else 0.0
    roles = tuple(RoleHeld(r.role, r.start, r.end) for r in context.roles if r.person_key == key)
    explanations = {
        "arrival": _arrival_explanation(kind, detail),
        "on_call_at_arrival": on_call_why,
        "off_hours_at_arrival": off_why,
        "pages_in_incident": "pages to them for this incident (notifications within 5 minutes "
        "of the first, by push, SMS or phone, are one page)",
        "pages_prev_24h": "pages to them for other PagerDuty incidents in the 24 hours before "
        "impact started",
        "pages_prev_7d": "pages to them for other PagerDuty incidents in the 7 days before "
        "impact started",
        "consecutive_pages": "pages with less than "
        f"{shared.rest_gap} between one and the next, ending with this incident's first",
        "team_fit": fit_why,
        "tenure_days_then": tenure_why,
        **shared.participation,
    }
    if record is None:
        explanations["name"] = "not in the imported roster; shown by their key"
    return PersonFacts(
        person_key=key,
        name=record.name if record else key,
        in_roster=record is not None,
        arrival=kind,
        arrival_detail=detail,
        first_seen=first,
        first_message=trace.first_msg,
        last_message=trace.last_msg,
        time_zone=record.time_zone if record else None,
        on_call_at_arrival=on_call,
        off_hours_at_arrival=off,
        local_time_at_arrival=local,
        pages_in_incident=trace.pages,
        pages_prev_24h=day,
        pages_prev_7d=week,
        consecutive_pages=run,
        team_fit=fit,
        teams=teams,
        left_owning_team_on=left,
        days_since_left=(moment.date() - left).days if left else None,
        title_then=record.title if record else None,
        tenure_days_then=tenure,
        messages=trace.messages,
        words=trace.words,
        message_share=share,
        reactions_given=trace.reactions,
        is_observer=trace.messages == 0 and trace.reactions == 0,
        reactions_only=trace.messages == 0 and trace.reactions > 0,
        roles=roles,
        explanations=explanations,
    )


@dataclass(slots=True)
class _Shared:
    schedules: _Schedules
    history: _PageHistory
    memberships: dict[str, list[tuple[str, date | None, date | None]]]
    total: int
    rest_gap: timedelta
    participation: dict[str, str]


def analyze_people(
    bundle: EvidenceBundle,
    context: IncidentContext,
    *,
    history: Mapping[str, int] | None = None,
    repeat_threshold: int = 3,
    rest_gap: timedelta = timedelta(hours=8),
) -> PeopleAnalysis:
    """People and coordination facts for one incident.

    `history` maps person keys to the number of *past* incidents they worked on services
    their team does not own; with it, people reaching `repeat_threshold` (this incident
    included) are listed as repeat helpers. `rest_gap` separates runs of consecutive pages.
    """
    walk = _Walk()
    _walk_messages(bundle, context, walk)
    _walk_pages(bundle, context, walk)
    _walk_roles(context, walk)
    memberships: dict[str, list[tuple[str, date | None, date | None]]] = defaultdict(list)
    for membership in bundle.memberships:
        memberships[membership.person_key].append(
            (membership.team, membership.start, membership.end)
        )
    total = sum(t.messages for t in walk.traces.values())
    shared = _Shared(
        _Schedules(bundle.shifts),
        _PageHistory.build(bundle.pages, context),
        memberships,
        total,
        rest_gap,
        _participation_explanations(total),
    )
    people = [
        _person_facts(key, trace, bundle, context, shared)
        for key, trace in walk.traces.items()
        if key not in walk.bots
    ]
    far_future = datetime.max.replace(tzinfo=UTC)
    people.sort(key=lambda p: (p.first_seen or far_future, p.person_key))
    rollup = _rollup(people, walk, context, history, repeat_threshold)
    return PeopleAnalysis(people=people, rollup=rollup)


def first_involvements(bundle: EvidenceBundle, context: IncidentContext) -> dict[str, datetime]:
    """Each person's first involvement in the incident (`involvement.first_involved`), from
    the same walk of the evidence as `analyze_people` (bots left out), without the rest of
    the analysis: the on-call load page dates involvements with this."""
    walk = _Walk()
    _walk_messages(bundle, context, walk)
    _walk_pages(bundle, context, walk)
    _walk_roles(context, walk)
    found = {key: first_involved(trace.signals()) for key, trace in walk.traces.items()}
    return {key: at for key, at in found.items() if at is not None and key not in walk.bots}


def _time_zone_spread(people: list[PersonFacts], at: datetime) -> TimeZoneSpread:
    known = {p.time_zone: zone_or_none(p.time_zone) for p in people}
    zones = {name: zone for name, zone in known.items() if name and zone is not None}
    unknown = sum(1 for p in people if known[p.time_zone] is None)
    offsets = [at.astimezone(zone).utcoffset() or timedelta(0) for zone in zones.values()]
    hours = [offset.total_seconds() / 3600 for offset in offsets]
    spread = max(hours) - min(hours) if hours else None
    return TimeZoneSpread(tuple(sorted(zones)), spread, unknown)


def _repeat_helpers(
    people: list[PersonFacts], history: Mapping[str, int] | None, threshold: int
) -> tuple[RepeatHelper, ...] | None:
    if history is None:
        return None
    helpers = []
    for person in people:
        this_one = 1 if person.team_fit in ("other_team", "former_member") else 0
        count = history.get(person.person_key, 0) + this_one
        if count >= threshold:
            helpers.append(RepeatHelper(person.person_key, count))
    helpers.sort(key=lambda h: (-h.incidents, h.person_key))
    return tuple(helpers)


def _rollup(
    people: list[PersonFacts],
    walk: _Walk,
    context: IncidentContext,
    history: Mapping[str, int] | None,
    threshold: int,
) -> Rollup:
    off_call = tuple(p.person_key for p in people if p.on_call_at_arrival is False)
    spread = _time_zone_spread(people, context.started)
    teams = tuple(sorted({team for p in people for team in p.teams}))
    return Rollup(
        people_count=len(people),
        responders_count=sum(1 for p in people if p.messages > 0),
        observers_count=sum(1 for p in people if p.is_observer),
        pulled_in_off_call_count=len(off_call),
        pulled_in_off_call_keys=off_call,
        on_call_unknown_count=sum(1 for p in people if p.on_call_at_arrival is None),
        teams_involved=teams,
        time_zone_spread=spread,
        bots_count=len(walk.bots),
        bot_messages=walk.bot_messages,
        unattributed_messages=walk.unattributed,
        hidden_messages=walk.hidden,
        total_messages=sum(p.messages for p in people),
        total_words=sum(p.words for p in people),
        repeat_helpers=_repeat_helpers(people, history, threshold),
        repeat_threshold=threshold,
        explanations=_rollup_explanations(spread, history is not None, threshold),
    )


def _rollup_explanations(
    spread: TimeZoneSpread, has_history: bool, threshold: int
) -> dict[str, str]:
    repeat = (
        f"people whose past incidents on services their team does not own, plus this one, reach "
        f"{threshold}; a knowledge-silo signal, never a performance score"
        if has_history
        else "unknown: no incident history was supplied"
    )
    return {
        "people_count": "people (not bots) seen in any source: chat, reactions, pages, roles",
        "responders_count": "people who wrote at least one message",
        "observers_count": "people present who wrote nothing and added no reaction",
        "pulled_in_off_call_count": "people whose first involvement fell outside any shift of "
        "theirs in the imported schedules covering that moment",
        "on_call_unknown_count": "people for whom no imported schedule covers the moment they "
        "were first involved",
        "teams_involved": "distinct teams the people belonged to when first involved",
        "time_zone_spread": f"distinct known time zones; largest difference in UTC offsets at "
        f"impact start; {spread.unknown_count} people without a known time zone",
        "bots_count": "distinct bot identities (bot posts, bot roster entries); not people",
        "unattributed_messages": "messages without a known author, left out of every share",
        "hidden_messages": "hidden or deleted messages, not counted as participation",
        "repeat_helpers": repeat,
    }


def _jsonable(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def analysis_to_json(analysis: PeopleAnalysis) -> dict[str, object]:
    """The analysis as JSON-ready data: ISO 8601 datetimes, lists instead of tuples."""
    data = _jsonable(asdict(analysis))
    assert isinstance(data, dict)
    return data
