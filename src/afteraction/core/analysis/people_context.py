"""What the people analysis knows about the incident and about each person's situation:
`IncidentContext` (the evidence window, owning teams, roles, which PagerDuty incidents are
this one), on-call schedules at a moment, off hours in a person's own zone, pages in other
incidents before impact (fatigue), team fit and tenure on a date.

Pure functions over `afteraction.core.evidence` records, used by `people.py` (which
re-exports the public names); every answer says how it was reached, or "unknown".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from afteraction.core.analysis.involvement import pages_from_log
from afteraction.core.errors import ValidationError
from afteraction.core.evidence import PageRecord, PersonRecord, ShiftRecord
from afteraction.core.times import zone_or_none

WORK_DAY_START_HOUR = 8
WORK_DAY_END_HOUR = 20


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
            require_aware(getattr(self, name), name)
        if self.end < self.start:
            raise ValidationError("the incident window ends before it starts", field="end")
        roles = tuple(RoleAssignment(*role) for role in self.roles)
        for role in roles:
            require_aware(role.start, "roles")
            if role.end is not None:
                require_aware(role.end, "roles")
        object.__setattr__(self, "roles", roles)


def require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{name} must be a timezone-aware datetime", field=name)


def page_in_incident(page: PageRecord, context: IncidentContext) -> bool:
    """True when the page belongs to this incident (by PagerDuty id, else by the window)."""
    if context.page_incident_ids:
        return page.incident_external_id in context.page_incident_ids
    return context.start <= page.at <= context.end


class Schedules:
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


def off_hours_at(
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
class PageHistory:
    """Each person's pages (`involvement.pages_from_log`) in other PagerDuty incidents
    before impact started, for fatigue counts."""

    by_person: dict[str, list[datetime]]

    @classmethod
    def build(cls, pages: Iterable[PageRecord], context: IncidentContext) -> PageHistory:
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


def team_fit_on(
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


def tenure_on(record: PersonRecord | None, on: date) -> tuple[int | None, str]:
    if record is None or record.start_date is None:
        return None, "unknown: no start date on record"
    days = (on - record.start_date).days
    if days < 0:
        return None, f"unknown: the roster start date {record.start_date} is after {on}"
    return days, f"{days} days from their start date {record.start_date} to {on}"
