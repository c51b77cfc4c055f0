"""Impact duration (method.md section 2: the sum of customer-impact intervals): overlaps
counted once, missing (never zero) when nothing is recorded or an interval is still open,
and intervals checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afteraction.core.errors import ValidationError
from afteraction.core.metrics.impact import (
    ImpactInterval,
    check_interval,
    impact_seconds,
    merged,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_disjoint_intervals_add_up_and_overlaps_count_once() -> None:
    assert impact_seconds([ImpactInterval(at(0), at(10)), ImpactInterval(at(30), at(35))]) == 900
    overlapping = [ImpactInterval(at(0), at(10)), ImpactInterval(at(5), at(20))]
    assert impact_seconds(overlapping) == 20 * 60
    touching = [ImpactInterval(at(10), at(20)), ImpactInterval(at(0), at(10))]
    assert merged(touching) == [ImpactInterval(at(0), at(20))]
    inside = [ImpactInterval(at(0), at(60)), ImpactInterval(at(10), at(20))]
    assert impact_seconds(inside) == 3600


def test_missing_is_never_zero() -> None:
    assert impact_seconds([]) is None
    assert impact_seconds([ImpactInterval(at(0), at(10)), ImpactInterval(at(20))]) is None
    assert impact_seconds([ImpactInterval(at(5), at(5))]) == 0  # recorded, zero-length


def test_intervals_are_checked() -> None:
    with pytest.raises(ValidationError) as ended_early:
        check_interval(at(10), at(5))
    assert ended_early.value.field == "end"
    with pytest.raises(ValidationError) as naive:
        check_interval(datetime(2026, 3, 2, 10, 0), None)  # noqa: DTZ001
    assert naive.value.field == "start"
    assert check_interval(at(0), None) == ImpactInterval(at(0), None)


spans = st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(0, 600)).map(
        lambda p: ImpactInterval(at(p[0]), at(p[0] + p[1]))
    ),
    min_size=1,
    max_size=30,
)


@given(spans)
def test_union_is_bounded_by_the_sum_and_the_span_and_ignores_order(
    items: list[ImpactInterval],
) -> None:
    total = impact_seconds(items)
    assert total is not None
    plain_sum = sum((i.end - i.start).total_seconds() for i in items if i.end)
    span = (max(i.end for i in items if i.end) - min(i.start for i in items)).total_seconds()
    assert 0 <= total <= min(plain_sum, span)
    assert impact_seconds(list(reversed(items))) == total
    assert impact_seconds(items + items) == total  # recording the same outage twice
    minute_set = {m for i in items for m in range(int((i.start - T0).total_seconds() // 60),
                                                  int((i.end - T0).total_seconds() // 60))}  # fmt: skip  # noqa: E501
    assert total == len(minute_set) * 60  # whole-minute intervals: the union counted by minute
    result = merged(items)
    assert all(a.end is not None and a.end < b.start for a, b in pairwise(result))
