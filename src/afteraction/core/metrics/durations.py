"""Milestone durations: the record of one incident and the shapes of the figures.

Lives here: `IncidentFacts` (the small read-only view of one incident the metrics need),
the shapes of a duration figure (`MetricReport`, `MetricGroup`, `OutOfOrder`),
`metric_definition` and `included` (the gameday/maintenance rule over facts).
Must not live here: the computation of the figures (`figures.ArrayMetrics` does it, over
arrays of many incidents), storage rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from afteraction.core.errors import ValidationError
from afteraction.core.incidents import check_milestones
from afteraction.core.metrics._common import type_included
from afteraction.core.metrics.definitions import METRICS, MetricDefinition
from afteraction.core.metrics.stats import Distribution

GroupBy = Literal["severity", "service", "team"]
TBF = "time_between_failures"
ALL = "all"


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What the metrics need to know about one incident.

    `milestones` maps milestone names (see `afteraction.core.incidents.MILESTONES`) to
    timezone-aware datetimes or None; unknown names and naive datetimes are rejected.
    """

    public_id: str
    severity: str
    type: str = "default"
    services: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    problem: str | None = None
    milestones: Mapping[str, datetime | None] = field(default_factory=dict)
    customer_tier: str | None = None

    def __post_init__(self) -> None:
        check_milestones(self.milestones, allow_out_of_order=True)

    @property
    def started(self) -> datetime | None:
        return self.milestones.get("started")

    def placed_at(self) -> datetime | None:
        """Where the incident sits in time: started, else its earliest recorded milestone."""
        if self.started is not None:
            return self.started
        present = [value for value in self.milestones.values() if value is not None]
        return min(present, default=None)


@dataclass(frozen=True, slots=True)
class OutOfOrder:
    public_id: str
    seconds: float


@dataclass(frozen=True, slots=True)
class MetricGroup:
    """One group's distribution (`key` is a severity, service, team, month or "all")."""

    key: str
    distribution: Distribution
    missing_ids: Sequence[str]
    out_of_order: Sequence[OutOfOrder]
    """Both in sample order; any sequence (a fast path may make its items when read)."""


@dataclass(frozen=True, slots=True)
class MetricReport:
    metric: MetricDefinition
    group_by: GroupBy | None
    groups: tuple[MetricGroup, ...]
    excluded_by_type: Mapping[str, int]


def metric_definition(metric_id: str) -> MetricDefinition:
    try:
        return METRICS[metric_id]
    except KeyError:
        known = ", ".join(METRICS)
        raise ValidationError(
            f"unknown metric {metric_id!r}; known: {known}", field="metric"
        ) from None


def included(
    incidents: Iterable[IncidentFacts], include_types: Collection[str] | None
) -> tuple[list[IncidentFacts], dict[str, int]]:
    """Split incidents into those measured and a count of those excluded, by type."""
    kept: list[IncidentFacts] = []
    excluded: Counter[str] = Counter()
    for incident in incidents:
        if type_included(incident.type, include_types):
            kept.append(incident)
        else:
            excluded[incident.type] += 1
    return kept, dict(excluded)
