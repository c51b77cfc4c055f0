"""Customer impact: the intervals during which customers were affected, and the impact
duration of an incident (method.md section 2: "sum of customer-impact intervals").

An incident can hurt customers in several stretches (a partial recovery, then a relapse), so
impact is recorded as intervals, not as two milestones. Overlapping or touching intervals
(two people recording the same outage from different dashboards) are merged first, so no
minute counts twice. An incident with no interval recorded, or with one still open, has no
impact duration: it is missing, never zero.

Lives here: `ImpactInterval`, `check_interval`, `merged` and `impact_seconds`. Does not live
here: storage, or the distributions (`stats.summarize` does those).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from afteraction.core.errors import ValidationError
from afteraction.core.incidents import require_aware


@dataclass(frozen=True, slots=True)
class ImpactInterval:
    """Customers were affected from `start` until `end` (None: still affected)."""

    start: datetime
    end: datetime | None = None


def check_interval(start: datetime, end: datetime | None) -> ImpactInterval:
    """A valid interval in UTC: aware datetimes, `end` not before `start`."""
    start = require_aware(start, field_name="start").astimezone(UTC)
    if end is not None:
        end = require_aware(end, field_name="end").astimezone(UTC)
        if end < start:
            raise ValidationError(
                f"customer impact cannot end ({end.isoformat()}) before it starts "
                f"({start.isoformat()})",
                field="end",
            )
    return ImpactInterval(start, end)


def merged(intervals: Iterable[ImpactInterval]) -> list[ImpactInterval]:
    """Closed intervals sorted by start with overlapping or touching ones merged; open
    intervals are left out (they have no length yet)."""
    out: list[ImpactInterval] = []
    for item in sorted((i for i in intervals if i.end is not None), key=lambda i: i.start):
        last = out[-1] if out else None
        if last is not None and last.end is not None and item.start <= last.end:
            if item.end is not None and item.end > last.end:
                out[-1] = ImpactInterval(last.start, item.end)
        else:
            out.append(item)
    return out


def impact_seconds(intervals: Iterable[ImpactInterval]) -> float | None:
    """Impact duration in seconds: the length of the union of the intervals. None (missing)
    when no interval is recorded or one is still open."""
    items = list(intervals)
    if not items or any(i.end is None for i in items):
        return None
    return sum((i.end - i.start).total_seconds() for i in merged(items) if i.end is not None)


__all__ = ["ImpactInterval", "check_interval", "impact_seconds", "merged"]
