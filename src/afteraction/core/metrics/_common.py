"""Private helpers shared by the metrics modules: time zones, calendar buckets, type filter.

Nothing public lives here (callers import from `afteraction.core.metrics`), and nothing here
computes a metric: only the small rules every metric applies the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta, tzinfo

from afteraction.core.errors import ValidationError
from afteraction.core.evidence import MembershipRecord
from afteraction.core.incidents import EXCLUDED_FROM_METRICS, require_aware
from afteraction.core.times import zone_or_none

NO_GROUP = "(none)"
"""Group key for incidents that name no service or no team."""


def require_zone(value: str | tzinfo) -> tzinfo:
    """A tzinfo for report bucketing; an unknown IANA name is a ValidationError."""
    if isinstance(value, tzinfo):
        return value
    found = zone_or_none(value)
    if found is None:
        raise ValidationError(f"unknown time zone {value!r} (use an IANA name)", field="tz")
    return found


def aware(value: datetime, field_name: str) -> datetime:
    return require_aware(value, field_name=field_name)


def type_included(kind: str, include_types: Collection[str] | None) -> bool:
    """None means every type except gameday and maintenance (the default filter)."""
    if include_types is None:
        return kind not in EXCLUDED_FROM_METRICS
    return kind in include_types


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    if day.month == 12:
        return date(day.year + 1, 1, 1)
    return date(day.year, day.month + 1, 1)


def month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def week_start(day: date) -> date:
    """Monday of the ISO week holding `day`."""
    return day - timedelta(days=day.weekday())


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def teams_on(memberships: Iterable[MembershipRecord], person_key: str, day: date) -> set[str]:
    """Teams `person_key` belonged to on `day` (start inclusive, end exclusive, None open)."""
    return {
        m.team
        for m in memberships
        if m.person_key == person_key
        and (m.start is None or m.start <= day)
        and (m.end is None or day < m.end)
    }
