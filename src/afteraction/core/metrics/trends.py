"""Incident metrics over time: monthly medians with sample sizes, counts per week or month,
and recurring problems.

Lives here: `monthly_medians`, `counts_over_time`, `recurring_problems`.
Must not live here: the per-incident duration rules (see `durations.py`).

Incidents are placed in time by `IncidentFacts.placed_at()` (started, else the earliest
recorded milestone) converted to the report's time zone; incidents with no milestone at all
are listed as `undated`. Empty months or weeks between the first and last are included, so
a gap in the data shows as a gap, not as a jump.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Literal

from afteraction.core.errors import ValidationError
from afteraction.core.metrics._common import (
    month_label,
    month_start,
    next_month,
    require_zone,
    week_label,
    week_start,
)
from afteraction.core.metrics.definitions import MetricDefinition
from afteraction.core.metrics.durations import (
    IncidentFacts,
    MetricGroup,
    Sample,
    group_of,
    included,
    metric_definition,
    samples,
)

Bucket = Literal["week", "month"]


@dataclass(frozen=True, slots=True)
class Trend:
    """Monthly distributions (`points[i].key` is "YYYY-MM"), oldest first."""

    metric: MetricDefinition
    points: tuple[MetricGroup, ...]
    undated: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CountBucket:
    label: str
    start: date
    total: int
    by_severity: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class CountSeries:
    bucket: Bucket
    buckets: tuple[CountBucket, ...]
    undated: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Recurrence:
    problem: str
    incident_ids: tuple[str, ...]
    first: datetime | None
    last: datetime | None
    services: tuple[str, ...]


def _local_day(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def _span(
    days: Iterable[date], first_of: Callable[[date], date], step: Callable[[date], date]
) -> list[date]:
    starts = {first_of(day) for day in days}
    if not starts:
        return []
    current, last, out = min(starts), max(starts), []
    while current <= last:
        out.append(current)
        current = step(current)
    return out


def _next_week(day: date) -> date:
    return day + timedelta(days=7)


def monthly_medians(
    incidents: Iterable[IncidentFacts],
    metric_id: str,
    tz: str | tzinfo,
    *,
    include_types: Collection[str] | None = None,
    with_mean: bool = False,
) -> Trend:
    """The metric's distribution per calendar month (in `tz`) of each incident's start.

    Each point carries its own count, missing count and small-sample flag; a sample of
    time between failures belongs to the month of the later incident.
    """
    definition = metric_definition(metric_id)
    zone = require_zone(tz)
    by_month: dict[date, list[Sample]] = {}
    undated: list[str] = []
    for sample in samples(incidents, metric_id, include_types=include_types):
        placed = sample.incident.placed_at()
        if placed is None:
            undated.append(sample.incident.public_id)
            continue
        by_month.setdefault(month_start(_local_day(placed, zone)), []).append(sample)
    months = _span(by_month, month_start, next_month)
    points = tuple(
        group_of(month_label(m), by_month.get(m, []), with_mean=with_mean) for m in months
    )
    return Trend(definition, points, tuple(undated))


def counts_over_time(
    incidents: Iterable[IncidentFacts],
    *,
    bucket: Bucket = "month",
    tz: str | tzinfo = "UTC",
    include_types: Collection[str] | None = None,
) -> CountSeries:
    """How many incidents started per ISO week (Monday first) or calendar month, by severity."""
    if bucket not in ("week", "month"):
        raise ValidationError(f"bucket must be week or month, not {bucket!r}", field="bucket")
    zone = require_zone(tz)
    first_of, step, label = (
        (week_start, _next_week, week_label)
        if bucket == "week"
        else (month_start, next_month, month_label)
    )
    kept, _ = included(incidents, include_types)
    counts: dict[date, Counter[str]] = {}
    undated: list[str] = []
    for incident in kept:
        placed = incident.placed_at()
        if placed is None:
            undated.append(incident.public_id)
            continue
        key = first_of(_local_day(placed, zone))
        counts.setdefault(key, Counter())[incident.severity] += 1
    buckets = tuple(
        CountBucket(label(s), s, sum(counts.get(s, Counter()).values()), dict(counts.get(s, {})))
        for s in _span(counts, first_of, step)
    )
    return CountSeries(bucket, buckets, tuple(undated))


def recurring_problems(
    incidents: Iterable[IncidentFacts],
    *,
    min_incidents: int = 2,
    include_types: Collection[str] | None = None,
) -> list[Recurrence]:
    """Problems linked to at least `min_incidents` incidents, most frequent first."""
    kept, _ = included(incidents, include_types)
    by_problem: dict[str, list[IncidentFacts]] = {}
    for incident in kept:
        if incident.problem:
            by_problem.setdefault(incident.problem, []).append(incident)
    found = [
        _recurrence(problem, members)
        for problem, members in by_problem.items()
        if len(members) >= min_incidents
    ]
    return sorted(found, key=lambda r: (-len(r.incident_ids), r.problem))


def _recurrence(problem: str, members: list[IncidentFacts]) -> Recurrence:
    times = [placed for i in members if (placed := i.placed_at()) is not None]
    services = sorted({s for i in members for s in i.services})
    return Recurrence(
        problem,
        tuple(i.public_id for i in members),
        min(times, default=None),
        max(times, default=None),
        tuple(services),
    )
