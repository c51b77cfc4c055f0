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
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from itertools import chain, compress, islice, repeat
from typing import Any, cast

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
from afteraction.core.metrics.stats import distribution_of_sorted
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


_DROP = float("-inf")
"""Stands in for a missing or out-of-order value in a metric's sortable column: it sorts
first and is cut off, so a group's present values are gathered and sorted in C loops."""
_ZERO = 0.0


@dataclass(frozen=True, slots=True)
class _Samples:
    """One metric's samples in the order `durations.samples` yields them.

    `sortable` is `seconds` with missing and negative values replaced by `_DROP`;
    `missing` and `disorder` list the positions of those values, ascending (usually few);
    `missing_ids` and `out_of_order` hold what a group lists for them, built once."""

    metric_id: str
    incident: list[int]
    seconds: list[float | None]
    sortable: list[float]
    missing: list[int]
    disorder: list[int]
    service: list[str] | None = None
    missing_ids: dict[int, str] = field(default_factory=dict)
    out_of_order: dict[int, OutOfOrder] = field(default_factory=dict)


def _samples_of(
    metric_id: str, incident: list[int], seconds: list[float | None],
    service: list[str] | None = None,
) -> _Samples:  # fmt: skip
    """The samples with their sortable column; one extra pass only when some value is
    missing or negative."""
    if None not in seconds and (not seconds or min(seconds) >= 0):  # type: ignore[operator,type-var]
        clean = cast(list[float], seconds)
        return _Samples(metric_id, incident, seconds, clean, [], [], service)
    sortable: list[float] = []
    missing: list[int] = []
    disorder: list[int] = []
    keep = sortable.append
    for p, value in enumerate(seconds):
        if value is None:
            missing.append(p)
            keep(_DROP)
        elif value < 0:
            disorder.append(p)
            keep(_DROP)
        else:
            keep(value)
    return _Samples(metric_id, incident, seconds, sortable, missing, disorder, service)


@dataclass(frozen=True, slots=True)
class _Split:
    """How one metric's samples fall into groups: per sample its key, or (`multi`) its
    tuple of keys, an empty tuple meaning the "(none)" group."""

    keys: Sequence[Any]
    multi: bool = False
    reused: bool = False
    _positions: dict[Any, list[int]] = field(default_factory=dict)

    def keys_of(self, position: int) -> Iterable[Any]:
        if self.multi:
            return self.keys[position] or _NONE
        return (self.keys[position],)

    def values(self, sortable: Sequence[float]) -> dict[Any, list[float]]:
        """The sortable values per key, in sample order. A split `reused` by several
        metrics finds the positions of each key once and gathers by position (cheaper
        than a pass that appends); otherwise one pass appends."""
        if self.reused and not self.multi:
            positions = self._positions
            if not positions and self.keys:
                positions.update((key, []) for key in set(self.keys))
                for position, key in enumerate(self.keys):
                    positions[key].append(position)
            get = sortable.__getitem__
            return {key: list(map(get, found)) for key, found in positions.items()}
        out: dict[Any, list[float]] = {}
        if not self.multi:
            out = {key: [] for key in set(self.keys)}
            for value, key in zip(sortable, self.keys, strict=True):
                out[key].append(value)
            return out
        for value, keys in zip(sortable, self.keys, strict=True):
            for key in keys or _NONE:
                found = out.get(key)
                if found is None:
                    out[key] = [value]
                else:
                    found.append(value)
        return out


_NONE = (NO_GROUP,)


class ColumnarMetrics:
    """The duration metrics of `table` for `include_types` (None: all but gameday and
    maintenance). Each metric's values are computed once and reused by every grouping,
    and each grouping's keys once for every metric."""

    def __init__(self, table: IncidentTable, include_types: Collection[str] | None = None):
        self.table = table
        self.include_types = include_types
        types = table.types
        dropped = {t for t in set(types) if not type_included(t, include_types)}
        if dropped:
            kept = [i for i, kind in enumerate(types) if kind not in dropped]
            self.excluded_by_type: dict[str, int] = dict(
                Counter(kind for kind in types if kind in dropped)
            )
        else:
            kept = list(range(len(types)))
            self.excluded_by_type = {}
        self.kept = kept
        self._samples: dict[str, _Samples] = {}
        self._months_cache: dict[tzinfo, tuple[list[int], list[date]]] = {}
        self._splits: dict[tuple[object, ...], _Split] = {}
        self._sorted_runs: dict[str, list[Sequence[float]]] = {}

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
            ids, incident, seconds = self.table.public_ids, found.incident, found.seconds
            found.missing_ids.update((p, ids[incident[p]]) for p in found.missing)
            disorder = found.disorder
            found.out_of_order.update(
                (p, OutOfOrder(ids[incident[p]], cast(float, seconds[p]))) for p in disorder
            )
            self._samples[metric_id] = found
        return found

    def kept_severities(self) -> Counter[str]:
        """How many measured incidents (type rule applied) each severity has."""
        return Counter(self._kept_column(self.table.severities))

    def _kept_column(self, column: Sequence[Any]) -> list[Any]:
        if len(self.kept) == len(column):
            return list(column)
        return [column[i] for i in self.kept]

    def _duration_samples(self, metric_id: str, start_name: str, end_name: str) -> _Samples:
        starts, ends = self.table.column(start_name), self.table.column(end_name)
        seconds = [
            None if (start := starts[i]) is None or (end := ends[i]) is None
            else (end - start) / 1_000_000
            for i in self.kept
        ]  # fmt: skip
        return _samples_of(metric_id, self.kept, seconds)

    def _gap_samples(self) -> _Samples:
        table, started = self.table, self.table.column("started")
        resolved = self.table.column("resolved")
        by_service: dict[str, list[int]] = {}
        for i in self.kept:
            for service in table.services[i]:
                found = by_service.get(service)
                if found is None:
                    by_service[service] = [i]
                else:
                    found.append(i)
        incident: list[int] = []
        seconds: list[float | None] = []
        services: list[str] = []
        for service in sorted(by_service):
            members = by_service[service]
            starts = [started[i] for i in members]
            undated: list[int] = []
            if None in starts:
                undated = [i for i, at in zip(members, starts, strict=True) if at is None]
            dated = _by_start(members, started, table.public_ids, bool(undated))
            incident.extend(undated)
            seconds.extend([None] * len(undated))
            incident.extend(dated[1:])
            ends = [resolved[i] for i in dated]
            begins = [cast(int, started[i]) for i in dated]
            seconds.extend([
                None if end is None else (begin - end) / 1_000_000
                for begin, end in zip(islice(begins, 1, None), ends, strict=False)
            ])  # fmt: skip
            services.extend([service] * (len(undated) + max(len(dated) - 1, 0)))
        return _samples_of(TBF, incident, seconds, services)

    # -- groups -----------------------------------------------------------------------------

    def _group(
        self, key: str, present: list[float], missing: Sequence[int], disorder: Sequence[int],
        data: _Samples, with_mean: bool,
    ) -> MetricGroup:  # fmt: skip
        """The group of `present` (sortable values, sorted here in place); `missing` and
        `disorder` are the positions of its samples holding a missing or negative value."""
        present.sort()
        if (missing or disorder) and present and present[0] == _DROP:
            del present[: bisect.bisect_right(present, _DROP)]
        return MetricGroup(
            key,
            distribution_of_sorted(present, len(missing), with_mean=with_mean),
            tuple(map(data.missing_ids.__getitem__, missing)),
            tuple(map(data.out_of_order.__getitem__, disorder)),
        )

    def _split(self, data: _Samples, group_by: str, zone: tzinfo | None = None) -> _Split:
        shared = data.incident is self.kept and not (group_by == "service" and data.service)
        cache_key = (group_by, zone, "" if shared else data.metric_id)
        found = self._splits.get(cache_key)
        if found is None:
            table, incident = self.table, data.incident
            if group_by == "service" and data.service is not None:
                found = _Split(data.service)
            else:
                column: Sequence[Any] = {
                    "severity": table.severities,
                    "service": table.services,
                    "team": table.teams,
                }.get(group_by) or self._months(zone)[0]  # type: ignore[arg-type]
                keys = self._kept_column(column) if shared else [column[i] for i in incident]
                multi = group_by in ("service", "team")
                found = _Split(keys, multi=multi, reused=shared and group_by == "severity")
            self._splits[cache_key] = found
        return found

    def _groups(self, data: _Samples, split: _Split, with_mean: bool,
                keys: Iterable[Any] | None = None, label: Callable[[Any], str] = str,
                ) -> list[MetricGroup]:  # fmt: skip
        missing: dict[Any, list[int]] = {}
        disorder: dict[Any, list[int]] = {}
        for sparse, into in ((data.missing, missing), (data.disorder, disorder)):
            for p in sparse:
                for key in split.keys_of(p):
                    into.setdefault(key, []).append(p)
        values = split.values(data.sortable)
        return [
            self._group(label(k), values.get(k, []), missing.get(k, ()), disorder.get(k, ()),
                        data, with_mean)
            for k in (sorted(values) if keys is None else keys)
        ]  # fmt: skip

    def report(
        self, metric_id: str, *, group_by: GroupBy | None = None, with_mean: bool = False
    ) -> MetricReport:
        """What `durations.metric_report` returns for the same incidents and arguments."""
        if group_by not in (None, "severity", "service", "team"):
            raise ValidationError(f"cannot group by {group_by!r}", field="group_by")
        data = self.samples(metric_id)
        groups: tuple[MetricGroup, ...] = ()
        if group_by is None:
            if data.seconds:
                runs = self._sorted_runs.get(metric_id)  # merging sorted runs is cheap
                present = list(chain.from_iterable(runs)) if runs else list(data.sortable)
                groups = (self._group(ALL, present, data.missing, data.disorder, data, with_mean),)
        else:
            groups = tuple(self._groups(data, self._split(data, group_by), with_mean))
            if group_by == "severity":
                self._sorted_runs[metric_id] = [g.distribution.values for g in groups]
        return MetricReport(METRICS[metric_id], group_by, groups, dict(self.excluded_by_type))

    # -- time -------------------------------------------------------------------------------

    def _months(self, zone: tzinfo) -> tuple[list[int], list[date]]:
        """Per incident, the index of its local calendar month of placement in the list of
        months returned beside it (-1 when undated)."""
        found = self._months_cache.get(zone)
        if found is None:
            found = self._months_cache[zone] = self._compute_months(zone)
        return found

    def _compute_months(self, zone: tzinfo) -> tuple[list[int], list[date]]:
        placed = self.table.placed_at()
        dated = [at for at in placed if at is not None] if None in placed else placed
        if not dated:
            return [-1] * len(placed), []
        low, high = min(dated), max(dated)  # type: ignore[type-var]
        starts, bounds, unsafe = month_bounds(low, high, zone)  # type: ignore[arg-type]
        if unsafe:  # near a clock change: convert instant by instant
            return local_months(placed, starts, zone), starts
        if dated is placed:
            return list(map(bisect.bisect_right, repeat(bounds), placed)), starts  # type: ignore[arg-type]
        return [-1 if at is None else bisect.bisect_right(bounds, at) for at in placed], starts

    def monthly_medians(self, metric_id: str, tz: str | tzinfo, *,
                        with_mean: bool = False) -> Trend:  # fmt: skip
        """What `trends.monthly_medians` returns for the same incidents and arguments."""
        definition = metric_definition(metric_id)
        zone = require_zone(tz)
        data = self.samples(metric_id)
        starts = self._months(zone)[1]
        split = self._split(data, "month", zone)
        present = set(split.keys)
        present.discard(-1)
        span = range(min(present), max(present) + 1) if present else range(0)
        points = tuple(self._groups(data, split, with_mean, span,
                                    lambda k: month_label(starts[k])))  # fmt: skip
        ids, incident = self.table.public_ids, data.incident
        undated: list[str] = []
        if -1 in split.keys:
            undated = [ids[incident[p]] for p, k in enumerate(split.keys) if k < 0]
        return Trend(definition, points, tuple(undated))

    def counts_over_time(self, tz: str | tzinfo = "UTC") -> CountSeries:
        """What `trends.counts_over_time(bucket="month")` returns for the same incidents."""
        zone = require_zone(tz)
        months, starts = self._months(zone)
        kept_months = self._kept_column(months)
        ids = self.table.public_ids
        undated = [ids[i] for i in compress(self.kept, map((-1).__eq__, kept_months))]
        pairs = Counter(zip(kept_months, self._kept_column(self.table.severities), strict=True))
        counts: dict[int, dict[str, int]] = {}
        for (month, severity), n in pairs.items():  # first-seen order, as trends counts
            if month >= 0:
                counts.setdefault(month, {})[severity] = n
        span = range(min(counts), max(counts) + 1) if counts else range(0)
        buckets = tuple(
            CountBucket(month_label(starts[k]), starts[k], sum(counts.get(k, {}).values()),
                        dict(counts.get(k, {})))
            for k in span
        )  # fmt: skip
        return CountSeries("month", buckets, tuple(undated))

    def recurring_problems(self, *, min_incidents: int = 2) -> list[Recurrence]:
        """What `trends.recurring_problems` returns for the same incidents."""
        table, placed = self.table, self.table.placed_at()
        by_problem: dict[str, list[int]] = {}
        problems = self._kept_column(table.problems)
        for i in compress(self.kept, map(bool, problems)):
            by_problem.setdefault(table.problems[i], []).append(i)  # type: ignore[arg-type]
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
        counts = Counter(filter(None, self._kept_column(self.table.problems)))
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _by_start(
    members: list[int], started: Sequence[int | None], ids: Sequence[str], undated: bool = True
) -> list[int]:
    """Dated members ordered by (started, public id), as `durations` orders them
    (`undated`: whether some member has no start)."""
    dated = [i for i in members if started[i] is not None] if undated else list(members)
    dated.sort(key=started.__getitem__)  # type: ignore[arg-type]
    starts = [started[i] for i in dated]
    if len(set(starts)) == len(starts):  # no equal starts: nothing to order by id
        return dated
    run = 0
    for k in range(1, len(dated) + 1):  # equal starts: order by public id
        if k == len(dated) or starts[k] != starts[run]:
            if k - run > 1:
                dated[run:k] = sorted(dated[run:k], key=ids.__getitem__)
            run = k
    return dated


def month_bounds(low: int, high: int, zone: tzinfo) -> tuple[list[date], list[int], bool]:
    """The local calendar months from the one holding instant `low` to the one holding
    `high` (epoch microseconds): their first days, the instants where each month after the
    first begins, and whether the zone's offset moves near one of those instants (then
    bisecting the bounds is not exact, and `local_months` must be used)."""
    first = month_start(_local_day(low, zone))
    last = month_start(_local_day(high, zone))
    starts, bounds, unsafe = [first], [], False
    while starts[-1] < last:
        nxt = next_month(starts[-1])
        bound = to_micros(datetime.combine(nxt, datetime.min.time(), tzinfo=zone))
        unsafe = unsafe or _offset_moves(zone, bound)
        starts.append(nxt)
        bounds.append(bound)
    return starts, bounds, unsafe


def local_months(placed: Iterable[int | None], starts: list[date], zone: tzinfo) -> list[int]:
    """Per instant, the index in `starts` of its local month (-1 when None), converting
    instant by instant."""
    position = {s: k for k, s in enumerate(starts)}
    return [-1 if at is None else position[month_start(_local_day(at, zone))] for at in placed]


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
