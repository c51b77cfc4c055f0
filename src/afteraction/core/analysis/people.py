"""People and coordination analysis for one incident (method.md section 4).

`analyze_people(bundle, context)` turns an `EvidenceBundle` into one `PersonFacts` per
person who appears in any source (chat, pages, reactions, roles, the call's transcript)
plus a `Rollup`: how each
person arrived, whether they were on call and in their off hours, recent pages, team fit,
tenure, participation and roles. Every number carries a plain-words explanation in
`explanations`, and anything the evidence cannot tell is reported as unknown (None or
"unknown"), never guessed. Results are plain dataclasses (`dataclasses.asdict` friendly,
timezone-aware datetimes); `analysis_to_json` renders them for the API.

What counts as a page and when a person was first involved are `involvement.py`'s
definitions, shared with the on-call load page and the report's facts: on call and off
hours are judged at the moment of first involvement (`first_seen`).

The incident context and each person's situation (schedules, off hours, fatigue, team fit,
tenure) are in `people_context.py`, the roll-up in `people_rollup.py`; their public names
are re-exported here. Pure functions over `afteraction.core.evidence` records only: no
I/O, no storage, no third-party imports, and no identity matching (importers merge
identities, we never do).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

from afteraction.core.analysis.involvement import (
    NOTIFY_KIND,
    Signals,
    first_involved,
    pages_from_log,
)
from afteraction.core.analysis.people_context import (
    WORK_DAY_END_HOUR,
    WORK_DAY_START_HOUR,
    IncidentContext,
    PageHistory,
    RoleAssignment,
    Schedules,
    local_time,
    off_hours_at,
    page_in_incident,
    require_aware,
    team_fit_on,
    tenure_on,
)
from afteraction.core.analysis.people_rollup import (
    RepeatHelper,
    Rollup,
    TimeZoneSpread,
    rollup_of,
)
from afteraction.core.evidence import (
    JOIN_SUBTYPES,
    LEAVE_SUBTYPES,
    EvidenceBundle,
    MessageRecord,
    PageRecord,
    PersonRecord,
)

ARRIVAL_KINDS: tuple[str, ...] = ("paged", "invited", "mentioned", "self_joined", "unknown")
TEAM_FITS: tuple[str, ...] = ("owning_team", "former_member", "other_team", "unknown")
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
    spoke_in_call: int = 0
    """Cues of theirs in the incident's call transcripts, inside the window."""
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
    spoke_at: datetime | None = None
    cues: int = 0

    def signals(self) -> Signals:
        return Signals(
            self.page_at, self.join_at, self.mention_at, self.first_msg, self.other_at,
            self.spoke_at,
        )  # fmt: skip


@dataclass(slots=True)
class _Walk:
    traces: dict[str, _Trace] = field(default_factory=lambda: defaultdict(_Trace))
    bots: set[str] = field(default_factory=set)
    bot_messages: int = 0
    unattributed: int = 0
    hidden: int = 0
    notifications: list[PageRecord] = field(default_factory=list)


def _earlier(current: datetime | None, candidate: datetime) -> bool:
    return current is None or candidate < current


def _min_time(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


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


def _walk_cues(bundle: EvidenceBundle, context: IncidentContext, walk: _Walk) -> None:
    """What people said in the incident's call, inside the window: each cue is an
    involvement of its speaker, as a message is of its author."""
    for cue in bundle.cues:
        key, at = cue.speaker_key, cue.at
        if key is None or at is None or not context.start <= at <= context.end:
            continue
        trace = walk.traces[key]
        trace.cues += 1
        if _earlier(trace.spoke_at, at):
            trace.spoke_at = at


def _touch(trace: _Trace, at: datetime) -> None:
    if _earlier(trace.other_at, at):
        trace.other_at = at


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
        found = _min_time(trace.first_msg, trace.other_at, trace.mention_at, trace.spoke_at)
        return "unknown", found, ()
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


def _participation_explanations(total: int) -> dict[str, str]:
    return {
        "messages": (
            "chat messages they wrote inside the incident window; joins, leaves, topic "
            "changes, bot posts and hidden or deleted messages are not counted"
        ),
        "words": "whitespace-separated words in those messages",
        "message_share": f"their messages divided by the {total} messages written by people",
        "reactions_given": "emoji reactions they added to messages in the window",
        "is_observer": "present (paged, joined, mentioned or holding a role) but wrote nothing, "
        "added no reaction and did not speak in the call",
        "reactions_only": "added reactions but wrote no message and did not speak in the call",
        "spoke_in_call": "cues of theirs in the incident's call transcripts inside the window "
        "(the recording's start time places them)",
        "title_then": "title from the current roster; title history is not imported",
        "first_seen": "first involved: the earliest of a page, a channel join or invitation, "
        "an @-mention, a message, speaking in the call, a role or another action of theirs; "
        "on call and off hours are judged at this moment",
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
    off, local, off_why = off_hours_at(record, first)
    day, week, run = shared.history.counts(key, context.started, trace.page_at, shared.rest_gap)
    fit, teams, left, fit_why = team_fit_on(
        shared.memberships.get(key, []), context.owning_teams, moment.date()
    )
    tenure, tenure_why = tenure_on(record, moment.date())
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
        is_observer=trace.messages == 0 and trace.reactions == 0 and trace.cues == 0,
        reactions_only=trace.messages == 0 and trace.reactions > 0 and trace.cues == 0,
        roles=roles,
        spoke_in_call=trace.cues,
        explanations=explanations,
    )


@dataclass(slots=True)
class _Shared:
    schedules: Schedules
    history: PageHistory
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
    _walk_cues(bundle, context, walk)
    _walk_pages(bundle, context, walk)
    _walk_roles(context, walk)
    memberships: dict[str, list[tuple[str, date | None, date | None]]] = defaultdict(list)
    for membership in bundle.memberships:
        memberships[membership.person_key].append(
            (membership.team, membership.start, membership.end)
        )
    total = sum(t.messages for t in walk.traces.values())
    shared = _Shared(
        Schedules(bundle.shifts),
        PageHistory.build(bundle.pages, context),
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
    rollup = rollup_of(people, walk, context, history, repeat_threshold)
    return PeopleAnalysis(people=people, rollup=rollup)


def first_involvements(bundle: EvidenceBundle, context: IncidentContext) -> dict[str, datetime]:
    """Each person's first involvement in the incident (`involvement.first_involved`), from
    the same walk of the evidence as `analyze_people` (bots left out), without the rest of
    the analysis: the on-call load page dates involvements with this."""
    walk = _Walk()
    _walk_messages(bundle, context, walk)
    _walk_cues(bundle, context, walk)
    _walk_pages(bundle, context, walk)
    _walk_roles(context, walk)
    found = {key: first_involved(trace.signals()) for key, trace in walk.traces.items()}
    return {key: at for key, at in found.items() if at is not None and key not in walk.bots}


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


__all__ = [
    "ARRIVAL_KINDS",
    "EVENT_SUBTYPES",
    "TEAM_FITS",
    "WORK_DAY_END_HOUR",
    "WORK_DAY_START_HOUR",
    "ArrivalDetail",
    "IncidentContext",
    "PeopleAnalysis",
    "PersonFacts",
    "RepeatHelper",
    "RoleAssignment",
    "RoleHeld",
    "Rollup",
    "TimeZoneSpread",
    "analysis_to_json",
    "analyze_people",
    "first_involvements",
    "local_time",
    "page_in_incident",
    "require_aware",
]
