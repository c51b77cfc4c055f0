"""The insights use cases on the migrated database: filters, privacy, SLO counts, burn
alerts, SLAs, and a cross-check of the dashboard against DuckDB on the demo data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM, Actor
from afteraction.core.errors import ValidationError
from afteraction.core.metrics import InsightFilters
from afteraction.services import incidents as repo
from afteraction.services import insights as ins
from afteraction.services import service_levels as levels
from afteraction.storage import insight_queries as queries
from afteraction.storage.db import writing
from afteraction.storage.insights_tables import Notification, SLOCount
from afteraction.storage.tables import Service
from afteraction.web import insights as view

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
VIEWER = Actor(user_id=None, label="viewer", role="viewer")


def service(db: Session, slug: str = "checkout") -> None:
    with writing(db):
        db.add(Service(slug=slug, name=slug.title()))


def declare(db: Session, title: str, minutes: int, *, private: bool = False,
            severity: str = "SEV2", start: datetime = T0, type_: str = "default",
            services: tuple[str, ...] = ("checkout",), tags: tuple[str, ...] = ()) -> str:  # fmt: skip  # noqa: E501
    milestones = {
        "started": start,
        "detected": start + timedelta(minutes=1),
        "acknowledged": start + timedelta(minutes=2),
        "mitigated": start + timedelta(minutes=minutes // 2),
        "resolved": start + timedelta(minutes=minutes),
    }
    with writing(db):
        incident, _ = repo.declare(db, SYSTEM, repo.IncidentInput(
            title=title, severity=severity, private=private, services=services, type=type_,
            milestones=milestones, status="resolved", tags=tags))  # fmt: skip
        return incident.public_id


def test_private_incident_never_changes_figures_for_a_viewer(db: Session) -> None:
    service(db)
    for i in range(3):
        declare(db, f"public {i}", 60 + i, start=T0 + timedelta(days=i))
    declare(db, "secret", 6000, private=True, start=T0 + timedelta(days=5))
    seen = ins.dashboard(db, VIEWER, InsightFilters())
    admin = ins.dashboard(db, SYSTEM, InsightFilters())
    assert (seen.measured, admin.measured) == (3, 4)
    ttr = seen.overall["time_to_resolve"].groups[0].distribution
    assert ttr.max == 62 * 60 and ttr.small_sample
    assert all(r.max != 6000 * 60 for r in [ttr])
    assert "INC-4" not in {s["metric"] for s in seen.summaries()}


def test_gamedays_are_excluded_unless_asked(db: Session) -> None:
    service(db)
    declare(db, "real", 30)
    declare(db, "drill", 90, type_="gameday")
    default = ins.dashboard(db, SYSTEM, InsightFilters())
    assert default.measured == 1 and default.excluded_by_type == {"gameday": 1}
    everything = ins.dashboard(db, SYSTEM, InsightFilters(include_excluded=True))
    assert everything.measured == 2


def test_bad_filters_are_refused_and_empty_filters_are_empty(db: Session) -> None:
    service(db)
    declare(db, "one", 30)
    with pytest.raises(ValidationError) as inverted:
        ins.dashboard(db, SYSTEM, InsightFilters(since=T0, until=T0 - timedelta(days=1)))
    assert inverted.value.details["field"] == "until"
    with pytest.raises(ValidationError) as unknown:
        ins.dashboard(db, SYSTEM, InsightFilters(service=("nope",)))
    assert "nope" in unknown.value.message
    empty = ins.dashboard(db, SYSTEM, InsightFilters(since=T0 + timedelta(days=9)))
    assert empty.measured == 0 and empty.counts.buckets == ()
    assert all(s["count"] == 0 for s in empty.summaries())


def test_slo_counts_name_the_bad_row_and_write_nothing(db: Session) -> None:
    service(db)
    with writing(db):
        slo = levels.create_slo(db, SYSTEM, levels.SLOInput("checkout", "availability", 0.99))
    rows = [{"at": "2026-03-02T10:00:00+00:00", "good": 90, "total": 100},
            {"at": "2026-03-02T10:05:00+00:00", "good": 120, "total": 100}]  # fmt: skip
    with pytest.raises(ValidationError) as error, writing(db):
        levels.add_counts(db, SYSTEM, slo.id, rows)
    assert error.value.details["row"] == 2 and "greater than total" in error.value.message
    assert db.scalar(select(SLOCount.id)) is None
    with pytest.raises(ValidationError, match="row 1"), writing(db):
        levels.add_counts(db, SYSTEM, slo.id, [{"at": "2026-03-02T10:00:00+00:00", "good": -1,
                                             "total": 3}])  # fmt: skip


def test_burn_alert_is_recorded_once_per_hour(db: Session) -> None:
    service(db)
    with writing(db):
        slo = levels.create_slo(db, SYSTEM, levels.SLOInput("checkout", "availability", 0.999))
        levels.add_counts(db, SYSTEM, slo.id, [
            {"at": (T0 - timedelta(minutes=m)).isoformat(), "good": 50, "total": 100}
            for m in range(0, 60, 1)])  # fmt: skip
    with writing(db):
        first = levels.record_burn_alerts(db, slo.id, now=T0)
    with writing(db):
        again = levels.record_burn_alerts(db, slo.id, now=T0)
    assert first and again == []
    messages = db.scalars(select(Notification.message)).all()
    assert any("burn rate 500.0 over 1h" in m for m in messages)
    status = levels.slo_status(db, SYSTEM, slo.id, now=T0)
    assert status.budget.remaining_fraction is not None and status.budget.remaining_fraction < 0


def test_sla_breaches_and_missing(db: Session) -> None:
    service(db)
    fast = declare(db, "fast", 10)
    slow = declare(db, "slow", 300)
    with writing(db):
        levels.create_sla(db, SYSTEM, levels.SLAInput("resolve in 1h", "resolved", 3600, "SEV2"))
    [(row, result)] = ins.sla_results(db, SYSTEM, InsightFilters())
    assert result.met == (fast,) and [b.public_id for b in result.breached] == [slow]
    assert result.rate == 0.5 and row.severity == "SEV2"
    with pytest.raises(ValidationError):
        levels.SLAInput("x", "nope", 10) and levels.create_sla(
            db, SYSTEM, levels.SLAInput("x", "nope", 10)
        )


def test_csv_export_writes_a_header_and_rows() -> None:
    out = view.to_csv([{"a": 1, "b": [1, 2], "c": None}])
    assert out == "a,b,c\n1,1 2,\n"


def _moment(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def test_dashboard_matches_duckdb_on_the_demo_data(db: Session) -> None:
    duckdb = pytest.importorskip("duckdb")
    from afteraction.demo.load import load_demo

    load_demo(db)
    d = ins.dashboard(db, SYSTEM, InsightFilters())
    rows = db.execute(text(
        "SELECT severity, started_at, resolved_at, acknowledged_at FROM incidents "
        "WHERE type NOT IN ('gameday', 'maintenance')")).all()  # fmt: skip

    def seconds(a: object, b: object) -> float | None:
        if a is None or b is None:
            return None
        return (_moment(b) - _moment(a)).total_seconds()

    data = [(sev, seconds(s, r), seconds(s, a)) for sev, s, r, a in rows]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (severity VARCHAR, ttr DOUBLE, tta DOUBLE)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", data)
    expected = con.execute(
        "SELECT severity, count(ttr), count(*) - count(ttr), quantile_cont(ttr, 0.5), "
        "quantile_cont(ttr, 0.9), max(ttr), quantile_cont(tta, 0.9) FROM t "
        "WHERE ttr IS NULL OR ttr >= 0 GROUP BY severity ORDER BY severity").fetchall()  # fmt: skip
    groups = {g.key: g.distribution for g in d.by_severity["time_to_resolve"].groups}
    tta = {g.key: g.distribution for g in d.by_severity["time_to_acknowledge"].groups}
    assert len(expected) == len(groups) >= 3
    for sev, count, missing, median, p90, top, tta_p90 in expected:
        got = groups[sev]
        assert (got.count, got.missing) == (count, missing)
        assert got.median == pytest.approx(median) and got.p90 == pytest.approx(p90)
        assert got.max == pytest.approx(top) and tta[sev].p90 == pytest.approx(tta_p90)


def test_dashboard_fast_path_equals_metric_report_with_fractional_seconds(db: Session) -> None:
    from tests.core.metrics import oracles

    service(db)
    service(db, "search")
    odd = timedelta(seconds=1, microseconds=1)
    for i in range(12):
        start = T0 + timedelta(days=i * 11, microseconds=123_457 * i)
        milestones = {
            "started": start,
            "detected": start + odd * (i + 1),
            "resolved": start + timedelta(minutes=7 * i, microseconds=999_999),
        }
        if i % 4 == 0:
            milestones["acknowledged"] = start - odd  # out of order, kept as recorded
        with writing(db):
            repo.declare(db, SYSTEM, repo.IncidentInput(
                title=f"f{i}", severity=("SEV1", "SEV2")[i % 2], status="resolved",
                services=("checkout", "search")[: 1 + i % 2], milestones=milestones,
                type="gameday" if i == 5 else "default", allow_out_of_order=True))  # fmt: skip
    filters = InsightFilters(tz="Europe/Berlin")
    d = ins.dashboard(db, SYSTEM, filters)
    facts = queries.incident_facts(db, SYSTEM, filters).facts
    for k in ins.DASHBOARD_METRICS:
        assert d.overall[k] == oracles.metric_report(facts, k)
        assert d.by_severity[k] == oracles.metric_report(facts, k, group_by="severity")
    assert d.by_service == oracles.metric_report(facts, "time_to_resolve", group_by="service")
    assert d.by_team == oracles.metric_report(facts, "time_to_resolve", group_by="team")
    assert d.trend == oracles.monthly_medians(facts, "time_to_resolve", "Europe/Berlin")
    assert d.counts == oracles.counts_over_time(facts, tz="Europe/Berlin")
    assert d.overall["time_to_detect"].groups[0].distribution.min == 1.000001


def test_dashboard_metrics_are_the_dashboards_summaries(db: Session) -> None:
    service(db)
    for minutes in (5, 50, 500):
        declare(db, f"m{minutes}", minutes)
    filters = InsightFilters(service=("checkout",))
    for with_mean in (False, True):
        d = ins.dashboard(db, SYSTEM, filters, with_mean=with_mean)
        figures = ins.dashboard_metrics(db, SYSTEM, filters, with_mean=with_mean)
        assert figures.summaries == d.summaries()
        assert (figures.measured, figures.excluded_by_type) == (3, d.excluded_by_type)
    with pytest.raises(ValidationError, match="unknown service"):
        ins.dashboard_metrics(db, SYSTEM, InsightFilters(service=("nope",)))


def test_response_reads_only_the_newest_measured_incidents(db: Session) -> None:
    service(db)
    for n in range(5):
        declare(db, f"incident {n}", 30, start=T0 + timedelta(days=n),
                type_="gameday" if n == 4 else "default")  # fmt: skip
    report = ins.response(db, SYSTEM, InsightFilters(), limit=2)
    assert [r.public_id for r in report.rows] == ["INC-4", "INC-3"]  # newest first
    everything = ins.response(db, SYSTEM, InsightFilters(include_excluded=True), limit=2)
    assert [r.public_id for r in everything.rows] == ["INC-5", "INC-4"]
