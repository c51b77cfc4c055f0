"""The dashboard's fast path: every duration metric computed once per metric from columns of
epoch microseconds, then summarised overall and per severity, service, team or month.

Lives here: `IncidentTable` (one list per field, one entry per incident, milestones as UTC
epoch microseconds), `table_from_facts`, and `ColumnarMetrics`, whose `report`,
`monthly_medians`, `counts_over_time` and `recurring_problems` give exactly the figures of
the functions of the same names in `durations.py` and `trends.py` (same percentiles, same
missing and out-of-order rules, same gameday/maintenance exclusion, same "(none)" group).
Must not live here: any other rule; when a rule changes in `durations.py` or `trends.py`,
it changes here too (a property test compares both paths on random incidents).

Why integers: a duration is end − start in whole microseconds divided by 10⁶, which is how
`timedelta.total_seconds()` computes it, so every value is bit-for-bit the same as the
`IncidentFacts` path without building a datetime per milestone.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from afteraction.core.errors import ValidationError
from afteraction.core.incidents import MILESTONES
from afteraction.core.metrics._common import (
    NO_GROUP,
    month_label,
    month_start,
    next_month,
    require_zone,
    type_included,
)
from afteraction.core.metrics.definitions import METRICS
from afteraction.core.metrics.durations import (
    ALL,
    TBF,
    GroupBy,
    IncidentFacts,
    MetricGroup,
    MetricReport,
    OutOfOrder,
    metric_definition,
)
from afteraction.core.metrics.stats import Distribution, distribution_of_sorted
from afteraction.core.metrics.trends import CountBucket, CountSeries, Recurrence, Trend

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
DAY_US = 86_400_000_000
_EDGE_US = 2 * DAY_US
"""Around a month boundary, a zone whose offset changes within this span is converted
instant by instant (offsets never move by more than a day)."""


def to_micros(moment: datetime) -> int:
    """A timezone-aware datetime as whole microseconds since 1970-01-01 UTC."""
    if moment.utcoffset() is None:
        raise ValidationError(f"naive datetime {moment!r} refused", field="milestones")
    return (moment - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


@dataclass(frozen=True, slots=True)
class IncidentTable:
    """The metrics' view of many incidents, column by column (entry i is incident i).

    `milestones` maps milestone names to epoch microseconds (None = not recorded); the
    duration metrics need started, detected, acknowledged, mitigated and resolved. `placed`
    is where each incident sits in time (started, else its earliest milestone); when left
    empty it is computed from `milestones`.
    """

    public_ids: Sequence[str]
    severities: Sequence[str]
    types: Sequence[str]
    services: Sequence[tuple[str, ...]]
    teams: Sequence[tuple[str, ...]]
    problems: Sequence[str | None]
    milestones: Mapping[str, Sequence[int | None]]
    placed: Sequence[int | None] = ()
    _placed: list[int | None] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.public_ids)
        columns: list[Sequence[object]] = [
            self.severities, self.types, self.services, self.teams, self.problems,
            *self.milestones.values(),
        ]  # fmt: skip
        if self.placed:
            columns.append(self.placed)
        if any(len(c) != n for c in columns):
            raise ValidationError("every column needs one entry per incident", field="columns")
        unknown = [name for name in self.milestones if name not in MILESTONES]
        if unknown:
            raise ValidationError(f"unknown milestone {unknown[0]!r}", field=unknown[0])
        self._placed.extend(self.placed if self.placed else self._place())

    def _place(self) -> list[int | None]:
        started = self.milestones.get("started")
        others = [c for name, c in self.milestones.items() if name != "started"]
        out: list[int | None] = []
        for i in range(len(self.public_ids)):
            value = started[i] if started is not None else None
            if value is None:
                present = [c[i] for c in others if c[i] is not None]
                value = min(present) if present else None  # type: ignore[type-var]
            out.append(value)
        return out

    def column(self, name: str) -> Sequence[int | None]:
        found = self.milestones.get(name)
        return found if found is not None else [None] * len(self.public_ids)

    def placed_at(self) -> Sequence[int | None]:
        return self._placed


def table_from_facts(facts: Iterable[IncidentFacts]) -> IncidentTable:
    """The same incidents as columns (every milestone, placed as `IncidentFacts.placed_at`)."""
    rows = list(facts)

    def micros(value: datetime | None) -> int | None:
        return None if value is None else to_micros(value)

    return IncidentTable(
        public_ids=[f.public_id for f in rows],
        severities=[f.severity for f in rows],
        types=[f.type for f in rows],
        services=[f.services for f in rows],
        teams=[f.teams for f in rows],
        problems=[f.problem for f in rows],
        milestones={n: [micros(f.milestones.get(n)) for f in rows] for n in MILESTONES},
        placed=[micros(f.placed_at()) for f in rows],
    )


@dataclass(frozen=True, slots=True)
class _Samples:
    """One metric's samples in the order `durations.samples` yields them."""

    metric_id: str
    incident: list[int]
    seconds: list[float | None]
    service: list[str] | None = None


@dataclass(slots=True)
class _Bucket:
    """One group's values as they arrive (the rules of `durations.group_of`)."""

    present: list[float] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    disorder: list[OutOfOrder] = field(default_factory=list)

    def add(self, public_id: str, value: float | None) -> None:
        if value is None:
            self.missing.append(public_id)
        elif value < 0:
            self.disorder.append(OutOfOrder(public_id, value))
        else:
            self.present.append(value)

    def group(self, key: str, with_mean: bool) -> MetricGroup:
        distribution = _distribution(self.present, len(self.missing), with_mean)
        return MetricGroup(key, distribution, tuple(self.missing), tuple(self.disorder))


def _distribution(present: list[float], missing: int, with_mean: bool) -> Distribution:
    """`stats.summarize` for values already known finite; `present` is sorted in place."""
    present.sort()
    return distribution_of_sorted(present, missing, with_mean=with_mean)


class ColumnarMetrics:
    """The duration metrics of `table` for `include_types` (None: all but gameday and
    maintenance). Each metric's values are computed once and reused by every grouping."""

    def __init__(self, table: IncidentTable, include_types: Collection[str] | None = None):
        self.table = table
        self.include_types = include_types
        excluded: Counter[str] = Counter()
        kept: list[int] = []
        for i, kind in enumerate(table.types):
            if type_included(kind, include_types):
                kept.append(i)
            else:
                excluded[kind] += 1
        self.kept = kept
        self.excluded_by_type: dict[str, int] = dict(excluded)
        self._samples: dict[str, _Samples] = {}
        self._month_cache: dict[tzinfo, list[date | None]] = {}
        self._sorted_runs: dict[str, list[list[float]]] = {}

    # -- samples ----------------------------------------------------------------------------

    def samples(self, metric_id: str) -> _Samples:
        found = self._samples.get(metric_id)
        if found is None:
            definition = metric_definition(metric_id)
            if metric_id == TBF:
                found = self._gap_samples()
            else:
                assert definition.start is not None and definition.end is not None
                found = self._duration_samples(metric_id, definition.start, definition.end)
            self._samples[metric_id] = found
        return found

    def _duration_samples(self, metric_id: str, start_name: str, end_name: str) -> _Samples:
        starts, ends = self.table.column(start_name), self.table.column(end_name)
        seconds: list[float | None] = []
        append = seconds.append
        for i in self.kept:
            start, end = starts[i], ends[i]
            append(None if start is None or end is None else (end - start) / 1_000_000)
        return _Samples(metric_id, self.kept, seconds)

    def _gap_samples(self) -> _Samples:
        table, started = self.table, self.table.column("started")
        resolved = self.table.column("resolved")
        by_service: dict[str, list[int]] = {}
        for i in self.kept:
            for service in table.services[i]:
                by_service.setdefault(service, []).append(i)
        incident: list[int] = []
        seconds: list[float | None] = []
        services: list[str] = []
        for service in sorted(by_service):
            members = by_service[service]
            undated = [i for i in members if started[i] is None]
            dated = _by_start(members, started, table.public_ids)
            incident.extend(undated)
            seconds.extend([None] * len(undated))
            for previous, current in zip(dated, dated[1:], strict=False):
                end, begin = resolved[previous], started[current]
                incident.append(current)
                seconds.append(None if end is None or begin is None
                               else (begin - end) / 1_000_000)  # fmt: skip
            services.extend([service] * (len(undated) + max(len(dated) - 1, 0)))
        return _Samples(TBF, incident, seconds, services)

    # -- groups -----------------------------------------------------------------------------

    def _group(
        self, key: str, positions: Iterable[int] | None, data: _Samples, with_mean: bool
    ) -> MetricGroup:
        ids, seconds, incident = self.table.public_ids, data.seconds, data.incident
        if positions is None:  # every sample: comprehensions, no per-sample branching
            runs = self._sorted_runs.get(data.metric_id)
            if runs is None:
                present = [v for v in seconds if v is not None and v >= 0]
            else:  # the severity groups' sorted values: sorting their runs is a merge
                present = [v for run in runs for v in run]
            missing = [ids[incident[p]] for p, v in enumerate(seconds) if v is None]
            disorder = [OutOfOrder(ids[incident[p]], v)
                        for p, v in enumerate(seconds) if v is not None and v < 0]  # fmt: skip
            return MetricGroup(key, _distribution(present, len(missing), with_mean),
                               tuple(missing), tuple(disorder))  # fmt: skip
        bucket = _Bucket()
        for p in positions:
            bucket.add(ids[incident[p]], seconds[p])
        return bucket.group(key, with_mean)

    def _buckets(self, data: _Samples, group_by: GroupBy) -> dict[str, _Bucket]:
        """One pass over the samples, each added to its group(s)."""
        table, ids = self.table, self.table.public_ids
        buckets: dict[str, _Bucket] = {}
        none = (NO_GROUP,)
        if group_by == "severity":
            severities = table.severities
            lists: dict[str, tuple[list[float], list[str], list[OutOfOrder]]] = {}
            for i, value in zip(data.incident, data.seconds, strict=True):
                key = severities[i]
                found = lists.get(key)
                if found is None:
                    found = lists[key] = ([], [], [])
                if value is None:
                    found[1].append(ids[i])
                elif value < 0:
                    found[2].append(OutOfOrder(ids[i], value))
                else:
                    found[0].append(value)
            return {k: _Bucket(*v) for k, v in lists.items()}
        for p, i in enumerate(data.incident):
            if group_by == "service":
                keys = (data.service[p],) if data.service is not None else table.services[i]
            else:
                keys = table.teams[i]
            for key in keys or none:
                bucket = buckets.get(key)
                if bucket is None:
                    bucket = buckets[key] = _Bucket()
                bucket.add(ids[i], data.seconds[p])
        return buckets

    def report(
        self, metric_id: str, *, group_by: GroupBy | None = None, with_mean: bool = False
    ) -> MetricReport:
        """What `durations.metric_report` returns for the same incidents and arguments."""
        if group_by not in (None, "severity", "service", "team"):
            raise ValidationError(f"cannot group by {group_by!r}", field="group_by")
        data = self.samples(metric_id)
        groups: tuple[MetricGroup, ...]
        if group_by is None:
            groups = (self._group(ALL, None, data, with_mean),) if data.seconds else ()
        else:
            buckets = self._buckets(data, group_by)
            groups = tuple(buckets[k].group(k, with_mean) for k in sorted(buckets))
            if group_by == "severity":
                self._sorted_runs[metric_id] = [b.present for b in buckets.values()]
        return MetricReport(METRICS[metric_id], group_by, groups, dict(self.excluded_by_type))

    # -- time -------------------------------------------------------------------------------

    def _months(self, zone: tzinfo) -> list[date | None]:
        """The local calendar month of each incident's placement (None when undated)."""
        found = self._month_cache.get(zone)
        if found is None:
            found = self._month_cache[zone] = self._compute_months(zone)
        return found

    def _compute_months(self, zone: tzinfo) -> list[date | None]:
        placed = self.table.placed_at()
        dated = [placed[i] for i in self.kept if placed[i] is not None]
        months: list[date | None] = [None] * len(placed)
        if not dated:
            return months
        low, high = min(dated), max(dated)  # type: ignore[type-var]
        first = month_start(_local_day(low, zone))  # type: ignore[arg-type]
        last = month_start(_local_day(high, zone))  # type: ignore[arg-type]
        starts, bounds, unsafe = [first], [], False
        while starts[-1] < last:
            nxt = next_month(starts[-1])
            bound = to_micros(datetime.combine(nxt, datetime.min.time(), tzinfo=zone))
            unsafe = unsafe or _offset_moves(zone, bound)
            starts.append(nxt)
            bounds.append(bound)
        for i in self.kept:
            at = placed[i]
            if at is None:
                continue
            if unsafe:
                months[i] = month_start(_local_day(at, zone))
            else:
                months[i] = starts[bisect.bisect_right(bounds, at)]
        return months

    def monthly_medians(self, metric_id: str, tz: str | tzinfo, *,
                        with_mean: bool = False) -> Trend:  # fmt: skip
        """What `trends.monthly_medians` returns for the same incidents and arguments."""
        definition = metric_definition(metric_id)
        zone = require_zone(tz)
        data = self.samples(metric_id)
        months = self._months(zone)
        by_month: dict[date, list[int]] = {}
        undated: list[str] = []
        for p, i in enumerate(data.incident):
            month = months[i]
            if month is None:
                undated.append(self.table.public_ids[i])
            else:
                by_month.setdefault(month, []).append(p)
        points = tuple(
            self._group(month_label(m), by_month.get(m, []), data, with_mean)
            for m in _month_span(by_month)
        )
        return Trend(definition, points, tuple(undated))

    def counts_over_time(self, tz: str | tzinfo = "UTC") -> CountSeries:
        """What `trends.counts_over_time(bucket="month")` returns for the same incidents."""
        zone = require_zone(tz)
        months = self._months(zone)
        severities, ids = self.table.severities, self.table.public_ids
        undated = [ids[i] for i in self.kept if months[i] is None]
        pairs: Counter[tuple[date, str]] = Counter(
            (month, severities[i]) for i in self.kept if (month := months[i]) is not None
        )
        counts: dict[date, Counter[str]] = {}
        for (month, severity), n in pairs.items():  # first-seen order, as trends counts
            counts.setdefault(month, Counter())[severity] = n
        buckets = tuple(
            CountBucket(month_label(s), s, sum(counts.get(s, Counter()).values()),
                        dict(counts.get(s, {})))
            for s in _month_span(counts)
        )  # fmt: skip
        return CountSeries("month", buckets, tuple(undated))

    def recurring_problems(self, *, min_incidents: int = 2) -> list[Recurrence]:
        """What `trends.recurring_problems` returns for the same incidents."""
        table, placed = self.table, self.table.placed_at()
        by_problem: dict[str, list[int]] = {}
        for i in self.kept:
            problem = table.problems[i]
            if problem:
                by_problem.setdefault(problem, []).append(i)
        found = []
        for problem, members in by_problem.items():
            if len(members) < min_incidents:
                continue
            times = [at for i in members if (at := placed[i]) is not None]
            found.append(Recurrence(
                problem, tuple(table.public_ids[i] for i in members),
                from_micros(min(times)) if times else None,
                from_micros(max(times)) if times else None,
                tuple(sorted({s for i in members for s in table.services[i]})),
            ))  # fmt: skip
        return sorted(found, key=lambda r: (-len(r.incident_ids), r.problem))

    def per_problem(self) -> list[tuple[str, int]]:
        """Incidents per problem, most first (ties by problem key)."""
        counts = Counter(p for i in self.kept if (p := self.table.problems[i]))
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _by_start(members: list[int], started: Sequence[int | None], ids: Sequence[str]) -> list[int]:
    """Dated members ordered by (started, public id), as `durations` orders them."""
    dated = [i for i in members if started[i] is not None]
    dated.sort(key=started.__getitem__)  # type: ignore[arg-type]
    run = 0
    for k in range(1, len(dated) + 1):  # equal starts: order by public id
        if k == len(dated) or started[dated[k]] != started[dated[run]]:
            if k - run > 1:
                dated[run:k] = sorted(dated[run:k], key=ids.__getitem__)
            run = k
    return dated


def _local_day(micros: int, zone: tzinfo) -> date:
    return from_micros(micros).astimezone(zone).date()


def _offset_moves(zone: tzinfo, bound: int) -> bool:
    before = from_micros(bound - _EDGE_US).astimezone(zone).utcoffset()
    after = from_micros(bound + _EDGE_US).astimezone(zone).utcoffset()
    return before != after


def _month_span(months: Iterable[date]) -> list[date]:
    present = set(months)
    if not present:
        return []
    current, last, out = min(present), max(present), []
    while current <= last:
        out.append(current)
        current = next_month(current)
    return out
