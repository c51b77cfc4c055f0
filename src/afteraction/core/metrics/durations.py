"""Milestone durations per incident and their distributions, grouped as the dashboard asks.

Lives here: `IncidentFacts` (the small read-only view of an incident the metrics need),
`duration_seconds`, `samples`, `metric_report` and `time_between_failures`.
Must not live here: storage rows, month/week trends (see `trends.py`), SLAs (`sla.py`).

Rules applied everywhere: a missing milestone makes the duration missing (never zero);
a negative duration (milestones recorded out of order with an override, or two incidents on
one service overlapping) is listed in `out_of_order` and left out of the distribution;
gameday and maintenance incidents are excluded unless `include_types` names them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Literal

from afteraction.core.errors import ValidationError
from afteraction.core.incidents import check_milestones
from afteraction.core.metrics._common import NO_GROUP, type_included
from afteraction.core.metrics.definitions import METRICS, MetricDefinition
from afteraction.core.metrics.stats import Distribution, summarize

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
class Sample:
    """One measured value: `seconds` is None when missing, negative when out of order.

    For time between failures, `service` is the service and `previous_id` the incident
    whose resolution opens the gap; the sample belongs to the later incident.
    """

    incident: IncidentFacts
    seconds: float | None
    service: str | None = None
    previous_id: str | None = None


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


def duration_seconds(facts: IncidentFacts, metric_id: str) -> float | None:
    """end − start of the metric in seconds; None if either milestone is missing.

    The value is returned as recorded, so it is negative when an override put the
    milestones out of order; callers that summarise use `metric_report`, which lists such
    values separately. Time between failures spans two incidents: use `samples`.
    """
    definition = metric_definition(metric_id)
    if metric_id == TBF:
        raise ValidationError(
            "time between failures spans two incidents; use samples() or time_between_failures()",
            field="metric",
        )
    assert definition.start is not None and definition.end is not None
    start = facts.milestones.get(definition.start)
    end = facts.milestones.get(definition.end)
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


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


def _gap_samples(incidents: Iterable[IncidentFacts]) -> Iterator[Sample]:
    by_service: dict[str, list[IncidentFacts]] = {}
    for incident in incidents:
        for service in incident.services:
            by_service.setdefault(service, []).append(incident)
    for service in sorted(by_service):
        members = by_service[service]
        for undated in (i for i in members if i.started is None):
            yield Sample(undated, None, service)
        dated = sorted((i for i in members if i.started is not None), key=_start_key)
        for previous, current in pairwise(dated):
            yield Sample(current, _gap(previous, current), service, previous.public_id)


def _start_key(incident: IncidentFacts) -> tuple[datetime, str]:
    assert incident.started is not None
    return incident.started, incident.public_id


def _gap(previous: IncidentFacts, current: IncidentFacts) -> float | None:
    resolved = previous.milestones.get("resolved")
    if resolved is None or current.started is None:
        return None
    return (current.started - resolved).total_seconds()


def samples(
    incidents: Iterable[IncidentFacts],
    metric_id: str,
    *,
    include_types: Collection[str] | None = None,
) -> list[Sample]:
    """Every value of the metric over the included incidents, missing ones as None.

    Time between failures: per service, incidents ordered by started; each incident after
    the first gives one gap; an incident without started gives one missing sample.
    """
    metric_definition(metric_id)
    kept, _ = included(incidents, include_types)
    if metric_id == TBF:
        return list(_gap_samples(kept))
    return [Sample(i, duration_seconds(i, metric_id)) for i in kept]


def _keys(sample: Sample, group_by: GroupBy | None) -> tuple[str, ...]:
    if group_by is None:
        return (ALL,)
    if group_by == "severity":
        return (sample.incident.severity,)
    if group_by == "service":
        if sample.service is not None:
            return (sample.service,)
        return sample.incident.services or (NO_GROUP,)
    return sample.incident.teams or (NO_GROUP,)


def group_of(key: str, members: Iterable[Sample], *, with_mean: bool = False) -> MetricGroup:
    """Summarise samples: negatives go to `out_of_order`, None to `missing_ids`."""
    values: list[float | None] = []
    missing: list[str] = []
    disorder: list[OutOfOrder] = []
    for sample in members:
        if sample.seconds is None:
            missing.append(sample.incident.public_id)
            values.append(None)
        elif sample.seconds < 0:
            disorder.append(OutOfOrder(sample.incident.public_id, sample.seconds))
        else:
            values.append(sample.seconds)
    return MetricGroup(key, summarize(values, with_mean=with_mean), tuple(missing), tuple(disorder))


def metric_report(
    incidents: Iterable[IncidentFacts],
    metric_id: str,
    *,
    group_by: GroupBy | None = None,
    include_types: Collection[str] | None = None,
    with_mean: bool = False,
) -> MetricReport:
    """The metric's distribution overall (group "all") or per severity, service or team.

    An incident with several services (or teams) counts in each of their groups; one with
    none is grouped under "(none)". Groups are sorted by key. `include_types=None` means
    every type except gameday and maintenance; `excluded_by_type` counts what was left out.
    """
    if group_by not in (None, "severity", "service", "team"):
        raise ValidationError(f"cannot group by {group_by!r}", field="group_by")
    materialised = list(incidents)
    _, excluded = included(materialised, include_types)
    buckets: dict[str, list[Sample]] = {}
    for sample in samples(materialised, metric_id, include_types=include_types):
        for key in _keys(sample, group_by):
            buckets.setdefault(key, []).append(sample)
    groups = tuple(group_of(k, buckets[k], with_mean=with_mean) for k in sorted(buckets))
    return MetricReport(METRICS[metric_id], group_by, groups, excluded)


def time_between_failures(
    incidents: Iterable[IncidentFacts],
    *,
    include_types: Collection[str] | None = None,
    with_mean: bool = False,
) -> dict[str, MetricGroup]:
    """Per service: the distribution of started(n) − resolved(n−1)."""
    report = metric_report(
        incidents, TBF, group_by="service", include_types=include_types, with_mean=with_mean
    )
    return {group.key: group for group in report.groups}
