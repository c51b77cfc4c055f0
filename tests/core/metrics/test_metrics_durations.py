"""Milestone durations, grouped reports, time between failures and trends: hand-made cases
through the product's figures (and the reference functions where only they remain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.core.metrics import oracles
from tests.core.metrics.oracles import duration_seconds, samples
from tests.core.metrics.through_arrays import (
    counts_over_time,
    metric_report,
    monthly_medians,
    recurring_problems,
    time_between_failures,
)

from afteraction.core.errors import ValidationError
from afteraction.core.metrics import DEFINITIONS, METRICS, IncidentFacts

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def inc(
    public_id: str,
    *,
    severity: str = "SEV2",
    type: str = "default",
    services: tuple[str, ...] = ("api",),
    teams: tuple[str, ...] = ("core",),
    problem: str | None = None,
    tier: str | None = None,
    **minutes: float | None,
) -> IncidentFacts:
    """Milestones given as minutes after T0 (None = missing)."""
    milestones = {
        name: None if value is None else T0 + timedelta(minutes=value)
        for name, value in minutes.items()
    }
    return IncidentFacts(
        public_id, severity, type, services, teams, problem, milestones, customer_tier=tier
    )


def test_definitions_state_start_and_end() -> None:
    assert set(METRICS) == {
        "time_to_detect",
        "time_to_acknowledge",
        "time_to_acknowledge_from_detect",
        "time_to_mitigate",
        "time_to_resolve",
        "time_between_failures",
    }
    assert METRICS["time_to_detect"].definition == "time to detect = detected − started"
    for definition in METRICS.values():
        assert definition.start and definition.end
        assert definition.start in definition.definition
    assert all(d.definition for d in DEFINITIONS.values())


def test_duration_seconds_and_missing() -> None:
    facts = inc("INC-1", started=0, detected=5, acknowledged=7, resolved=60)
    assert duration_seconds(facts, "time_to_detect") == 300
    assert duration_seconds(facts, "time_to_acknowledge_from_detect") == 120
    assert duration_seconds(facts, "time_to_mitigate") is None
    assert facts.placed_at() == T0


def test_duration_seconds_rejects_unknown_and_tbf() -> None:
    facts = inc("INC-1", started=0)
    with pytest.raises(ValidationError, match="unknown metric"):
        duration_seconds(facts, "mttr")
    with pytest.raises(ValidationError, match="two incidents"):
        duration_seconds(facts, "time_between_failures")


def test_incident_facts_rejects_naive_and_unknown_milestones() -> None:
    with pytest.raises(ValidationError):
        IncidentFacts("INC-1", "SEV1", milestones={"started": datetime(2024, 1, 1)})  # noqa: DTZ001
    with pytest.raises(ValidationError):
        IncidentFacts("INC-1", "SEV1", milestones={"begun": T0})


def test_placed_at_falls_back_to_earliest_milestone() -> None:
    assert inc("INC-1", detected=9, declared=3).placed_at() == T0 + timedelta(minutes=3)
    assert inc("INC-2").placed_at() is None


def test_report_excludes_gameday_and_maintenance_by_default() -> None:
    incidents = [
        inc("INC-1", started=0, detected=10),
        inc("INC-2", type="gameday", started=0, detected=1),
        inc("INC-3", type="maintenance", started=0, detected=2),
        inc("INC-4", type="security", started=0, detected=30),
    ]
    report = metric_report(incidents, "time_to_detect")
    (group,) = report.groups
    assert group.key == "all"
    assert group.distribution.values == (600.0, 1800.0)
    assert report.excluded_by_type == {"gameday": 1, "maintenance": 1}
    shown = metric_report(incidents, "time_to_detect", include_types={"gameday"})
    assert shown.groups[0].distribution.values == (60.0,)
    assert shown.excluded_by_type == {"default": 1, "maintenance": 1, "security": 1}


def test_report_missing_and_out_of_order_are_separate() -> None:
    incidents = [
        inc("INC-1", started=0, resolved=60),
        inc("INC-2", started=0),
        inc("INC-3", started=30, resolved=10),
    ]
    (group,) = metric_report(incidents, "time_to_resolve", with_mean=True).groups
    assert group.distribution.count == 1
    assert group.distribution.missing == 1
    assert group.distribution.median == 3600
    assert group.distribution.mean == 3600
    assert group.missing_ids == ("INC-2",)
    assert [(o.public_id, o.seconds) for o in group.out_of_order] == [("INC-3", -1200.0)]


def test_report_groups_by_severity_service_team() -> None:
    incidents = [
        inc("INC-1", severity="SEV1", services=("api", "db"), teams=(), started=0, detected=1),
        inc("INC-2", severity="SEV2", services=(), teams=("web",), started=0, detected=2),
    ]
    by_sev = metric_report(incidents, "time_to_detect", group_by="severity")
    assert [g.key for g in by_sev.groups] == ["SEV1", "SEV2"]
    by_service = metric_report(incidents, "time_to_detect", group_by="service")
    assert {g.key: g.distribution.values for g in by_service.groups} == {
        "(none)": (120.0,),
        "api": (60.0,),
        "db": (60.0,),
    }
    by_team = metric_report(incidents, "time_to_detect", group_by="team")
    assert [g.key for g in by_team.groups] == ["(none)", "web"]
    with pytest.raises(ValidationError):
        metric_report(incidents, "time_to_detect", group_by="colour")  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=10_000)), max_size=25))
def test_missing_milestones_never_count_as_zero(minutes: list[int | None]) -> None:
    incidents = [inc(f"INC-{i}", started=0, detected=m) for i, m in enumerate(minutes)]
    groups = metric_report(incidents, "time_to_detect").groups
    present = sorted(m * 60.0 for m in minutes if m is not None)
    if not incidents:
        assert groups == ()
        return
    (group,) = groups
    assert list(group.distribution.values) == present
    assert group.distribution.missing == minutes.count(None)
    assert len(group.missing_ids) == minutes.count(None)


def test_time_between_failures_per_service() -> None:
    incidents = [
        inc("INC-1", services=("api",), started=0, resolved=60),
        inc("INC-2", services=("api", "db"), started=180, resolved=200),
        inc("INC-3", services=("api",), started=150),  # never resolved
        inc("INC-4", services=("db",), started=500, resolved=510),
        inc("INC-5", services=("db",), detected=600),  # undated on db
        inc("INC-6", services=("api",), type="gameday", started=1000, resolved=1001),
    ]
    gaps = time_between_failures(incidents)
    assert set(gaps) == {"api", "db"}
    # api ordered by start: INC-1 (0–60), INC-3 (150, unresolved), INC-2 (180)
    assert gaps["api"].distribution.values == (90 * 60.0,)
    assert gaps["api"].missing_ids == ("INC-2",)  # INC-3 never resolved
    assert gaps["db"].distribution.values == (300 * 60.0,)
    assert gaps["db"].missing_ids == ("INC-5",)
    overlapping = [
        inc("INC-7", services=("x",), started=0, resolved=100),
        inc("INC-8", services=("x",), started=50, resolved=120),
    ]
    (group,) = time_between_failures(overlapping).values()
    assert group.out_of_order[0].public_id == "INC-8"
    assert group.out_of_order[0].seconds == -50 * 60
    tbf = samples(overlapping, "time_between_failures")
    assert tbf[0].previous_id == "INC-7" and tbf[0].service == "x"


def test_tbf_grouped_by_severity_belongs_to_later_incident() -> None:
    incidents = [
        inc("INC-1", severity="SEV3", started=0, resolved=10),
        inc("INC-2", severity="SEV1", started=20, resolved=30),
    ]
    report = metric_report(incidents, "time_between_failures", group_by="severity")
    assert [(g.key, g.distribution.values) for g in report.groups] == [("SEV1", (600.0,))]


def test_monthly_medians_fill_gaps_and_use_local_months() -> None:
    # 2024-01-31 23:30 UTC is already February in Berlin.
    late_jan = datetime(2024, 1, 31, 23, 30, tzinfo=UTC)
    incidents = [
        IncidentFacts("INC-1", "SEV1", milestones={"started": late_jan, "detected": late_jan}),
        IncidentFacts(
            "INC-2",
            "SEV1",
            milestones={
                "started": datetime(2024, 4, 2, tzinfo=UTC),
                "detected": datetime(2024, 4, 2, 0, 10, tzinfo=UTC),
            },
        ),
        IncidentFacts("INC-3", "SEV1", milestones={}),
    ]
    utc = monthly_medians(incidents, "time_to_detect", "UTC")
    assert [p.key for p in utc.points] == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert [p.distribution.count for p in utc.points] == [1, 0, 0, 1]
    assert utc.points[3].distribution.median == 600
    assert utc.undated == ("INC-3",)
    berlin = monthly_medians(incidents, "time_to_detect", ZoneInfo("Europe/Berlin"))
    assert berlin.points[0].key == "2024-02"
    with pytest.raises(ValidationError) as caught:
        monthly_medians(incidents, "time_to_detect", "Mars/Olympus")
    assert caught.value.field == "tz"


def test_monthly_medians_across_year_end() -> None:
    incidents = [
        IncidentFacts("INC-1", "SEV2", milestones={"started": datetime(2023, 12, 5, tzinfo=UTC)}),
        IncidentFacts("INC-2", "SEV2", milestones={"started": datetime(2024, 1, 5, tzinfo=UTC)}),
    ]
    trend = monthly_medians(incidents, "time_to_resolve", "UTC")
    assert [p.key for p in trend.points] == ["2023-12", "2024-01"]
    assert all(p.distribution.missing == 1 for p in trend.points)
    assert monthly_medians([], "time_to_resolve", "UTC").points == ()


def test_counts_over_time_by_week_and_month() -> None:
    incidents = [
        inc("INC-1", severity="SEV1", started=0),  # Fri 2024-03-01
        inc("INC-2", severity="SEV2", started=60 * 24 * 4),  # Tue 2024-03-05
        inc("INC-3", severity="SEV2", started=60 * 24 * 18),  # Tue 2024-03-19
        inc("INC-4", severity="SEV2", type="maintenance", started=0),
        inc("INC-5", severity="SEV2"),
    ]
    weekly = oracles.counts_over_time(incidents, bucket="week")
    assert [(b.label, b.total) for b in weekly.buckets] == [
        ("2024-W09", 1),
        ("2024-W10", 1),
        ("2024-W11", 0),
        ("2024-W12", 1),
    ]
    assert weekly.buckets[0].by_severity == {"SEV1": 1}
    assert weekly.undated == ("INC-5",)
    monthly = counts_over_time(incidents, tz="America/New_York")
    assert [(b.label, b.total) for b in monthly.buckets] == [("2024-03", 3)]
    assert monthly.buckets[0].by_severity == {"SEV1": 1, "SEV2": 2}
    with pytest.raises(ValidationError):
        oracles.counts_over_time(incidents, bucket="day")  # type: ignore[arg-type]


def test_recurring_problems() -> None:
    incidents = [
        inc("INC-1", problem="PRB-1", services=("api",), started=0),
        inc("INC-2", problem="PRB-1", services=("db",), started=100),
        inc("INC-3", problem="PRB-2", started=0),
        inc("INC-4", problem="PRB-3", started=0),
        inc("INC-5", problem="PRB-3"),
        inc("INC-6", problem="PRB-3", type="gameday", started=0),
        inc("INC-7", problem="PRB-3", started=5),
        inc("INC-8", started=5),
    ]
    found = recurring_problems(incidents)
    assert [(r.problem, r.incident_ids) for r in found] == [
        ("PRB-3", ("INC-4", "INC-5", "INC-7")),
        ("PRB-1", ("INC-1", "INC-2")),
    ]
    assert found[1].services == ("api", "db")
    assert found[1].first == T0 and found[1].last == T0 + timedelta(minutes=100)
    assert recurring_problems(incidents, min_incidents=4) == []
