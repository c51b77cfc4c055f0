"""Every dashboard figure over `IncidentArrays`: the one implementation of the duration
metrics, their groupings, monthly trends, counts, recurring problems and SLA compliance.

Lives here: `ArrayMetrics`. `report` gives a metric's distribution overall or per severity,
service or team; `monthly_medians` per local calendar month of placement; `counts_over_time`
incidents per month and severity; `recurring_problems` / `per_problem`; `sla` one SLA's
compliance. Must not live here: queries (storage fills the arrays) or presentation.

The rules (method.md section 2): a duration is end − start of its milestones (see
`definitions.METRICS`); a missing milestone makes the value missing, listed by incident and
never zero; a negative value (milestones recorded out of order, or overlapping incidents on
a service for time between failures) is listed under `out_of_order` and left out of the
distribution; gameday and maintenance incidents are excluded unless `include_types` names
them; an incident with several services (or teams) counts in each group, one with none under
"(none)"; time between failures is per service, incidents ordered by (started, public id),
each after the first giving started(n) − resolved(n−1), an undated one a missing value;
incidents sit in time by `placed` (started, else their earliest milestone). Percentiles are
`stats.percentile`'s. The naive reference implementation that property tests compare this
with lives in the tests (`tests/core/metrics/oracles.py`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from typing import Any

import numpy as np

from afteraction.core.errors import ValidationError
from afteraction.core.metrics._common import NO_GROUP, month_label, require_zone, type_included
from afteraction.core.metrics.arrays import Bools, Floats, IncidentArrays, Ints, Listed, Values
from afteraction.core.metrics.definitions import METRICS
from afteraction.core.metrics.durations import (
    ALL,
    TBF,
    GroupBy,
    MetricGroup,
    MetricReport,
    OutOfOrder,
    metric_definition,
)
from afteraction.core.metrics.instants import from_micros, local_months, month_bounds
from afteraction.core.metrics.sla import Breach, SLAResult, SLATarget
from afteraction.core.metrics.stats import SMALL_SAMPLE_SIZE, distribution_of_sorted
from afteraction.core.metrics.trends import CountBucket, CountSeries, Recurrence, Trend


@dataclass(frozen=True, slots=True)
class _Samples:
    """One metric's samples in `durations.samples` order: the incident each belongs to,
    its duration in µs (NaN = missing), and for time between failures its service code."""

    incident: Ints
    micros: Floats
    service: Ints | None = None


@dataclass(frozen=True, slots=True)
class _Ranked:
    """A metric's samples sorted once, for every grouping to reuse.

    `seconds` holds the present, in-order values ascending, `order` the sample of each;
    `rank` gives each sample's index in it (-1 when missing or out of order); `bad`
    lists those other samples in sample order, and `missing` says which of them are
    missing (the rest are out of order)."""

    seconds: Floats
    order: Ints
    rank: Ints
    bad: Ints
    missing: Bools


_POWERS = 10 ** np.arange(1, 16, dtype=np.int64)


def _id_order(numbers: Ints) -> Ints:
    """Integers that sort like the public ids "INC-<number>" sort as text: the digits
    left-aligned (so "INC-10" < "INC-9"), then the shorter first ("INC-1" < "INC-10").
    Arithmetic below 10**15; ranks of the texts themselves above (never seen in practice)."""
    if len(numbers) and int(numbers.max()) >= 10**15:
        texts = np.array([str(n) for n in numbers.tolist()])
        rank = np.empty(len(numbers), np.int64)
        rank[np.argsort(texts, kind="stable")] = np.arange(len(numbers), dtype=np.int64)
        return rank
    digits = np.searchsorted(_POWERS, numbers, "right") + 1
    return numbers * 10 ** (15 - digits) * 32 + digits


def _first_met(codes: Ints) -> Ints:
    """The distinct values of `codes` (≥ 0) in the order of their first appearance: each
    value's first index in one pass (no sort of `codes`)."""
    if not len(codes):
        return codes
    first = np.full(int(codes.max()) + 1, len(codes), np.int64)
    np.minimum.at(first, codes, np.arange(len(codes), dtype=np.int64))
    seen = np.flatnonzero(first < len(codes))
    return seen[np.argsort(first[seen])]


def _by_key_then_tie(key: Floats, tie: Ints) -> Ints:
    """The permutation sorting by `key`, equal keys by `tie`: one sort of the keys, then
    only the runs of equal keys (few: instants to the microsecond) sorted by both."""
    order = np.argsort(key)
    ordered = key[order]
    tied = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(tied):
        slots = np.union1d(tied, tied + 1)  # every member of every run, runs in key order
        members = order[slots]
        order[slots] = members[np.lexsort((tie[members], key[members]))]
    return order


def _stable_order(codes: Ints) -> Ints:
    """The permutation sorting `codes` (≥ -1), equal codes keeping their order: a radix
    sort when they fit in 16 bits."""
    if not len(codes) or int(codes.max()) < 32_000:
        return np.argsort((codes + 1).astype(np.int16), kind="stable")
    return np.argsort(codes, kind="stable")


class ArrayMetrics:
    """The figures of `table` for `include_types` (None: every type but gameday and
    maintenance); see the module docstring. Each metric's samples are sorted once and
    reused by every grouping."""

    def __init__(self, table: IncidentArrays, include_types: Collection[str] | None = None):
        self.table = table
        names = table.type_names
        keep_code = np.array([type_included(t, include_types) for t in names] or [True])
        kept_mask = keep_code[table.type] if len(table.type) else np.zeros(0, np.bool_)
        self.kept: Ints = np.flatnonzero(kept_mask).astype(np.int64)
        dropped = table.type[~kept_mask]
        counted = np.bincount(dropped, minlength=len(names))
        self.excluded_by_type: dict[str, int] = {  # in the order first met, as core
            names[code]: int(counted[code]) for code in _first_met(dropped).tolist()
        }
        self._samples: dict[str, _Samples] = {}
        self._ranked: dict[str, _Ranked] = {}
        self._months: dict[tzinfo, tuple[Ints, list[Any]]] = {}

    # -- samples ----------------------------------------------------------------------------

    def samples(self, metric_id: str) -> _Samples:
        found = self._samples.get(metric_id)
        if found is None:
            definition = metric_definition(metric_id)
            if metric_id == TBF:
                found = self._gap_samples()
            else:
                assert definition.start is not None and definition.end is not None
                start = self.table.column(definition.start)[self.kept]
                found = _Samples(self.kept, self.table.column(definition.end)[self.kept] - start)
            self._samples[metric_id] = found
        return found

    def _gap_samples(self) -> _Samples:
        """Per service (by slug), its undated incidents (missing), then each dated one but
        the first with the gap since the previous one resolved, ordered by (started, id)."""
        table, links = self.table, self.table.links("service")
        kept = np.zeros(len(table.numbers), np.bool_)
        kept[self.kept] = True
        on = kept[links.position]
        position, service = links.position[on], links.code[on]
        started, resolved = table.column("started"), table.column("resolved")
        dated = ~np.isnan(started[position])
        key = np.where(dated, started[position], 0.0)
        tie = np.where(dated, _id_order(table.numbers[position]), position)
        # as np.lexsort((tie, key, dated, service)) orders them, in a third of its time:
        # by (key, tie), then a stable radix sort by service and dated
        order = _by_key_then_tie(key, tie)
        order = order[_stable_order(service[order] * 2 + dated[order])]
        p, s, d = position[order], service[order], dated[order]
        same = (s[1:] == s[:-1]) & d[1:] & d[:-1]
        follows = np.concatenate(([False], same))
        keep = ~d | follows
        gap = np.full(len(p), np.nan)
        after = np.flatnonzero(follows)
        gap[after] = started[p[after]] - resolved[p[after - 1]]
        return _Samples(p[keep], gap[keep], s[keep])

    def _rank(self, metric_id: str) -> _Ranked:
        found = self._ranked.get(metric_id)
        if found is None:
            micros = self.samples(metric_id).micros
            missing = np.isnan(micros)
            bad_mask = missing | (micros < 0)
            good = np.flatnonzero(~bad_mask)
            order = good[np.argsort(micros[good])]  # ties in any order: same values
            rank = np.full(len(micros), -1, np.int64)
            rank[order] = np.arange(len(order))
            bad = np.flatnonzero(bad_mask)
            found = _Ranked(micros[order] / 1_000_000, order, rank, bad, missing[bad])
            self._ranked[metric_id] = found
        return found

    def _missing_id(self, metric_id: str) -> Callable[[int], str]:
        incident, public_id = self.samples(metric_id).incident, self.table.public_id
        return lambda sample: public_id(int(incident[sample]))

    def _out_of_order(self, metric_id: str) -> Callable[[int], OutOfOrder]:
        data, public_id = self.samples(metric_id), self.table.public_id
        return lambda sample: OutOfOrder(
            public_id(int(data.incident[sample])), float(data.micros[sample]) / 1_000_000
        )

    # -- groups -----------------------------------------------------------------------------

    def _grouped(
        self, metric_id: str, rows: Ints | None, codes: Ints | None, keys: Sequence[int],
        label: Callable[[int], str], with_mean: bool,
    ) -> tuple[MetricGroup, ...]:  # fmt: skip
        """One group per key in `keys`. `codes` holds the key of each of `rows` (sample
        indexes; a sample may appear under several codes); `rows` None: one code per
        sample; `codes` None: every sample under the one key.

        With one code per sample, a stable sort of the codes in value order (a radix sort
        for small codes) puts each group's values in order. Otherwise each side is one
        integer sort of (code + 1) · n + the sample's rank among the present values (or
        its index among the others)."""
        ranked = self._rank(metric_id)
        seconds, bad = ranked.seconds, ranked.bad
        if codes is None:
            good_codes, values = np.zeros(len(seconds), np.int64), seconds
            bad_codes, bad_index = np.zeros(len(bad), np.int64), np.arange(len(bad))
        elif rows is None:
            in_order = codes[ranked.order]
            perm = _stable_order(in_order)
            good_codes, values = in_order[perm], seconds[perm]
            bad_index = _stable_order(codes[bad])
            bad_codes = codes[bad][bad_index]
        else:
            shifted = codes + 1
            rank = ranked.rank[rows]
            good = rank >= 0
            width = len(seconds) + 1
            key = np.sort(shifted[good] * width + rank[good])
            good_codes, values = key // width - 1, seconds[key % width]
            width = len(bad) + 1
            other = np.flatnonzero(~good)
            key = np.sort(shifted[other] * width + np.searchsorted(bad, rows[other]))
            bad_codes, bad_index = key // width - 1, key % width
        wanted = np.asarray(keys, dtype=np.int64)
        lo = np.searchsorted(good_codes, wanted, "left").tolist()
        hi = np.searchsorted(good_codes, wanted, "right").tolist()
        bad_lo = np.searchsorted(bad_codes, wanted, "left").tolist()
        bad_hi = np.searchsorted(bad_codes, wanted, "right").tolist()
        missing_id, out_of_order = self._missing_id(metric_id), self._out_of_order(metric_id)
        groups = []
        for k, key_ in enumerate(keys):
            listed = bad_index[bad_lo[k] : bad_hi[k]]
            is_missing = ranked.missing[listed]
            missing = Listed(missing_id, bad[listed[is_missing]])
            present = Values(values[lo[k] : hi[k]])
            groups.append(MetricGroup(
                label(key_),
                distribution_of_sorted(present, len(missing), with_mean=with_mean),
                missing, Listed(out_of_order, bad[listed[~is_missing]]),
            ))  # fmt: skip
        return tuple(groups)

    def _split(self, data: _Samples, group_by: str) -> tuple[Ints | None, Ints, list[str]]:
        """(sample rows, codes, names) of a grouping (rows None: one code per sample);
        code -1 is "(none)"."""
        if group_by == "severity":
            return None, self.table.severity[data.incident], self.table.severity_names
        if group_by == "service" and data.service is not None:
            return None, data.service, self.table.links("service").names
        links = self.table.links(group_by)
        rows, codes = links.of(data.incident)
        if len(rows) == len(data.incident):  # at most one link each: one code per sample
            return None, codes, links.names
        return rows, codes, links.names

    def report(
        self, metric_id: str, *, group_by: GroupBy | None = None, with_mean: bool = False
    ) -> MetricReport:
        """The metric's distribution overall (one group "all") or per severity, service or
        team, groups sorted by key."""
        if group_by not in (None, "severity", "service", "team"):
            raise ValidationError(f"cannot group by {group_by!r}", field="group_by")
        data = self.samples(metric_id)
        groups: tuple[MetricGroup, ...] = ()
        if group_by is None:
            if len(data.incident):
                groups = self._grouped(metric_id, None, None, [0], lambda _: ALL, with_mean)
        else:
            rows, codes, names = self._split(data, group_by)
            labels = [*names, NO_GROUP]  # code -1 reads the last one
            used = np.flatnonzero(np.bincount(codes + 1, minlength=1)) - 1
            keys = sorted(used.tolist(), key=labels.__getitem__)
            groups = self._grouped(metric_id, rows, codes, keys, labels.__getitem__, with_mean)
        return MetricReport(METRICS[metric_id], group_by, groups, dict(self.excluded_by_type))

    # -- time -------------------------------------------------------------------------------

    def months(self, zone: tzinfo) -> tuple[Ints, list[Any]]:
        """Per incident, the index of its local month of placement in the list of month
        starts returned beside it (-1 when undated)."""
        found = self._months.get(zone)
        if found is None:
            placed = self.table.placed
            dated = ~np.isnan(placed)
            if not dated.any():
                found = (np.full(len(placed), -1, np.int64), [])
            else:
                low, high = int(placed[dated].min()), int(placed[dated].max())
                starts, bounds, unsafe = month_bounds(low, high, zone)
                if unsafe:
                    instants = [None if math.isnan(v) else int(v) for v in placed.tolist()]
                    index = np.array(local_months(instants, starts, zone), np.int64)
                else:
                    index = np.searchsorted(np.array(bounds, np.float64), placed, "right")
                    index = np.where(dated, index, -1).astype(np.int64)
                found = (index, starts)
            self._months[zone] = found
        return found

    def monthly_medians(self, metric_id: str, tz: str | tzinfo, *,
                        with_mean: bool = False) -> Trend:  # fmt: skip
        """The metric's distribution per local calendar month (in `tz`) of each incident's
        placement, empty months between the first and last included; a sample of time
        between failures belongs to the month of the later incident."""
        definition = metric_definition(metric_id)
        zone = require_zone(tz)
        data = self.samples(metric_id)
        index, starts = self.months(zone)
        codes = index[data.incident]
        dated = codes >= 0
        span = range(int(codes[dated].min()), int(codes[dated].max()) + 1) if dated.any() else ()
        points = self._grouped(metric_id, None, codes, list(span),
                               lambda k: month_label(starts[k]), with_mean)  # fmt: skip
        undated = tuple(self.table.public_id(int(i)) for i in data.incident[~dated].tolist())
        return Trend(definition, points, undated)

    def counts_over_time(self, tz: str | tzinfo = "UTC") -> CountSeries:
        """How many measured incidents were placed in each local calendar month, by severity
        (severities in the order first met)."""
        zone = require_zone(tz)
        index, starts = self.months(zone)
        months = index[self.kept]
        severity = self.table.severity[self.kept]
        names = self.table.severity_names
        undated = tuple(self.table.public_id(int(i)) for i in self.kept[months < 0].tolist())
        dated = months >= 0
        width = max(len(names), 1)
        keys = months[dated] * width + severity[dated]
        pairs = np.bincount(keys)
        counts: dict[int, dict[str, int]] = {}
        for pair in _first_met(keys).tolist():  # severities in the order first met, as core
            month, code = divmod(pair, width)
            counts.setdefault(month, {})[names[code]] = int(pairs[pair])
        span = range(min(counts), max(counts) + 1) if counts else range(0)
        buckets = tuple(
            CountBucket(month_label(starts[k]), starts[k], sum(counts.get(k, {}).values()),
                          dict(counts.get(k, {})))
            for k in span
        )  # fmt: skip
        return CountSeries("month", buckets, undated)

    # -- problems ---------------------------------------------------------------------------

    def _problem_members(self) -> list[tuple[str, Ints]]:
        """Per problem linked to a measured incident: its key and the positions of those
        incidents, in number order."""
        problem = self.table.problem
        linked = self.kept[problem[self.kept] > 0]
        order = np.argsort(problem[linked], kind="stable")
        linked = linked[order]
        ids = problem[linked]
        first = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))[: len(ids)]
        bounds = [*first.tolist(), len(ids)]
        keys = self.table.problem_keys
        return [(keys[int(ids[a])], linked[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]

    def recurring_problems(self, *, min_incidents: int = 2) -> list[Recurrence]:
        """Problems linked to at least `min_incidents` measured incidents, most first."""
        placed, public_id = self.table.placed, self.table.public_id
        services = self.table.links("service")
        found = []
        for problem, members in self._problem_members():
            if len(members) < min_incidents:
                continue
            times = placed[members]
            times = times[~np.isnan(times)]
            _, codes = services.of(members)  # codes ascending: the sorted names' order
            found.append(Recurrence(
                problem, tuple(map(public_id, members.tolist())),
                from_micros(int(times.min())) if len(times) else None,
                from_micros(int(times.max())) if len(times) else None,
                tuple(services.names[c] for c in np.unique(codes[codes >= 0]).tolist()),
            ))  # fmt: skip
        return sorted(found, key=lambda r: (-len(r.incident_ids), r.problem))

    def per_problem(self) -> list[tuple[str, int]]:
        """Incidents per problem, most first (ties by problem key)."""
        counts = [(key, len(members)) for key, members in self._problem_members()]
        return sorted(counts, key=lambda kv: (-kv[1], kv[0]))

    def kept_severities(self) -> Counter[str]:
        """How many measured incidents each severity has."""
        names = self.table.severity_names
        found = np.bincount(self.table.severity[self.kept], minlength=len(names))
        return Counter({names[c]: int(found[c]) for c in np.flatnonzero(found).tolist()})

    # -- service level agreements -----------------------------------------------------------

    def sla(self, target: SLATarget, tiers: Sequence[str | None]) -> SLAResult:
        """Compliance with `target` over the measured incidents it applies to (its
        severity and customer tier; `tiers` holds each incident's tier, None for none),
        measured from `measured_from` to `milestone`: reaching it exactly at the target is
        met; a missing milestone is listed as missing, one out of order as out of order;
        rate = met ÷ (met + breached), None when nothing was measured."""
        table, kept = self.table, self.kept
        applies = np.ones(len(kept), np.bool_)
        if target.severity is not None:
            names = table.severity_names
            code = names.index(target.severity) if target.severity in names else -2
            applies &= table.severity[kept] == code
        if target.tier is not None:
            applies &= np.array([tiers[i] == target.tier for i in kept.tolist()], np.bool_)
        took = table.column(target.milestone)[kept] - table.column(target.measured_from)[kept]
        missing = applies & np.isnan(took)
        disorder = applies & (took < 0)
        within = target.within // timedelta(microseconds=1)
        met = applies & (took >= 0) & (took <= within)
        breached = applies & (took > within)
        public_id = table.public_id

        def breach(position: int) -> Breach:
            micros = int(table.column(target.milestone)[position]
                         - table.column(target.measured_from)[position])  # fmt: skip
            return Breach(public_id(position), timedelta(microseconds=micros),
                            timedelta(microseconds=micros - within))  # fmt: skip

        measured = int(met.sum() + breached.sum())
        return SLAResult(
            target,
            Listed(public_id, kept[met]),
            Listed(breach, kept[breached]),
            Listed(public_id, kept[missing]),
            Listed(public_id, kept[disorder]),
            int(met.sum()) / measured if measured else None,
            measured < SMALL_SAMPLE_SIZE,
        )
