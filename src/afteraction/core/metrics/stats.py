"""Percentiles and distribution summaries: the only statistics the dashboards show.

Lives here: `percentile` (linear interpolation between closest ranks, the same numbers as
`statistics.quantiles(..., method="inclusive")` and numpy's default) and `summarize`, which
turns a list of values with gaps (None = missing) into a `Distribution`.
Must not live here: anything that knows about incidents, pages or SLOs.

Durations are skewed, so a `Distribution` leads with median, p90 and max; the mean is only
computed when asked for, and any figure built from fewer than `SMALL_SAMPLE_SIZE` values is
flagged `small_sample`. Missing values are counted, never treated as zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from afteraction.core.errors import ValidationError

SMALL_SAMPLE_SIZE = 10
"""Figures computed from fewer values than this are labelled "small sample"."""


def _finite(values: Iterable[float]) -> list[float]:
    checked = []
    for value in values:
        number = float(value)
        if not math.isfinite(number):
            raise ValidationError(
                f"cannot summarise {value!r}: not a finite number", field="values"
            )
        checked.append(number)
    return checked


def _percentile_of_sorted(data: Sequence[float], q: float) -> float:
    if type(q) is int:  # whole percentiles (the dashboards' 50 and 90): integer arithmetic
        low, rest = divmod((len(data) - 1) * q, 100)
        if rest == 0:
            return data[low]
        weight = rest / 100  # the same float as float(Fraction(rest, 100))
    else:
        position = Fraction(len(data) - 1) * Fraction(q) / 100
        low = math.floor(position)
        if position == low:
            return data[low]
        weight = float(position - low)
    a, b = data[low], data[low + 1]
    result = a + (b - a) * weight
    return min(max(result, a), b)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0 ≤ q ≤ 100) by linear interpolation between closest ranks.

    With n sorted values x[0..n-1], the position is h = (n − 1) · q / 100 and the result is
    x[⌊h⌋] + (h − ⌊h⌋) · (x[⌊h⌋+1] − x[⌊h⌋]): numpy's default ("linear") and
    `statistics.quantiles(values, n=100, method="inclusive")[q - 1]` for whole q. The result
    never leaves the range of the data. No values, or a non-finite value, is a ValidationError.
    """
    if not 0 <= q <= 100:
        raise ValidationError(f"percentile must be between 0 and 100, got {q!r}", field="q")
    data = sorted(_finite(values))
    if not data:
        raise ValidationError("a percentile of no values is undefined", field="values")
    return _percentile_of_sorted(data, q)


@dataclass(frozen=True, slots=True)
class Distribution:
    """Summary of one metric over a set of incidents (or weeks, or people).

    `count` values were present and `missing` were not (missing values are never zero).
    Order statistics are None when `count` is 0; `mean` is None unless asked for.
    `values` holds the present values, sorted, for strip plots and histograms.
    """

    count: int
    missing: int
    min: float | None
    median: float | None
    p90: float | None
    max: float | None
    mean: float | None
    small_sample: bool
    values: Sequence[float]


def summarize(values: Iterable[float | None], *, with_mean: bool = False) -> Distribution:
    """Summarise values where None means missing; see `Distribution`."""
    materialised = list(values)
    present = sorted(_finite(v for v in materialised if v is not None))
    return distribution_of_sorted(present, len(materialised) - len(present), with_mean=with_mean)


def distribution_of_sorted(
    present: Sequence[float], missing: int, *, with_mean: bool = False
) -> Distribution:
    """The `Distribution` of values already known finite and sorted ascending.

    A list is copied into the distribution's `values` as a tuple; any other sequence is
    kept as given (a fast path passes a read-only view of an array) and must not change."""
    if not present:
        return Distribution(0, missing, None, None, None, None, None, True, ())
    return Distribution(
        count=len(present),
        missing=missing,
        min=present[0],
        median=_percentile_of_sorted(present, 50),
        p90=_percentile_of_sorted(present, 90),
        max=present[-1],
        mean=math.fsum(present) / len(present) if with_mean else None,
        small_sample=len(present) < SMALL_SAMPLE_SIZE,
        values=tuple(present) if isinstance(present, list) else present,
    )
