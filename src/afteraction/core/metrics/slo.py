"""Service level objectives: count validation, error budgets, burn rates and burn alerts.

Lives here: `SLO`, `CountSample`, `validate_counts`, `error_budget`, `burn_rate`,
`burn_rates`, `BurnRule`, `burn_alerts`, `burn_threshold`, `budget_consumed_during`,
`budget_consumed_by_incidents`. Must not live here: fetching counts from monitoring.

Definitions (Google SRE workbook, "Alerting on SLOs"):
- error budget = (1 − objective) × total events in the SLO window (7, 28 or 30 days);
- burn rate = bad fraction over a window ÷ (1 − objective); burning at 1 spends exactly
  the budget over the SLO window;
- multiwindow alerts: page when the 1 h burn rate exceeds 14.4 (2 % of a 30-day budget in
  an hour) confirmed by the last 5 min; page when the 6 h rate exceeds 6 (5 % in 6 h)
  confirmed by 30 min; open a ticket when the 3 d rate exceeds 1 (10 % in 3 days)
  confirmed by 6 h. The factors are those of a 30-day window; `burn_threshold` gives the
  factor for another window.

A count row `(at, good, total)` holds events counted in the interval that ends at `at`; a
window (a, b] takes every row with a < at ≤ b.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple

from afteraction.core.errors import ValidationError
from afteraction.core.metrics._common import aware
from afteraction.core.metrics.durations import IncidentFacts, included

SLOKind = Literal["availability", "latency"]
WINDOW_DAYS: tuple[int, ...] = (7, 28, 30)


@dataclass(frozen=True, slots=True)
class SLO:
    """An objective such as 0.999 of requests good over a rolling 30 days.

    Latency SLOs count an event as good when it is faster than `latency_threshold_ms`.
    """

    objective: float
    window_days: int = 30
    kind: SLOKind = "availability"
    name: str = ""
    latency_threshold_ms: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.objective < 1:
            raise ValidationError(
                f"objective must be between 0 and 1 exclusive, got {self.objective!r}",
                field="objective",
            )
        if self.window_days not in WINDOW_DAYS:
            raise ValidationError(
                f"window must be 7, 28 or 30 days, got {self.window_days!r}", field="window_days"
            )
        if self.kind not in ("availability", "latency"):
            raise ValidationError(f"unknown SLO kind {self.kind!r}", field="kind")
        if self.kind == "latency" and not (self.latency_threshold_ms or 0) > 0:
            raise ValidationError(
                "a latency SLO needs a positive latency threshold", field="latency_threshold_ms"
            )

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.window_days)


class CountSample(NamedTuple):
    at: datetime
    good: int
    total: int


_INTEGER = re.compile(r"[+-]?\d+")


def _integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _moment(value: object) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value
    return None


def _fields(row: object) -> tuple[object, object, object] | None:
    if isinstance(row, Mapping):
        return row.get("at"), row.get("good"), row.get("total")
    if isinstance(row, Sequence) and not isinstance(row, str) and len(row) == 3:
        return row[0], row[1], row[2]
    return None


def _count_problems(
    raw_good: object, raw_total: object
) -> tuple[list[tuple[str, str]], int | None, int | None]:
    good, total = _integer(raw_good), _integer(raw_total)
    problems = []
    for name, raw, parsed in (("good", raw_good, good), ("total", raw_total, total)):
        if parsed is None:
            problems.append((name, f"{name} {raw!r} is not a whole number"))
        elif parsed < 0:
            problems.append((name, f"{name} ({parsed}) is negative"))
    if good is not None and total is not None and good > total >= 0:
        problems.append(("good", f"good ({good}) is greater than total ({total})"))
    return problems, good, total


def _row_problems(row: object) -> tuple[list[tuple[str, str]], CountSample | None]:
    fields = _fields(row)
    if fields is None:
        return [("row", "expected at, good and total")], None
    at = _moment(fields[0])
    problems, good, total = _count_problems(fields[1], fields[2])
    if at is None:
        problems.insert(0, ("at", f"at {fields[0]!r} is not a date-time with a time zone offset"))
    if problems or at is None or good is None or total is None:
        return problems, None
    return [], CountSample(at, good, total)


def validate_counts(rows: Iterable[object], *, first_row: int = 1) -> list[CountSample]:
    """Parse rows of (at, good, total) — mappings with those keys or 3-item sequences —
    into `CountSample`s; every count must be a whole number ≥ 0 and good ≤ total.

    All rows are checked; the ValidationError names the first bad row and field, and lists
    every problem in `details["problems"]`. Rows are numbered from `first_row` (pass 2 for a
    CSV file whose line 1 is a header).
    """
    parsed: list[CountSample] = []
    problems: list[dict[str, Any]] = []
    for number, row in enumerate(rows, start=first_row):
        found, sample = _row_problems(row)
        problems.extend({"row": number, "field": f, "message": m} for f, m in found)
        if sample is not None:
            parsed.append(sample)
    if problems:
        first = problems[0]
        text = "; ".join(f"row {p['row']}: {p['message']}" for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ValidationError(
            f"invalid SLO counts: {text}{more}",
            field=first["field"],
            details={"row": first["row"], "problems": problems},
        )
    return parsed


@dataclass(frozen=True, slots=True)
class ErrorBudget:
    """`remaining_fraction` is 1 − bad ÷ allowed_bad: negative when overspent, None when
    there were no events (a budget of nothing)."""

    total: int
    bad: int
    allowed_bad: float
    remaining: float
    remaining_fraction: float | None


def error_budget(slo: SLO, good: int, total: int) -> ErrorBudget:
    """The budget for `total` events in the SLO window, of which `good` were good."""
    problems, checked_good, checked_total = _count_problems(good, total)
    if problems or checked_good is None or checked_total is None:
        field, message = problems[0]
        raise ValidationError(f"invalid SLO counts: {message}", field=field)
    bad = checked_total - checked_good
    allowed = (1 - slo.objective) * checked_total
    fraction = None if allowed == 0 else 1 - bad / allowed
    return ErrorBudget(checked_total, bad, allowed, allowed - bad, fraction)


def burn_rate(bad: int, total: int, objective: float) -> float | None:
    """(bad ÷ total) ÷ (1 − objective); None when there were no events."""
    if not 0 < objective < 1:
        raise ValidationError("objective must be between 0 and 1 exclusive", field="objective")
    if bad < 0 or total < 0 or bad > total:
        raise ValidationError(f"need 0 ≤ bad ({bad}) ≤ total ({total})", field="bad")
    if total == 0:
        return None
    return (bad / total) / (1 - objective)


def _window_counts(
    series: Iterable[CountSample], after: datetime, upto: datetime
) -> tuple[int, int]:
    bad = total = 0
    for sample in series:
        if after < sample.at <= upto:
            bad += sample.total - sample.good
            total += sample.total
    return bad, total


DEFAULT_WINDOWS: Mapping[str, timedelta] = {
    "5m": timedelta(minutes=5),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "3d": timedelta(days=3),
}


def burn_rates(
    series: Sequence[CountSample],
    slo: SLO,
    now: datetime,
    *,
    windows: Mapping[str, timedelta] = DEFAULT_WINDOWS,
) -> dict[str, float | None]:
    """Burn rate over each window ending at `now` (None for a window without events)."""
    aware(now, "now")
    return {
        name: burn_rate(*_window_counts(series, now - length, now), slo.objective)
        for name, length in windows.items()
    }


@dataclass(frozen=True, slots=True)
class BurnRule:
    """Alert when the long window's burn rate, and the short one's if named, exceed
    `threshold`. A short window without events does not confirm the alert."""

    long_window: str
    threshold: float
    short_window: str | None = None
    action: Literal["page", "ticket"] = "page"


DEFAULT_BURN_RULES: tuple[BurnRule, ...] = (
    BurnRule("1h", 14.4, "5m", "page"),
    BurnRule("6h", 6.0, "30m", "page"),
    BurnRule("3d", 1.0, "6h", "ticket"),
)


@dataclass(frozen=True, slots=True)
class BurnAlert:
    rule: BurnRule
    rate: float


def burn_threshold(budget_fraction: float, slo_window: timedelta, long_window: timedelta) -> float:
    """The burn rate that spends `budget_fraction` of the budget within `long_window`:
    budget_fraction × slo_window ÷ long_window (0.02, 30 d, 1 h → 14.4)."""
    return budget_fraction * (slo_window / long_window)


def burn_alerts(
    rates: Mapping[str, float | None], rules: Iterable[BurnRule] = DEFAULT_BURN_RULES
) -> list[BurnAlert]:
    """The rules that fire for `rates` (as returned by `burn_rates`)."""
    fired = []
    for rule in rules:
        rate = rates.get(rule.long_window)
        if rate is None or not rate > rule.threshold:
            continue
        if rule.short_window is not None:
            short = rates.get(rule.short_window)
            if short is None or not short > rule.threshold:
                continue
        fired.append(BurnAlert(rule, rate))
    return fired


def budget_consumed_during(
    series: Sequence[CountSample], slo: SLO, start: datetime, end: datetime
) -> float | None:
    """Bad events in (start, end] ÷ the error budget of the SLO window ending at `end`;
    None when that window holds no events."""
    aware(start, "start")
    aware(end, "end")
    if end < start:
        raise ValidationError("end is before start", field="end")
    bad, _ = _window_counts(series, start, end)
    _, window_total = _window_counts(series, end - slo.window, end)
    budget = (1 - slo.objective) * window_total
    return None if budget == 0 else bad / budget


@dataclass(frozen=True, slots=True)
class IncidentBudget:
    """Budget an incident consumed, from started to mitigated (else resolved).

    `end_milestone` says which one ended it; `fraction` is None when started or both end
    milestones are missing, or the window held no events.
    """

    public_id: str
    start: datetime | None
    end: datetime | None
    end_milestone: str | None
    fraction: float | None


def budget_consumed_by_incidents(
    series: Sequence[CountSample],
    slo: SLO,
    incidents: Iterable[IncidentFacts],
    *,
    include_types: Collection[str] | None = None,
) -> list[IncidentBudget]:
    kept, _ = included(incidents, include_types)
    out = []
    for incident in kept:
        start = incident.started
        milestone = next((m for m in ("mitigated", "resolved") if incident.milestones.get(m)), None)
        end = incident.milestones.get(milestone) if milestone else None
        fraction = None
        if start is not None and end is not None and end >= start:
            fraction = budget_consumed_during(series, slo, start, end)
        out.append(IncidentBudget(incident.public_id, start, end, milestone, fraction))
    return out
