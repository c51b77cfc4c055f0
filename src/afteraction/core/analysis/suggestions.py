"""Suggested timeline events for the investigator to accept or dismiss.

`suggest_timeline(bundle, context)` proposes key moments from the evidence: the first alert,
page and acknowledgement, the first human message, each person's arrival, severity and status
changes, mitigation and rollback language, deploys and changes mentioned, stakeholder
updates and long silences. Each suggestion cites its evidence and has a stable `key` (built
from the evidence ids, never from list positions) so a dismissal sticks across re-runs.
One message is one suggestion: when several rules fire on the same message, they become one
suggestion of the highest-ranked kind whose text names them all, and whose `aliases` are the
keys the other rules would have had (so a decision taken on any of them still sticks).
People are named, never shown by their raw ids: someone without a directory entry is
"someone unknown", a bot without one "a bot".

The keyword rules are data (`KEYWORD_RULES`), each with a plain description the UI shows.
Also here: `render_chat_text` and `shorten`, which turn Slack markup into short, readable
quotes. Pure functions only; no storage, no I/O, no third-party imports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from afteraction.core.analysis.people import (
    EVENT_SUBTYPES,
    IncidentContext,
    PersonFacts,
    analyze_people,
    page_in_incident,
)
from afteraction.core.evidence import (
    JOIN_SUBTYPES,
    EvidenceBundle,
    MessageRecord,
    PersonRecord,
)
from afteraction.core.times import zone_or_none

Evidence = tuple[str, ...]
"""("message", channel, ts) or ("page", external_id) or ("person", person_key)."""


@dataclass(frozen=True, slots=True)
class SuggestedEvent:
    key: str
    at: datetime
    kind: str
    text: str
    evidence: tuple[Evidence, ...]
    person_key: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key this suggestion answers to: its own and its aliases."""
        return (self.key, *self.aliases)


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """A keyword rule; `hints` are lowercase fragments one of which every match contains,
    checked first so the pattern only runs on messages that could match."""

    kind: str
    pattern: re.Pattern[str]
    description: str
    hints: tuple[str, ...]

    def matches(self, text: str, lowered: str) -> bool:
        return any(h in lowered for h in self.hints) and self.pattern.search(text) is not None


def _rule(kind: str, pattern: str, description: str, hints: tuple[str, ...]) -> KeywordRule:
    return KeywordRule(kind, re.compile(pattern, re.IGNORECASE), description, hints)


_GAP = r"[^.?!\n]{0,40}"
KEYWORD_RULES: tuple[KeywordRule, ...] = (
    _rule(
        "severity_change",
        rf"\b(?:upgrad|downgrad|escalat|rais|bump|lower|declar|mov|chang|set|mak)\w*\b{_GAP}"
        r"\b(?:sev|severity)[ -]?(?:level )?[0-5]\b"
        r"|\b(?:sev|severity)[ -]?[0-5]\b[^.?!\n]{0,20}\b(?:declared|now)\b",
        "a severity label (SEV1, sev-2, severity 3) next to a change verb such as upgrading, "
        "downgrading, escalating, declaring, or followed by 'declared' / 'now'",
        ("sev",),
    ),
    _rule(
        "status_change",
        r"\bstatus\b[^.?!\n]{0,15}\b(?:investigating|identified|monitoring|mitigated|resolved)\b"
        r"|\b(?:marking|marked|moving|moved)\b[^.?!\n]{0,20}\b(?:resolved|mitigated|monitoring)\b"
        r"|\ball clear\b",
        "a status word (investigating, identified, monitoring, mitigated, resolved) after "
        "'status' or 'marking/moving to', or 'all clear'; channel topic changes too",
        ("status", "mark", "mov", "all clear"),
    ),
    _rule(
        "rollback",
        r"\b(?:roll(?:ed|ing)?[ -]?backs?|revert(?:ed|ing|s)?|undo(?:ing)? the "
        r"(?:deploy|change|release))\b",
        "rollback, roll back, revert, undoing the deploy/change/release",
        ("roll", "revert", "undo"),
    ),
    _rule(
        "mitigation",
        r"\b(?:mitigat\w*|fail(?:ed|ing)?[ -]?overs?|hot-?fix\w*|restart(?:ed|ing|s)?|"
        r"reboot(?:ed|ing)?|drain(?:ed|ing)?|scal(?:ed|ing) (?:up|out)|feature flag|"
        r"rate[- ]limit\w*|shed(?:ding)? load|block(?:ed|ing)? (?:the )?traffic)\b",
        "mitigate, failover, hotfix, restart, reboot, drain, scaling up/out, feature flag, "
        "rate limit, shedding load, blocking traffic",
        (
            "mitigat",
            "fail",
            "fix",
            "restart",
            "reboot",
            "drain",
            "scal",
            "flag",
            "rate",
            "shed",
            "block",
        ),
    ),
    _rule(
        "deploy",
        r"\b(?:deploy(?:ed|ing|ment|ments|s)?|releas(?:e|ed|es|ing)|rolled out|rolling out)\b",
        "deploy, deployment, release, rolled/rolling out",
        ("deploy", "releas", "rolled out", "rolling out"),
    ),
    _rule(
        "change",
        r"github\.com/[\w.-]+/[\w.-]+/pull/\d+|\b(?:PR|MR)\s?#?\d+\b|\bpull request\b"
        r"|\bmerge request\b|\bcommit [0-9a-f]{7,40}\b",
        "a GitHub pull request link, 'PR #123', 'MR 12', 'pull request', 'commit <sha>'",
        ("pull", "pr", "mr", "merge", "commit"),
    ),
    _rule(
        "stakeholder_update",
        r"\b(?:status ?page|customers?|stakeholders?|support team|support tickets?|"
        r"public update|comms update|posted an? update|incident update)\b",
        "status page, customers, stakeholders, support team/tickets, public/comms update",
        ("status", "customer", "stakeholder", "support", "update"),
    ),
)

KIND_ORDER: tuple[str, ...] = (
    "first_alert",
    "first_page",
    "first_acknowledgement",
    "person_joined",
    "first_human_message",
    *(rule.kind for rule in KEYWORD_RULES),
    "silence",
)
_KIND_RANK = {kind: rank for rank, kind in enumerate(KIND_ORDER)}

_CODE_BLOCK = re.compile(r"```.*?```", re.DOTALL)
_USER_REF = re.compile(r"<@([A-Z0-9_.:-]+)(?:\|([^>]*))?>", re.IGNORECASE)
_CHANNEL_REF = re.compile(r"<#[A-Z0-9]+\|([^>]*)>", re.IGNORECASE)
_SPECIAL_REF = re.compile(r"<!(\w+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_SPACE = re.compile(r"\s+")


def render_chat_text(text: str, people: Mapping[str, PersonRecord]) -> str:
    """Slack markup made readable: mentions become @Name, links their label, code '[code]'."""

    def user(match: re.Match[str]) -> str:
        ident, label = match.group(1), match.group(2)
        record = people.get(ident) or people.get(f"slack:{ident}")
        return "@" + (record.name if record else label or "someone")

    text = _CODE_BLOCK.sub(" [code] ", text)
    text = _USER_REF.sub(user, text)
    text = _CHANNEL_REF.sub(lambda m: "#" + m.group(1), text)
    text = _SPECIAL_REF.sub(lambda m: "@" + m.group(1), text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return _SPACE.sub(" ", text).strip()


def shorten(text: str, limit: int = 100) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 1)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def _display_zone(context: IncidentContext) -> ZoneInfo | None:
    return zone_or_none(context.time_zone)


def clock(at: datetime, zone: ZoneInfo | None) -> str:
    """'02:14 UTC' or '03:14 CET' in the given zone (UTC when None)."""
    local = at.astimezone(zone or UTC)
    return f"{local:%H:%M} {local.tzname()}"


def _name(key: str | None, people: Mapping[str, PersonRecord]) -> str:
    """A person's name; never a raw id such as `slack:U0…` or `slack:B0…`."""
    record = people.get(key) if key is not None else None
    if record is not None:
        return record.name
    if key is not None and key.split(":", 1)[-1].startswith("B"):
        return "a bot"
    return "someone unknown"


def _message_ref(message: MessageRecord) -> Evidence:
    return ("message", message.channel, message.ts)


def _is_human(message: MessageRecord, people: Mapping[str, PersonRecord]) -> bool:
    if message.is_bot or message.author_key is None:
        return False
    record = people.get(message.author_key)
    return not (record is not None and record.is_bot)


def _is_text(message: MessageRecord) -> bool:
    return message.subtype not in JOIN_SUBTYPES and message.subtype not in EVENT_SUBTYPES


def _window_messages(bundle: EvidenceBundle, context: IncidentContext) -> list[MessageRecord]:
    chosen = [m for m in bundle.messages if not m.hidden and context.start <= m.at <= context.end]
    chosen.sort(key=lambda m: (m.at, m.channel, m.ts))
    return chosen


def _page_events(bundle: EvidenceBundle, context: IncidentContext) -> list[SuggestedEvent]:
    firsts = {
        "trigger": "first_alert",
        "notify": "first_page",
        "acknowledge": "first_acknowledgement",
    }
    found = {}
    for page in sorted(bundle.pages, key=lambda p: (p.at, p.external_id)):
        kind = firsts.get(page.kind)
        if kind is None or kind in found or not page_in_incident(page, context):
            continue
        found[kind] = page
    events = []
    for kind, page in found.items():
        who = f" ({_name(page.person_key, bundle.people)})" if page.person_key else ""
        label = kind.replace("_", " ").capitalize()
        summary = f": {shorten(page.summary, 80)}" if page.summary else ""
        events.append(
            SuggestedEvent(
                key=f"{kind}:page:{page.external_id}",
                at=page.at,
                kind=kind,
                text=f"{label}{who}{summary}",
                evidence=(("page", page.external_id),),
                person_key=page.person_key,
            )
        )
    return events


_ARRIVAL_TEXT = {
    "paged": "{name} was paged",
    "invited": "{name} was added to the channel by {other}",
    "mentioned": "{name} was mentioned by {other}",
    "self_joined": "{name} joined the channel",
    "unknown": "{name} first appeared",
}


def _arrival_event(person: PersonFacts, people: Mapping[str, PersonRecord]) -> SuggestedEvent:
    detail = person.arrival_detail
    other = detail.inviter_key if person.arrival == "invited" else detail.mentioner_key
    text = _ARRIVAL_TEXT[person.arrival].format(name=person.name, other=_name(other, people))
    if person.arrival == "paged" and detail.escalation_level is not None:
        text += f" (escalation level {detail.escalation_level})"
    evidence = (detail.evidence,) if detail.evidence else (("person", person.person_key),)
    at = detail.at or person.first_seen
    assert at is not None
    return SuggestedEvent(
        f"person_joined:{person.person_key}",
        at,
        "person_joined",
        text,
        evidence,
        person.person_key,
    )


def _keyword_events(
    message: MessageRecord, people: Mapping[str, PersonRecord]
) -> list[SuggestedEvent]:
    if message.subtype in ("channel_topic", "group_topic"):
        kinds = ["status_change"]
    elif not _is_text(message):
        return []
    else:
        lowered = message.text.lower()
        kinds = [rule.kind for rule in KEYWORD_RULES if rule.matches(message.text, lowered)]
    quote = shorten(render_chat_text(message.text, people), 120)
    who = (
        "a bot"
        if message.is_bot and message.author_key is None
        else _name(message.author_key, people)
    )
    if not kinds:
        return []
    kinds.sort(key=_KIND_RANK.__getitem__)
    keys = [f"{kind}:message:{message.channel}:{message.ts}" for kind in kinds]
    label = ", ".join(kind.replace("_", " ") for kind in kinds).capitalize()
    return [
        SuggestedEvent(
            key=keys[0],
            at=message.at,
            kind=kinds[0],
            text=f"{label}: {who} wrote \u201c{quote}\u201d",
            evidence=(_message_ref(message),),
            person_key=message.author_key,
            aliases=tuple(keys[1:]),
        )
    ]


def _silences(
    human: list[MessageRecord], threshold: timedelta, zone: ZoneInfo | None
) -> list[SuggestedEvent]:
    events = []
    for before, after in zip(human, human[1:], strict=False):
        gap = after.at - before.at
        if gap < threshold:
            continue
        minutes = int(gap.total_seconds() // 60)
        events.append(
            SuggestedEvent(
                key=f"silence:message:{before.channel}:{before.ts}",
                at=before.at,
                kind="silence",
                text=f"No one wrote for {minutes} min ({clock(before.at, zone)} to "
                f"{clock(after.at, zone)})",
                evidence=(_message_ref(before), _message_ref(after)),
            )
        )
    return events


def suggest_timeline(
    bundle: EvidenceBundle,
    context: IncidentContext,
    *,
    silence_threshold: timedelta = timedelta(minutes=15),
) -> list[SuggestedEvent]:
    """Suggested key moments, oldest first, for the investigator to accept or dismiss."""
    messages = _window_messages(bundle, context)
    human = [m for m in messages if _is_human(m, bundle.people) and _is_text(m)]
    events = _page_events(bundle, context)
    if human:
        first = human[0]
        quote = shorten(render_chat_text(first.text, bundle.people), 120)
        events.append(
            SuggestedEvent(
                f"first_human_message:message:{first.channel}:{first.ts}",
                first.at,
                "first_human_message",
                f"First message from a person: {_name(first.author_key, bundle.people)} "
                f"wrote \u201c{quote}\u201d",
                (_message_ref(first),),
                first.author_key,
            )
        )
    analysis = analyze_people(bundle, context)
    events += [_arrival_event(p, bundle.people) for p in analysis.people if p.first_seen]
    for message in messages:
        events += _keyword_events(message, bundle.people)
    events += _silences(human, silence_threshold, _display_zone(context))
    return _one_per_message(events)


def _one_per_message(events: list[SuggestedEvent]) -> list[SuggestedEvent]:
    """Events citing the same single message become one: the highest-ranked kind keeps its
    key and text, the others' keys become its aliases. Oldest first."""
    ranked = sorted(events, key=lambda e: (e.at, _KIND_RANK[e.kind], e.key))
    kept: dict[object, SuggestedEvent] = {}
    for event in ranked:
        cited = event.evidence[0] if len(event.evidence) == 1 else event.key
        if isinstance(cited, tuple) and cited[0] != "message":
            cited = event.key
        first = kept.get(cited)
        if first is None:
            kept[cited] = event
        elif event.key not in first.keys:
            also = ", ".join(key.split(":", 1)[0].replace("_", " ") for key in event.keys)
            kept[cited] = replace(
                first, text=f"{first.text} (also: {also})", aliases=(*first.aliases, *event.keys)
            )
    return sorted(kept.values(), key=lambda e: (e.at, _KIND_RANK[e.kind], e.key))
