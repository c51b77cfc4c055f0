"""The insights dashboard's figures computed over numpy arrays.

Lives here: `IncidentArrays` (the matching incidents column by column, milestones as epoch
microseconds held exactly in float64, NaN = not recorded) and `ArrayMetrics`, whose
`report`, `monthly_medians`, `counts_over_time`, `recurring_problems`, `per_problem` and
`kept_severities` return exactly what `core.metrics.ColumnarMetrics` returns for the same
incidents, and `sla` what `core.metrics.sla_compliance` does: the same objects, the same
float values bit for bit (hypothesis tests compare both on random incidents). The rules
stay in core; this module only moves the sorting and grouping of 100,000 values out of
Python objects, which the dashboard's speed target needs (Python lists cost about ten
times numpy's sorts and gathers here).

Why float64 is exact: an instant in microseconds stays below 2**53 until the year 2255,
and a difference of two such integers is exact in float64, so `duration / 1e6` rounds the
same exact quotient that Python's `int / int` rounds. `fits` refuses tables with an
instant outside ±2**53 µs; the caller then uses the pure-Python path.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from typing import Any, TypeVar, cast, overload

import numpy as np
import numpy.typing as npt

from afteraction.core import metrics as m
from afteraction.core.errors import ValidationError
from afteraction.core.metrics._common import (
    NO_GROUP,
    month_label,
    require_zone,
    type_included,
)
from afteraction.core.metrics.columnar import from_micros, local_months, month_bounds
from afteraction.core.metrics.definitions import METRICS
from afteraction.core.metrics.durations import ALL, TBF, metric_definition
from afteraction.core.metrics.stats import SMALL_SAMPLE_SIZE, distribution_of_sorted

T = TypeVar("T")
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

EXACT_LIMIT = float(2**53)
"""Instants (µs) at or beyond this magnitude are not exact in float64."""
_NO_CODE = -1
"""The code of the "(none)" group: no service, or no team."""


class Listed(Sequence[T]):
    """What a group lists (missing incidents, or those out of order), made when read: a
    group of 40,000 out-of-order gaps is usually only counted. Equal to any sequence with
    the same items."""

    __slots__ = ("make", "samples")

    def __init__(self, make: Callable[[int], T], samples: Ints) -> None:
        self.make, self.samples = make, samples

    def __len__(self) -> int:
        return len(self.samples)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self.make(i) for i in self.samples[index].tolist()]
        return self.make(int(self.samples[index]))

    def __iter__(self) -> Iterator[T]:
        return map(self.make, self.samples.tolist())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Listed({list(self)!r})"


class Values(Sequence[float]):
    """A sorted float64 array as a read-only sequence of Python floats (a distribution's
    values: 100,000 of them are read in about 25 places for a strip chart, never all
    copied). Equal to any sequence with the same values."""

    __slots__ = ("array",)

    def __init__(self, array: Floats) -> None:
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    @overload
    def __getitem__(self, index: int) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> list[float]: ...
    def __getitem__(self, index: int | slice) -> float | list[float]:
        if isinstance(index, slice):
            return cast(list[float], self.array[index].tolist())
        return float(self.array[index])

    def __iter__(self) -> Iterator[float]:
        return iter(cast(list[float], self.array.tolist()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Values):
            return bool(np.array_equal(self.array, other.array))
        if not isinstance(other, Sequence) or len(other) != len(self):
            return False
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Values({list(self)!r})"


@dataclass(frozen=True, slots=True)
class Links:
    """incident ↔ entity links: per link the incident's position (ascending) and the
    entity's code, codes being indexes into `names` (sorted)."""

    position: Ints
    code: Ints
    names: list[str]

    def of(self, positions: Ints) -> tuple[Ints, Ints]:
        """(index into `positions`, code) for every link of each of `positions`; a
        position without links gives one row with code -1 (the "(none)" group)."""
        lo = np.searchsorted(self.position, positions, "left")
        per = np.searchsorted(self.position, positions, "right") - lo
        width = np.maximum(per, 1)
        rows = np.repeat(np.arange(len(positions), dtype=np.int64), width)
        within = np.arange(len(rows), dtype=np.int64) - np.repeat(np.cumsum(width) - width, width)
        codes = np.full(len(rows), _NO_CODE, np.int64)
        linked = np.repeat(per > 0, width)
        codes[linked] = self.code[(np.repeat(lo, width) + within)[linked]]
        return rows, codes

    def slugs(self, position: int) -> tuple[str, ...]:
        lo, hi = np.searchsorted(self.position, [position, position + 1]).tolist()
        return tuple(sorted(self.names[c] for c in self.code[lo:hi].tolist()))


@dataclass(frozen=True, slots=True)
class IncidentArrays:
    """The matching incidents in number order, one array entry per incident. Codes index
    the sorted `severity_names` and `type_names`; `problem` holds problem ids (0 = none)
    named by `problem_keys`."""

    numbers: Ints
    severity: Ints
    severity_names: list[str]
    type: Ints
    type_names: list[str]
    problem: Ints
    problem_keys: dict[int, str]
    milestones: dict[str, Floats]
    placed: Floats
    services: Links
    teams: Links

    def fits(self) -> bool:
        """Every instant is exact in float64 (see the module docstring), and every
        incident number below 10**15."""
        if len(self.numbers) and int(self.numbers.max()) >= 10**15:
            return False
        for column in (*self.milestones.values(), self.placed):
            present = column[~np.isnan(column)]
            if len(present) and float(np.abs(present).max()) >= EXACT_LIMIT:
                return False
        return True

    def public_id(self, position: int) -> str:
        return f"INC-{int(self.numbers[position])}"

    def column(self, name: str) -> Floats:
        """A milestone's column (all NaN when not read)."""
        found = self.milestones.get(name)
        return found if found is not None else np.full(len(self.numbers), np.nan)


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
    Exact for numbers below 10**15 (`IncidentArrays.fits` refuses larger ones)."""
    digits = np.searchsorted(_POWERS, numbers, "right") + 1
    return numbers * 10 ** (15 - digits) * 32 + digits


def _first_met(codes: Ints) -> Ints:
    """The distinct values of `codes` in the order of their first appearance."""
    distinct, first = np.unique(codes, return_index=True)
    return distinct[np.argsort(first)]


def _stable_order(codes: Ints) -> Ints:
    """The permutation sorting `codes` (≥ -1), equal codes keeping their order: a radix
    sort when they fit in 16 bits."""
    if not len(codes) or int(codes.max()) < 32_000:
        return np.argsort((codes + 1).astype(np.int16), kind="stable")
    return np.argsort(codes, kind="stable")


class ArrayMetrics:
    """`core.metrics.ColumnarMetrics` over `IncidentArrays`; see the module docstring."""

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
        table, links = self.table, self.table.services
        kept = np.zeros(len(table.numbers), np.bool_)
        kept[self.kept] = True
        on = kept[links.position]
        position, service = links.position[on], links.code[on]
        started, resolved = table.column("started"), table.column("resolved")
        dated = ~np.isnan(started[position])
        key = np.where(dated, started[position], 0.0)
        tie = np.where(dated, _id_order(table.numbers[position]), position)
        order = np.lexsort((tie, key, dated, service))
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

    def _out_of_order(self, metric_id: str) -> Callable[[int], m.OutOfOrder]:
        data, public_id = self.samples(metric_id), self.table.public_id
        return lambda sample: m.OutOfOrder(
            public_id(int(data.incident[sample])), float(data.micros[sample]) / 1_000_000
        )

    # -- groups -----------------------------------------------------------------------------

    def _grouped(
        self, metric_id: str, rows: Ints | None, codes: Ints | None, keys: Sequence[int],
        label: Callable[[int], str], with_mean: bool,
    ) -> tuple[m.MetricGroup, ...]:  # fmt: skip
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
            groups.append(m.MetricGroup(
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
            return None, data.service, self.table.services.names
        links = self.table.services if group_by == "service" else self.table.teams
        rows, codes = links.of(data.incident)
        return rows, codes, links.names

    def report(
        self, metric_id: str, *, group_by: m.GroupBy | None = None, with_mean: bool = False
    ) -> m.MetricReport:
        """What `ColumnarMetrics.report` returns for the same incidents and arguments."""
        if group_by not in (None, "severity", "service", "team"):
            raise ValidationError(f"cannot group by {group_by!r}", field="group_by")
        data = self.samples(metric_id)
        groups: tuple[m.MetricGroup, ...] = ()
        if group_by is None:
            if len(data.incident):
                groups = self._grouped(metric_id, None, None, [0], lambda _: ALL, with_mean)
        else:
            rows, codes, names = self._split(data, group_by)
            labels = [*names, NO_GROUP]  # code -1 reads the last one
            used = np.flatnonzero(np.bincount(codes + 1, minlength=1)) - 1
            keys = sorted(used.tolist(), key=labels.__getitem__)
            groups = self._grouped(metric_id, rows, codes, keys, labels.__getitem__, with_mean)
        return m.MetricReport(METRICS[metric_id], group_by, groups, dict(self.excluded_by_type))

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
                        with_mean: bool = False) -> m.Trend:  # fmt: skip
        """What `ColumnarMetrics.monthly_medians` returns for the same arguments."""
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
        return m.Trend(definition, points, undated)

    def counts_over_time(self, tz: str | tzinfo = "UTC") -> m.CountSeries:
        """What `ColumnarMetrics.counts_over_time` returns for the same incidents."""
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
            m.CountBucket(month_label(starts[k]), starts[k], sum(counts.get(k, {}).values()),
                          dict(counts.get(k, {})))
            for k in span
        )  # fmt: skip
        return m.CountSeries("month", buckets, undated)

    # -- problems ---------------------------------------------------------------------------

    def _kept_problems(self) -> list[tuple[int, str]]:
        """(position, problem key) of the measured incidents linked to a problem."""
        problem, keys = self.table.problem, self.table.problem_keys
        linked = self.kept[problem[self.kept] > 0].tolist()
        return [(i, keys[int(problem[i])]) for i in linked]

    def recurring_problems(self, *, min_incidents: int = 2) -> list[m.Recurrence]:
        """What `ColumnarMetrics.recurring_problems` returns for the same incidents."""
        by_problem: dict[str, list[int]] = {}
        for i, key in self._kept_problems():
            by_problem.setdefault(key, []).append(i)
        placed = self.table.placed
        found = []
        for problem, members in by_problem.items():
            if len(members) < min_incidents:
                continue
            times = [int(t) for t in placed[members].tolist() if not math.isnan(t)]
            found.append(m.Recurrence(
                problem, tuple(self.table.public_id(i) for i in members),
                from_micros(min(times)) if times else None,
                from_micros(max(times)) if times else None,
                tuple(sorted({s for i in members for s in self.table.services.slugs(i)})),
            ))  # fmt: skip
        return sorted(found, key=lambda r: (-len(r.incident_ids), r.problem))

    def per_problem(self) -> list[tuple[str, int]]:
        """Incidents per problem, most first (ties by problem key)."""
        counts = Counter(key for _, key in self._kept_problems())
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def kept_severities(self) -> Counter[str]:
        """How many measured incidents each severity has."""
        names = self.table.severity_names
        found = np.bincount(self.table.severity[self.kept], minlength=len(names))
        return Counter({names[c]: int(found[c]) for c in np.flatnonzero(found).tolist()})

    # -- service level agreements -----------------------------------------------------------

    def sla(self, target: m.SLATarget, tiers: Sequence[str | None]) -> m.SLAResult:
        """What `core.metrics.sla_compliance` gives for `target` over the measured
        incidents, `tiers` being each incident's customer tier (None: none)."""
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

        def breach(position: int) -> m.Breach:
            micros = int(table.column(target.milestone)[position]
                         - table.column(target.measured_from)[position])  # fmt: skip
            return m.Breach(public_id(position), timedelta(microseconds=micros),
                            timedelta(microseconds=micros - within))  # fmt: skip

        measured = int(met.sum() + breached.sum())
        return m.SLAResult(
            target,
            Listed(public_id, kept[met]),
            Listed(breach, kept[breached]),
            Listed(public_id, kept[missing]),
            Listed(public_id, kept[disorder]),
            int(met.sum()) / measured if measured else None,
            measured < SMALL_SAMPLE_SIZE,
        )
