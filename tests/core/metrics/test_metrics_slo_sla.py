"""SLO counts, error budgets, burn rates and alerts; SLA compliance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.core.metrics.through_arrays import sla_compliance

from afteraction.core.errors import ValidationError
from afteraction.core.metrics import (
    DEFAULT_BURN_RULES,
    SLO,
    BurnRule,
    CountSample,
    IncidentFacts,
    SLATarget,
    budget_consumed_by_incidents,
    budget_consumed_during,
    burn_alerts,
    burn_rate,
    burn_rates,
    burn_threshold,
    error_budget,
    validate_counts,
)

NOW = datetime(2024, 6, 30, 12, tzinfo=UTC)


def test_slo_validation() -> None:
    assert SLO(0.999).window == timedelta(days=30)
    SLO(0.99, 28, "latency", latency_threshold_ms=300)
    for kwargs, field in [
        ({"objective": 1.0}, "objective"),
        ({"objective": 0.0}, "objective"),
        ({"objective": 0.99, "window_days": 14}, "window_days"),
        ({"objective": 0.99, "kind": "freshness"}, "kind"),
        ({"objective": 0.99, "kind": "latency"}, "latency_threshold_ms"),
    ]:
        with pytest.raises(ValidationError) as caught:
            SLO(**kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field


def test_validate_counts_accepts_mappings_tuples_and_csv_text() -> None:
    rows = [
        {"at": "2024-06-30T11:00:00+00:00", "good": "990", "total": " 1000 "},
        (NOW, 5, 5.0),
    ]
    assert validate_counts(rows) == [
        CountSample(datetime(2024, 6, 30, 11, tzinfo=UTC), 990, 1000),
        CountSample(NOW, 5, 5),
    ]


@pytest.mark.parametrize(
    ("bad_row", "field", "words"),
    [
        ({"at": NOW, "good": 11, "total": 10}, "good", "greater than total"),
        ({"at": NOW, "good": -1, "total": 10}, "good", "negative"),
        ({"at": NOW, "good": 1, "total": -10}, "total", "negative"),
        ({"at": NOW, "good": 1.5, "total": 10}, "good", "not a whole number"),
        ({"at": NOW, "good": True, "total": 10}, "good", "not a whole number"),
        ({"at": NOW, "good": 1, "total": "ten"}, "total", "not a whole number"),
        ({"at": NOW, "good": 1, "total": None}, "total", "not a whole number"),
        ({"at": "yesterday", "good": 1, "total": 1}, "at", "time zone offset"),
        ({"at": "2024-06-30T10:00:00", "good": 1, "total": 1}, "at", "time zone offset"),
        ((NOW, 1), "row", "expected at, good and total"),
        ("1,2,3", "row", "expected at, good and total"),
    ],
)
def test_validate_counts_names_the_row(bad_row: object, field: str, words: str) -> None:
    rows = [{"at": NOW, "good": 1, "total": 1}, bad_row]
    with pytest.raises(ValidationError) as caught:
        validate_counts(rows, first_row=2)
    error = caught.value
    assert error.field == field
    assert error.details["row"] == 3
    assert "row 3: " in error.message and words in error.message


def test_validate_counts_lists_every_problem() -> None:
    rows = [{"at": NOW, "good": 20, "total": 10}] * 7
    with pytest.raises(ValidationError) as caught:
        validate_counts(rows)
    assert len(caught.value.details["problems"]) == 7
    assert "(and 2 more)" in caught.value.message


def test_error_budget() -> None:
    slo = SLO(0.99)
    budget = error_budget(slo, good=9_950, total=10_000)
    assert budget.bad == 50
    assert budget.allowed_bad == pytest.approx(100)
    assert budget.remaining == pytest.approx(50)
    assert budget.remaining_fraction == pytest.approx(0.5)
    assert error_budget(slo, 9_800, 10_000).remaining_fraction == pytest.approx(-1.0)
    assert error_budget(slo, 0, 0).remaining_fraction is None
    with pytest.raises(ValidationError) as caught:
        error_budget(slo, 11, 10)
    assert caught.value.field == "good"


def test_burn_rate() -> None:
    assert burn_rate(1, 1000, 0.999) == pytest.approx(1.0)
    assert burn_rate(0, 0, 0.999) is None
    with pytest.raises(ValidationError):
        burn_rate(2, 1, 0.99)
    with pytest.raises(ValidationError):
        burn_rate(0, 1, 1.0)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=10**9), st.data())
def test_burn_rate_property(total: int, data: st.DataObject) -> None:
    bad = data.draw(st.integers(min_value=0, max_value=total))
    objective = data.draw(st.sampled_from([0.9, 0.99, 0.995, 0.999, 0.9999]))
    rate = burn_rate(bad, total, objective)
    assert rate is not None and rate >= 0
    # burning at rate r for the whole window spends r budgets
    assert rate * (1 - objective) * total == pytest.approx(bad)


def minutes_ago(minutes: float, good: int, total: int) -> CountSample:
    return CountSample(NOW - timedelta(minutes=minutes), good, total)


def test_burn_rates_windows_and_alerts() -> None:
    slo = SLO(0.999)
    series = [
        minutes_ago(0, 980, 1000),  # 2 % bad now: burn 20
        minutes_ago(50, 990, 1000),  # 1 %
        minutes_ago(5 * 60, 1000, 1000),
        minutes_ago(2 * 24 * 60, 100_000, 100_000),
        minutes_ago(4 * 24 * 60, 0, 1_000_000),  # outside 3 d
        CountSample(NOW + timedelta(minutes=1), 0, 10),  # future: outside every window
    ]
    rates = burn_rates(series, slo, NOW)
    assert set(rates) == {"5m", "30m", "1h", "6h", "3d"}
    assert rates["5m"] == pytest.approx(20)
    assert rates["1h"] == pytest.approx(15)
    assert rates["6h"] == pytest.approx(10)
    assert rates["3d"] == pytest.approx(30 / 103_000 / 0.001)
    fired = burn_alerts(rates)
    assert [(a.rule.long_window, a.rule.action) for a in fired] == [("1h", "page"), ("6h", "page")]
    assert fired[0].rate == pytest.approx(15)
    assert burn_alerts({"1h": 20.0, "5m": None}) == []
    assert burn_alerts({"1h": 20.0, "5m": 1.0}) == []
    assert burn_alerts({"1h": 14.4, "5m": 20.0}) == []  # must exceed, not reach
    assert [a.rule for a in burn_alerts({"3d": 1.5}, [BurnRule("3d", 1, None, "ticket")])] == [
        BurnRule("3d", 1, None, "ticket")
    ]
    assert burn_rates([], slo, NOW)["1h"] is None
    with pytest.raises(ValidationError):
        burn_rates(series, slo, datetime(2024, 6, 30))  # noqa: DTZ001


def test_default_rules_follow_the_sre_workbook() -> None:
    thirty = timedelta(days=30)
    assert [(r.long_window, r.short_window, r.threshold) for r in DEFAULT_BURN_RULES] == [
        ("1h", "5m", 14.4),
        ("6h", "30m", 6.0),
        ("3d", "6h", 1.0),
    ]
    assert burn_threshold(0.02, thirty, timedelta(hours=1)) == pytest.approx(14.4)
    assert burn_threshold(0.05, thirty, timedelta(hours=6)) == pytest.approx(6)
    assert burn_threshold(0.10, thirty, timedelta(days=3)) == pytest.approx(1)


def test_budget_consumed_during_and_by_incident() -> None:
    slo = SLO(0.99, window_days=7)
    series = [
        minutes_ago(60 * 24 * 3, 10_000, 10_000),
        minutes_ago(90, 950, 1000),
        minutes_ago(60, 970, 1000),
        minutes_ago(0, 1000, 1000),
    ]
    # The 7-day window ending at `end` holds 12,000 events → budget 120 bad; 50 + 30 seen.
    start, end = NOW - timedelta(minutes=100), NOW - timedelta(minutes=30)
    assert budget_consumed_during(series, slo, start, end) == pytest.approx(80 / 120)
    assert budget_consumed_during([], slo, start, end) is None
    with pytest.raises(ValidationError):
        budget_consumed_during(series, slo, end, start)
    incidents = [
        IncidentFacts("INC-1", "SEV1", milestones={"started": start, "resolved": end}),
        IncidentFacts(
            "INC-2",
            "SEV1",
            milestones={
                "started": start,
                "mitigated": start + timedelta(minutes=15),
                "resolved": end,
            },
        ),
        IncidentFacts("INC-3", "SEV1", milestones={"started": start}),
        IncidentFacts("INC-4", "SEV1", type="gameday", milestones={"started": start}),
    ]
    used = budget_consumed_by_incidents(series, slo, incidents)
    assert [(u.public_id, u.end_milestone) for u in used] == [
        ("INC-1", "resolved"),
        ("INC-2", "mitigated"),
        ("INC-3", None),
    ]
    assert used[0].fraction == pytest.approx(80 / 120)
    assert used[1].fraction == pytest.approx(50 / 110)  # window ends at mitigation: 11,000
    assert used[2].fraction is None


def sla_incident(pid: str, ack_minutes: float | None, **kw: object) -> IncidentFacts:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    ack = None if ack_minutes is None else t0 + timedelta(minutes=ack_minutes)
    return IncidentFacts(pid, milestones={"started": t0, "acknowledged": ack}, **kw)  # type: ignore[arg-type]


def test_sla_compliance() -> None:
    incidents = [
        sla_incident("INC-1", 10, severity="SEV1"),
        sla_incident("INC-2", 15, severity="SEV1"),  # exactly on target: met
        sla_incident("INC-3", 40, severity="SEV1"),
        sla_incident("INC-4", None, severity="SEV1"),
        sla_incident("INC-5", -5, severity="SEV1"),
        sla_incident("INC-6", 500, severity="SEV2"),
        sla_incident("INC-7", 1, severity="SEV1", type="gameday"),
        sla_incident("INC-8", 90, severity="SEV2", customer_tier="gold"),
    ]
    sev1 = SLATarget("acknowledged", timedelta(minutes=15), severity="SEV1", name="ack SEV1")
    gold = SLATarget("acknowledged", timedelta(hours=1), tier="gold")
    nobody = SLATarget("resolved", timedelta(hours=1), severity="SEV4")
    first, second, third = sla_compliance(incidents, [sev1, gold, nobody])
    assert first.met == ("INC-1", "INC-2")
    assert [(b.public_id, b.took, b.late_by) for b in first.breached] == [
        ("INC-3", timedelta(minutes=40), timedelta(minutes=25))
    ]
    assert first.missing == ("INC-4",) and first.out_of_order == ("INC-5",)
    assert first.rate == pytest.approx(2 / 3) and first.small_sample
    assert second.breached[0].late_by == timedelta(minutes=30) and second.rate == 0
    assert third.rate is None


def test_sla_target_validation() -> None:
    with pytest.raises(ValidationError) as caught:
        SLATarget("answered", timedelta(minutes=5))
    assert caught.value.field == "milestone"
    with pytest.raises(ValidationError) as caught:
        SLATarget("resolved", timedelta(minutes=5), measured_from="begun")
    assert caught.value.field == "measured_from"
    with pytest.raises(ValidationError) as caught:
        SLATarget("resolved", timedelta(0))
    assert caught.value.field == "within"
