"""Incident metrics over time: monthly medians with sample sizes, counts per week or month,
and recurring problems.

Lives here: the shapes of those figures (`Trend`, `CountSeries`, `CountBucket`,
`Recurrence`); `figures.ArrayMetrics` computes them. Incidents sit in time by where they
were placed (started, else the earliest recorded milestone) in the report's time zone;
incidents with no milestone at all are listed as `undated`. Empty months between the first
and last are included, so a gap in the data shows as a gap, not as a jump.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from afteraction.core.metrics.definitions import MetricDefinition
from afteraction.core.metrics.durations import (
    MetricGroup,
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
