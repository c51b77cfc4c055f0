"""Percentiles and distributions: hand-made cases and property tests against the stdlib
(and numpy when it is installed)."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import afteraction.core.metrics as metrics
from afteraction.core.errors import ValidationError
from afteraction.core.metrics import SMALL_SAMPLE_SIZE, percentile, summarize

FAST = settings(max_examples=150, deadline=None)
finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
durations = st.floats(min_value=0, max_value=1e8, allow_nan=False, allow_infinity=False)


def close(a: float, b: float, scale: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9 * max(1.0, scale))


def test_percentile_hand_made() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10], 90) == 10
    assert percentile([4, 1, 3, 2], 0) == 1
    assert percentile([4, 1, 3, 2], 100) == 4
    assert percentile([0, 10], 90) == 9
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == pytest.approx(9.1)


@pytest.mark.parametrize("q", [-1, 100.5, float("nan")])
def test_percentile_rejects_q_out_of_range(q: float) -> None:
    with pytest.raises(ValidationError) as caught:
        percentile([1, 2], q)
    assert caught.value.field == "q"


def test_percentile_rejects_empty_and_non_finite() -> None:
    with pytest.raises(ValidationError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValidationError, match="finite"):
        percentile([1, float("inf")], 50)


@FAST
@given(st.lists(finite, min_size=2, max_size=60), st.integers(min_value=1, max_value=99))
def test_percentile_matches_statistics_quantiles(values: list[float], q: int) -> None:
    expected = statistics.quantiles(values, n=100, method="inclusive")[q - 1]
    scale = max(abs(v) for v in values)
    assert close(percentile(values, q), expected, scale)


@FAST
@given(st.lists(finite, min_size=1, max_size=60), st.floats(min_value=0, max_value=100))
def test_percentile_matches_numpy(values: list[float], q: float) -> None:
    numpy = pytest.importorskip("numpy")
    expected = float(numpy.percentile(numpy.array(values), q))
    assert close(percentile(values, q), expected, max(abs(v) for v in values))


@FAST
@given(st.lists(finite, min_size=1, max_size=60), st.floats(min_value=0, max_value=100))
def test_percentile_stays_within_data_and_ignores_order(values: list[float], q: float) -> None:
    result = percentile(values, q)
    assert min(values) <= result <= max(values)
    assert percentile(list(reversed(values)), q) == result


@FAST
@given(st.lists(st.one_of(st.none(), durations), max_size=40))
def test_missing_never_counts_as_zero(values: list[float | None]) -> None:
    present = [v for v in values if v is not None]
    summary = summarize(values)
    assert summary.count == len(present)
    assert summary.missing == len(values) - len(present)
    assert summary.values == tuple(sorted(present))
    assert summary == summarize(present + [None] * summary.missing)
    if present:
        assert summary.min == min(present)
        assert summary.median == percentile(present, 50)
    else:
        assert summary.median is None and summary.max is None


def test_summarize_mean_only_on_request_and_small_sample() -> None:
    plain = summarize([1.0, 2.0, 9.0, None])
    assert plain.mean is None
    assert plain.missing == 1
    assert plain.small_sample is True
    assert (plain.min, plain.median, plain.max) == (1.0, 2.0, 9.0)
    with_mean = summarize([1.0, 2.0, 9.0, None], with_mean=True)
    assert with_mean.mean == 4.0
    assert summarize(range(SMALL_SAMPLE_SIZE)).small_sample is False
    assert summarize(range(SMALL_SAMPLE_SIZE - 1)).small_sample is True


def test_summarize_nothing() -> None:
    empty = summarize([None, None])
    assert empty.count == 0 and empty.missing == 2 and empty.small_sample
    assert empty.values == ()


def test_package_exports_are_pinned() -> None:
    assert sorted(metrics.__all__) == sorted(set(metrics.__all__))
    for name in metrics.__all__:
        assert hasattr(metrics, name), name
    assert {"percentile", "summarize", "ArrayMetrics", "oncall_load", "silo_index"} <= set(
        metrics.__all__
    )
