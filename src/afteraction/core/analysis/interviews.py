"""Interview planning: whom to talk to, and first questions drawn from their own actions.

`suggest_interviewees` ranks the people of a `PeopleAnalysis` by plain-language reasons taken
from method.md section 1 step 4: key players, role holders, people who helped while not on
call, newcomers, former owners, people who may feel blamed (their change is mentioned near
the start of impact), owners of the affected services, and silent observers of key moments.
`draft_questions` drafts critical-decision-method questions quoting the person's own
messages ("At 02:14 you wrote '...'. What were you looking at then?"). Questions ask what
and how, never "why did you".

`interviews_held` is what reports, their exports and the calibration document may say of
the interviews held: how many, with which incident roles, and the names of only those
interviewees whose consent is recorded.

Pure functions over the analysis and the evidence; nothing here stores, sends or schedules
interviews, and nothing here judges people.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from afteraction.core.analysis.people import (
    EVENT_SUBTYPES,
    IncidentContext,
    PeopleAnalysis,
    PersonFacts,
    page_in_incident,
)
from afteraction.core.analysis.suggestions import (
    KEYWORD_RULES,
    SuggestedEvent,
    clock,
    render_chat_text,
    shorten,
    suggest_timeline,
)
from afteraction.core.errors import NotFound
from afteraction.core.evidence import JOIN_SUBTYPES, EvidenceBundle, MessageRecord
from afteraction.core.times import zone_or_none

KEY_PLAYER_SHARE = 0.15
"""A key player wrote at least this share of the people's messages..."""
KEY_PLAYER_TOP = 3
KEY_PLAYER_MIN = 3
"""...or is among the top three writers with at least three messages."""
TRIGGER_BEFORE = timedelta(hours=2)
TRIGGER_AFTER = timedelta(minutes=30)
KEY_MOMENT_KINDS = frozenset({"mitigation", "rollback", "severity_change", "status_change"})
FORBIDDEN_OPENING = re.compile(r"\bwhy did you\b", re.IGNORECASE)

_RULES = {rule.kind: rule for rule in KEYWORD_RULES}
_CHANGE_KINDS = ("deploy", "change", "rollback")
_ACTION_KINDS = ("rollback", "mitigation", "deploy", "change")
_FIRST_PERSON_CHANGE = re.compile(
    r"\b(?:I|I've|I'd|I'm)\b[^.?!\n]{0,20}\b(?:deploy|merg|push|ship|chang|releas|roll)\w*"
    r"|\bmy (?:PR|change|deploy|commit|merge|release|config)\b",
    re.IGNORECASE,
)
_HYPOTHESIS = re.compile(
    r"\b(?:I think|I suspect|looks like|seems|might be|could be|maybe|probably|my guess|"
    r"I wonder|not sure)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class InterviewReason:
    code: str
    explanation: str
    weight: int


@dataclass(slots=True)
class InterviewSuggestion:
    person_key: str
    name: str
    priority: int
    reasons: list[InterviewReason] = field(default_factory=list)


def _time(at: datetime, zone: ZoneInfo | None) -> str:
    return clock(at, zone)


def _key_player(person: PersonFacts, ranks: dict[str, int]) -> InterviewReason | None:
    rank = ranks.get(person.person_key)
    top = rank is not None and rank <= KEY_PLAYER_TOP and person.messages >= KEY_PLAYER_MIN
    if rank is None or not (top or person.message_share >= KEY_PLAYER_SHARE):
        return None
    return InterviewReason(
        "key_player",
        f"wrote {person.messages} messages ({person.message_share:.0%} of all), "
        f"number {rank} by messages",
        3,
    )


def _roles(person: PersonFacts) -> InterviewReason | None:
    if not person.roles:
        return None
    names = ", ".join(sorted({r.role for r in person.roles}))
    weight = 3 if any(r.role == "commander" for r in person.roles) else 2
    return InterviewReason("role_holder", f"held the role(s): {names}", weight)


def _off_call(person: PersonFacts) -> InterviewReason | None:
    if person.on_call_at_arrival is not False:
        return None
    when = f" at {person.local_time_at_arrival}" if person.local_time_at_arrival else ""
    hours = " outside their working hours" if person.off_hours_at_arrival else ""
    return InterviewReason(
        "helped_off_call",
        f"helped while not on call; first involved{when}{hours} ({person.arrival})",
        3,
    )


def _newcomer(person: PersonFacts, newcomer_days: int) -> InterviewReason | None:
    days = person.tenure_days_then
    if days is None or days >= newcomer_days:
        return None
    return InterviewReason(
        "newcomer",
        f"had been here {days} days (under {newcomer_days}); newcomers see what others stopped "
        "noticing",
        2,
    )


def _team(person: PersonFacts, context: IncidentContext) -> InterviewReason | None:
    services = ", ".join(context.affected_services) or "the affected services"
    if person.team_fit == "owning_team":
        return InterviewReason("service_owner", f"member of the team that owns {services}", 1)
    if person.team_fit == "former_member":
        return InterviewReason(
            "former_owner",
            f"left the owning team {person.days_since_left} days before; may know its history",
            2,
        )
    return None


def _change_near_trigger(
    bundle: EvidenceBundle, context: IncidentContext
) -> dict[str, tuple[MessageRecord | None, str]]:
    """People whose change is mentioned near the start of impact, with the evidence."""
    named: tuple[MessageRecord | None, str] = (
        None,
        "named as the author of a change linked to this incident",
    )
    found = dict.fromkeys(context.change_authors, named)
    low, high = context.started - TRIGGER_BEFORE, context.started + TRIGGER_AFTER
    for message in sorted(bundle.messages, key=lambda m: m.at):
        if message.hidden or not low <= message.at <= high:
            continue
        lowered = message.text.lower()
        if not any(_RULES[kind].matches(message.text, lowered) for kind in _CHANGE_KINDS):
            continue
        if message.author_key and _FIRST_PERSON_CHANGE.search(message.text):
            found.setdefault(message.author_key, (message, "wrote about their own change"))
        for key in message.mention_keys:
            if key != message.author_key:
                found.setdefault(key, (message, "was named in a message about a change"))
    return found


def _blame(
    person: PersonFacts,
    changes: dict[str, tuple[MessageRecord | None, str]],
    bundle: EvidenceBundle,
    zone: ZoneInfo | None,
) -> InterviewReason | None:
    hit = changes.get(person.person_key)
    if hit is None:
        return None
    message, how = hit
    where = ""
    if message is not None:
        quote = shorten(render_chat_text(message.text, bundle.people), 80)
        where = f" (at {_time(message.at, zone)}: \u201c{quote}\u201d)"
    return InterviewReason(
        "may_feel_blamed",
        f"{how} near the start of impact{where}; people in this position may feel blamed, "
        "so talk early, privately, and about the work rather than the person",
        3,
    )


def _observer(
    person: PersonFacts, key_moments: list[SuggestedEvent], zone: ZoneInfo | None
) -> InterviewReason | None:
    arrived = person.first_seen
    if not person.is_observer or arrived is None:
        return None
    moment = next((e for e in key_moments if e.at >= arrived), None)
    if moment is None:
        return None
    return InterviewReason(
        "silent_observer",
        f"present but silent when a key moment happened ({moment.kind.replace('_', ' ')} at "
        f"{_time(moment.at, zone)}); observers often saw what nobody wrote down",
        1,
    )


def _first_acknowledger(bundle: EvidenceBundle, context: IncidentContext) -> str | None:
    acks = [
        p
        for p in bundle.pages
        if p.kind == "acknowledge" and p.person_key and page_in_incident(p, context)
    ]
    return min(acks, key=lambda p: p.at).person_key if acks else None


def suggest_interviewees(
    analysis: PeopleAnalysis,
    bundle: EvidenceBundle,
    context: IncidentContext,
    *,
    newcomer_days: int = 180,
) -> list[InterviewSuggestion]:
    """People worth interviewing, highest priority first, each with plain reasons."""
    by_messages = sorted((p for p in analysis.people if p.messages), key=lambda p: -p.messages)
    ranks = {p.person_key: rank for rank, p in enumerate(by_messages, start=1)}
    changes = _change_near_trigger(bundle, context)
    moments = [e for e in suggest_timeline(bundle, context) if e.kind in KEY_MOMENT_KINDS]
    acker = _first_acknowledger(bundle, context)
    zone = zone_or_none(context.time_zone)
    suggestions = []
    for person in analysis.people:
        reasons = [
            reason
            for reason in (
                _key_player(person, ranks),
                _roles(person),
                _off_call(person),
                _newcomer(person, newcomer_days),
                _team(person, context),
                _blame(person, changes, bundle, zone),
                _observer(person, moments, zone),
            )
            if reason is not None
        ]
        if person.person_key == acker:
            reasons.append(InterviewReason("first_acknowledger", "first to acknowledge a page", 2))
        if reasons:
            priority = sum(r.weight for r in reasons)
            suggestions.append(
                InterviewSuggestion(person.person_key, person.name, priority, reasons)
            )
    order = {p.person_key: i for i, p in enumerate(analysis.people)}
    suggestions.sort(key=lambda s: (-s.priority, order[s.person_key]))
    return suggestions


@dataclass(frozen=True, slots=True, order=True)
class _Draft:
    importance: int
    sequence: float
    text: str


def _message_kind(text: str) -> str:
    lowered = text.lower()
    if _HYPOTHESIS.search(text):
        return "hypothesis"
    if any(_RULES[kind].matches(text, lowered) for kind in _ACTION_KINDS):
        return "action"
    if _RULES["stakeholder_update"].matches(text, lowered):
        return "stakeholder"
    if text.rstrip().endswith("?"):
        return "question"
    return "other"


_MESSAGE_TEMPLATES = {
    "hypothesis": (
        4,
        "{at} you wrote \u201c{q}\u201d. What were you looking at then, and how did you know?",
    ),
    "action": (4, "{at} you wrote \u201c{q}\u201d. What options did you consider at that point?"),
    "stakeholder": (
        5,
        "{at} you wrote \u201c{q}\u201d. How did you decide what to tell people "
        "outside the channel?",
    ),
    "question": (6, "{at} you asked \u201c{q}\u201d. What were you hoping to find out?"),
    "other": (6, "{at} you wrote \u201c{q}\u201d. What were you looking at then?"),
}


def _message_drafts(
    messages: Iterable[MessageRecord], bundle: EvidenceBundle, zone: ZoneInfo | None
) -> list[_Draft]:
    drafts: list[_Draft] = []
    for index, message in enumerate(sorted(messages, key=lambda m: m.at)):
        text = render_chat_text(message.text, bundle.people)
        if not text or FORBIDDEN_OPENING.search(text):
            continue
        importance, template = _MESSAGE_TEMPLATES[_message_kind(text)]
        if not drafts:
            importance = 1  # their first quotable message is always worth asking about
        at = f"At {_time(message.at, zone)}"
        drafts.append(_Draft(importance, 10 + index, template.format(at=at, q=shorten(text, 100))))
    return drafts


def _arrival_draft(person: PersonFacts, bundle: EvidenceBundle, zone: ZoneInfo | None) -> str:
    detail = person.arrival_detail
    at = f"At {_time(detail.at, zone)}" if detail.at else "When this started"
    other_key = detail.inviter_key if person.arrival == "invited" else detail.mentioner_key
    other_record = bundle.people.get(other_key) if other_key else None
    other = other_record.name if other_record else other_key or "someone"
    level = f" (escalation level {detail.escalation_level})" if detail.escalation_level else ""
    return {
        "paged": f"{at} you were paged{level}. What were you doing when the page reached you, "
        "and what did you look at first?",
        "invited": f"{at} {other} added you to the channel. What did you know about the "
        "incident at that point, and what did you look at first?",
        "mentioned": f"{at} {other} mentioned you. What did you understand was being asked of you?",
        "self_joined": f"{at} you joined the channel. How did you hear about the incident, "
        "and what did you look at first?",
    }.get(person.arrival, "How did you first hear about this incident, and what did you do first?")


def _context_drafts(person: PersonFacts, newcomer_days: int, zone: ZoneInfo | None) -> list[_Draft]:
    drafts: list[_Draft] = []
    if person.off_hours_at_arrival and person.first_seen is not None:  # judged at first involved
        local = _time(person.first_seen, zone)
        drafts.append(
            _Draft(
                3,
                1,
                f"It was {local} where you were. What was it like to pick this up "
                "at that hour, and what made it hard?",
            )
        )
    if person.on_call_at_arrival is False:
        drafts.append(
            _Draft(
                3,
                2,
                "You were not on call at the time. How did you decide to get involved, "
                "and what did you expect you could add?",
            )
        )
    days = person.tenure_days_then
    if days is not None and days < newcomer_days:
        drafts.append(
            _Draft(
                5,
                3,
                f"You had been here {days} days. What did you already know about these "
                "systems, and where did you look for what you did not?",
            )
        )
    if person.is_observer:
        drafts.append(
            _Draft(
                3,
                50,
                "You were following the channel without writing. What were you "
                "watching, and what did you notice that nobody wrote down?",
            )
        )
    for role in person.roles:
        until = f" to {_time(role.end, zone)}" if role.end else ""
        drafts.append(
            _Draft(
                5,
                60,
                f"You held the {role.role} role from {_time(role.start, zone)}{until}. "
                "What made that role hard to do in this incident?",
            )
        )
    return drafts


def draft_questions(
    person_key: str,
    bundle: EvidenceBundle,
    analysis: PeopleAnalysis,
    *,
    limit: int = 8,
    newcomer_days: int = 180,
) -> list[str]:
    """Up to `limit` cognitive-interview questions built from the person's own actions.

    Times are shown in the person's own time zone when known, else in UTC. The most
    important questions are kept (arrival, first message, closing), then shown in the order
    of the incident. Raises NotFound when the person is not in the analysis.
    """
    person = analysis.person(person_key)
    if person is None:
        raise NotFound("person", person_key)
    zone = zone_or_none(person.time_zone)
    own = [
        m
        for m in bundle.messages
        if m.author_key == person_key
        and not m.hidden
        and not m.is_bot
        and m.subtype not in JOIN_SUBTYPES
        and m.subtype not in EVENT_SUBTYPES
    ]
    drafts = [_Draft(0, 0, _arrival_draft(person, bundle, zone))]
    drafts += _context_drafts(person, newcomer_days, zone)
    drafts += _message_drafts(own, bundle, zone)
    drafts.append(
        _Draft(
            2,
            99,
            "Looking back over the whole incident, what made it hard to handle from "
            "where you were?",
        )
    )
    kept = sorted(d for d in drafts if not FORBIDDEN_OPENING.search(d.text))[: max(limit, 0)]
    return [d.text for d in sorted(kept, key=lambda d: d.sequence)]


NO_ROLE = "no incident role"


@dataclass(frozen=True, slots=True)
class HeldInterview:
    """One held interview as a report may know it: who, their roles on the incident, and
    whether they consented (recorded on the interview)."""

    name: str
    roles: tuple[str, ...]
    consent: bool


def interviews_held(held: Sequence[HeldInterview]) -> tuple[str, ...]:
    """The lines a report or calibration document shows for the interviews held, e.g.
    ("3 interviews held (roles: commander, responder)", "Named with their consent: Ana
    Ortiz"). An interviewee without recorded consent is never named; none held, no lines."""
    if not held:
        return ()
    roles = sorted({role for h in held for role in (h.roles or (NO_ROLE,))})
    count = f"{len(held)} interview{'' if len(held) == 1 else 's'} held"
    lines = [f"{count} (roles: {', '.join(roles)})"]
    named = list(dict.fromkeys(h.name for h in held if h.consent))
    if named:
        lines.append(f"Named with their consent: {', '.join(named)}")
    return tuple(lines)
