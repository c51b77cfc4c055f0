"""Plain records of imported evidence, as the analysis sees them.

Importers (in `afteraction.adapters`) parse files and APIs into these frozen dataclasses;
storage persists them; analysis (`afteraction.core.analysis`) reads them. No parsing and
no I/O lives here. Every datetime is timezone-aware (UTC unless the source says otherwise).

People are referred to by `person_key`: a stable string chosen by whoever builds the
records (a Person row id rendered as text, an email, or a source identity such as
"slack:U024BE7LH"). Analysis never guesses identities; matching lives in the importers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class PersonRecord:
    key: str
    name: str
    email: str | None = None
    time_zone: str | None = None
    title: str | None = None
    department: str | None = None
    location: str | None = None
    manager_key: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    """A person's membership of a team from `start` (inclusive) to `end` (exclusive)."""

    person_key: str
    team: str
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class Reaction:
    name: str
    count: int
    user_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One chat message or channel event (join, leave, topic...).

    `ts` is Slack's string id (kept exact); `at` is the same instant as a datetime.
    `subtype` is None for ordinary messages; unknown subtypes are kept as data.
    """

    channel: str
    ts: str
    at: datetime
    author_key: str | None
    text: str = ""
    subtype: str | None = None
    thread_ts: str | None = None
    edited_at: datetime | None = None
    inviter_key: str | None = None
    mention_keys: tuple[str, ...] = ()
    reactions: tuple[Reaction, ...] = ()
    file_links: tuple[str, ...] = ()
    is_bot: bool = False
    hidden: bool = False


JOIN_SUBTYPES = frozenset({"channel_join", "group_join"})
LEAVE_SUBTYPES = frozenset({"channel_leave", "group_leave"})


@dataclass(frozen=True, slots=True)
class PageRecord:
    """A PagerDuty log entry that concerns a person: notified, acknowledged, assigned...

    `kind` is the log entry type without the `_log_entry` suffix: notify, acknowledge,
    assign, escalate, resolve, trigger, annotate. `method` is how they were notified
    (sms, phone, push, email) when known.
    """

    external_id: str
    incident_external_id: str
    kind: str
    at: datetime
    person_key: str | None
    method: str | None = None
    escalation_level: int | None = None
    summary: str = ""


@dataclass(frozen=True, slots=True)
class ShiftRecord:
    """Who was on call for a schedule from `start` (inclusive) to `end` (exclusive)."""

    person_key: str
    schedule: str
    start: datetime
    end: datetime
    escalation_level: int | None = None


@dataclass(frozen=True, slots=True)
class TranscriptCue:
    start_seconds: float
    end_seconds: float
    speaker: str | None
    text: str
    at: datetime | None = None
    speaker_key: str | None = None


@dataclass(frozen=True, slots=True)
class ReferenceRecord:
    kind: str
    url: str
    title: str = ""
    key: str = ""


@dataclass(slots=True)
class EvidenceBundle:
    """Everything known about one incident's evidence, handed to analysis in one piece."""

    people: dict[str, PersonRecord] = field(default_factory=dict)
    memberships: list[MembershipRecord] = field(default_factory=list)
    messages: list[MessageRecord] = field(default_factory=list)
    pages: list[PageRecord] = field(default_factory=list)
    shifts: list[ShiftRecord] = field(default_factory=list)
    cues: list[TranscriptCue] = field(default_factory=list)
    """The incident's call transcripts (not interviews), with times, in time order."""
