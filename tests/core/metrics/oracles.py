"""Test oracles: the naive reference implementations of the metrics, one incident at a time
over `IncidentFacts` in plain Python, that property tests compare the product's array
implementation (`afteraction.core.metrics.figures.ArrayMetrics`) with.

They state the rules as directly as possible (method.md section 2): a missing milestone is
missing, never zero; a negative duration is out of order and left out of the distribution;
gameday and maintenance incidents are excluded unless asked for; time between failures is
per service, ordered by (started, public id); months are local calendar months of where an
incident is placed. They are slow and are not part of the product.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from itertools import pairwise

from afteraction.core.errors import ValidationError
from afteraction.core.metrics import (
    METRICS,
    Breach,
    CountBucket,
    CountSeries,
    GroupBy,
    IncidentFacts,
    MetricGroup,
    MetricReport,
    OutOfOrder,
    Recurrence,
    SLAResult,
    SLATarget,
    Trend,
    summarize,
)
from afteraction.core.metrics._common import (
    NO_GROUP,
    month_label,
    month_start,
    next_month,
    require_zone,
    week_label,
    week_start,
)
from afteraction.core.metrics.durations import ALL, TBF, included, metric_definition
from afteraction.core.metrics.stats import SMALL_SAMPLE_SIZE
from afteraction.core.metrics.trends import Bucket


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


def _result(target: SLATarget, incidents: Iterable[IncidentFacts]) -> SLAResult:
    met: list[str] = []
    breached: list[Breach] = []
    missing: list[str] = []
    disorder: list[str] = []
    for incident in incidents:
        if not target.applies_to(incident):
            continue
        start = incident.milestones.get(target.measured_from)
        end = incident.milestones.get(target.milestone)
        if start is None or end is None:
            missing.append(incident.public_id)
        elif end < start:
            disorder.append(incident.public_id)
        elif end - start <= target.within:
            met.append(incident.public_id)
        else:
            breached.append(Breach(incident.public_id, end - start, end - start - target.within))
    measured = len(met) + len(breached)
    return SLAResult(
        target,
        tuple(met),
        tuple(breached),
        tuple(missing),
        tuple(disorder),
        len(met) / measured if measured else None,
        measured < SMALL_SAMPLE_SIZE,
    )


def sla_compliance(
    incidents: Iterable[IncidentFacts],
    targets: Iterable[SLATarget],
    *,
    include_types: Collection[str] | None = None,
) -> list[SLAResult]:
    """One result per target, in the order given; reaching the milestone exactly at the
    target counts as met."""
    kept, _ = included(incidents, include_types)
    return [_result(target, kept) for target in targets]
