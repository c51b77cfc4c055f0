"""Incident vocabulary and lifecycle rules: severities, statuses and their allowed
transitions, incident types, roles and milestones.

Everything here is configuration-shaped data plus pure functions; storage, web and CLI use
these rules instead of re-stating them. Nothing in this module touches a database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from afteraction.core import times
from afteraction.core.errors import InvalidTransition, MilestoneOrderError, ValidationError

MILESTONES: tuple[str, ...] = (
    "started",
    "detected",
    "declared",
    "acknowledged",
    "mitigated",
    "resolved",
    "closed",
)
"""Milestones in the order they normally happen."""

MILESTONE_DEFINITIONS: Mapping[str, str] = {
    "started": "when customer or business impact began (editable; defaults to earliest evidence)",
    "detected": "when the first alert fired or a person first noticed the problem",
    "declared": "when someone declared the incident",
    "acknowledged": "when a responder first acknowledged the page or took ownership",
    "mitigated": "when impact stopped for customers, even if the fix is temporary",
    "resolved": "when the underlying problem was fixed and monitoring confirmed it",
    "closed": "when the incident record was closed; follow-up continues in the review",
}

INCIDENT_TYPES: tuple[str, ...] = ("default", "security", "gameday", "maintenance")
"""Types; gameday and maintenance are excluded from reliability metrics by default."""

EXCLUDED_FROM_METRICS: frozenset[str] = frozenset({"gameday", "maintenance"})

DEFAULT_ROLES: tuple[str, ...] = (
    "commander",
    "communications lead",
    "scribe",
    "investigator",
    "responder",
)

ACTION_ITEM_KINDS: tuple[str, ...] = ("recovery", "prevention", "learning")
ACTION_ITEM_STATUSES: tuple[str, ...] = ("open", "in progress", "done", "wont do")
UNFINISHED_ACTION_ITEMS: tuple[str, ...] = ("open", "in progress")
"""Action item statuses that still need work: the "unfinished" filter, reminders, overdue."""
REFERENCE_KINDS: tuple[str, ...] = (
    "github pr",
    "github issue",
    "github commit",
    "jira",
    "dashboard",
    "doc",
    "other",
)
PROBLEM_STATUSES: tuple[str, ...] = ("open", "known error", "resolved")

PUBLIC_ID_RE = re.compile(r"^INC-(\d{1,9})$")
NUMBER_RE = re.compile(r"^([0-9]{1,9})$")
"""An incident number alone: ASCII digits (`str.isdigit` takes '³', which `int` refuses),
at most nine of them, as in a public id."""


@dataclass(frozen=True, slots=True)
class Severity:
    name: str
    rank: int
    description: str


DEFAULT_SEVERITIES: tuple[Severity, ...] = (
    Severity("SEV1", 1, "Critical: most customers cannot use a core product; all hands."),
    Severity("SEV2", 2, "Major: a core feature is broken or badly degraded for many customers."),
    Severity("SEV3", 3, "Minor: limited impact, a workaround exists, or few customers affected."),
    Severity("SEV4", 4, "Low: no customer impact yet; internal degradation or a near miss."),
)


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """Statuses, their allowed next statuses, and the milestone each status sets."""

    initial: str
    transitions: Mapping[str, tuple[str, ...]]
    sets_milestone: Mapping[str, str] = field(default_factory=dict)
    terminal: frozenset[str] = frozenset()

    @property
    def statuses(self) -> tuple[str, ...]:
        seen: dict[str, None] = {self.initial: None}
        for source, targets in self.transitions.items():
            seen[source] = None
            for target in targets:
                seen[target] = None
        return tuple(seen)

    def allowed_from(self, status: str) -> tuple[str, ...]:
        return self.transitions.get(status, ())

    def check(self, current: str, target: str) -> None:
        """Raise InvalidTransition unless `current` may move to `target`."""
        if target not in self.statuses:
            raise ValidationError(
                f"unknown status {target!r}; known: {', '.join(self.statuses)}", field="status"
            )
        if target == current:
            return
        if target not in self.allowed_from(current):
            raise InvalidTransition(current, target, self.allowed_from(current))


_ACTIVE = ("triage", "investigating", "identified", "monitoring")

DEFAULT_LIFECYCLE = Lifecycle(
    initial="triage",
    transitions={
        "triage": ("investigating", "identified", "monitoring", "resolved", "declined", "merged"),
        "investigating": ("identified", "monitoring", "resolved", "merged"),
        "identified": ("investigating", "monitoring", "resolved", "merged"),
        "monitoring": ("investigating", "identified", "resolved"),
        "resolved": ("closed", "investigating"),
        "closed": ("investigating",),
        "declined": ("triage",),
        "merged": (),
    },
    sets_milestone={
        "investigating": "acknowledged",
        "identified": "acknowledged",
        "monitoring": "mitigated",
        "resolved": "resolved",
        "closed": "closed",
    },
    terminal=frozenset({"closed", "declined", "merged"}),
)
ACTIVE_STATUSES: tuple[str, ...] = _ACTIVE


def severity_by_name(name: str, scale: Iterable[Severity] = DEFAULT_SEVERITIES) -> Severity:
    wanted = name.strip().upper()
    for severity in scale:
        if severity.name.upper() == wanted:
            return severity
    names = ", ".join(s.name for s in scale)
    raise ValidationError(f"unknown severity {name!r}; known: {names}", field="severity")


def check_choice(value: str, choices: Iterable[str], *, field_name: str) -> str:
    """Return `value` if it is one of `choices`, else raise a ValidationError naming the field."""
    options = tuple(choices)
    if value not in options:
        raise ValidationError(
            f"unknown {field_name} {value!r}; known: {', '.join(options)}", field=field_name
        )
    return value


def require_aware(value: datetime, *, field_name: str) -> datetime:
    """Refuse naive datetimes: a timeline without offsets cannot be trusted (the rule and
    its message live in `core.times`)."""
    return times.require_aware(value, field_name)


def milestone_order_problems(milestones: Mapping[str, datetime | None]) -> list[str]:
    """List pairs of milestones that contradict each other, e.g. resolved before started.

    Only the hard ordering is checked: started ≤ every other milestone, detected ≤
    acknowledged, acknowledged/mitigated ≤ resolved ≤ closed. Declared may come before
    detection (a drill) or after acknowledgement (declared late), so it is only checked
    against started and closed.
    """
    pairs = (
        ("started", "detected"),
        ("started", "declared"),
        ("started", "acknowledged"),
        ("started", "mitigated"),
        ("started", "resolved"),
        ("started", "closed"),
        ("detected", "acknowledged"),
        ("detected", "resolved"),
        ("mitigated", "resolved"),
        ("acknowledged", "resolved"),
        ("resolved", "closed"),
        ("declared", "closed"),
    )
    problems = []
    for earlier, later in pairs:
        a, b = milestones.get(earlier), milestones.get(later)
        if a is not None and b is not None and b < a:
            problems.append(f"{later} ({b.isoformat()}) is before {earlier} ({a.isoformat()})")
    return problems


def check_milestones(
    milestones: Mapping[str, datetime | None], *, allow_out_of_order: bool = False
) -> list[str]:
    """Validate milestone values; return the warnings to show when order is overridden."""
    for name, value in milestones.items():
        if name not in MILESTONES:
            raise ValidationError(
                f"unknown milestone {name!r}; known: {', '.join(MILESTONES)}", field=name
            )
        if value is not None:
            require_aware(value, field_name=name)
    problems = milestone_order_problems(milestones)
    if problems and not allow_out_of_order:
        raise MilestoneOrderError(problems)
    return problems


def milestone_for_status(lifecycle: Lifecycle, status: str) -> str | None:
    return lifecycle.sets_milestone.get(status)


def format_public_id(number: int) -> str:
    return f"INC-{number}"


def parse_public_id(value: str) -> int:
    """'INC-42' or '42' → 42; anything else is a ValidationError."""
    text = value.strip().upper()
    match = PUBLIC_ID_RE.match(text) or NUMBER_RE.match(text)
    if not match:
        raise ValidationError(f"{value!r} is not an incident id like INC-42", field="incident")
    return int(match.group(1))


def format_duration(delta: timedelta | None) -> str:
    """Human duration such as '2h 05m' or '3d 4h'; '—' when unknown (never zero)."""
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"


def action_item_overdue(status: str, due: date | None, today: date) -> bool:
    """An action item is overdue when it still needs work and its due date is before today
    (an item due today is not overdue yet)."""
    return due is not None and due < today and status in UNFINISHED_ACTION_ITEMS
