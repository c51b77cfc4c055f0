"""Benchmark: every dashboard figure over 100,000 synthetic incidents against DuckDB
computing the same percentiles from the same SQLite file, and server time per insights page.

Run: python benchmarks/insights.py [incidents] [--database-url URL]. Without a URL it
writes a new SQLite file; a URL (postgresql+psycopg://...) names an empty database that it
migrates and fills. Deterministic (seeded); prints medians and the ratio ours / DuckDB
measured in the same run. Page times: the first request of a URL
computes; repeats of the same URL with the database unchanged come from the read cache,
so both are printed, labelled. The dashboard page draws no chart itself: its charts come
from /insights/charts, timed separately.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from afteraction.core.access import SYSTEM
from afteraction.core.metrics import InsightFilters
from afteraction.services import insights as ins
from afteraction.services import service_levels as levels
from afteraction.storage import db as storage_db
from afteraction.storage.tables import (
    Incident,
    IncidentService,
    IncidentTeam,
    Problem,
    Service,
    Team,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def build(url: str, n_incidents: int) -> None:
    """`n_incidents` over two years: skewed durations, 5% without an acknowledgement, one
    in 31 a gameday; one service each (of 40) and its owning team (of 8); one in 25 linked
    to one of 30 problems."""
    rng = random.Random(7)
    engine = storage_db.make_engine(url)
    with engine.begin() as c:
        c.execute(insert(Team), [{"slug": f"team-{i}", "name": f"Team {i}", "description": "",
                                  "created_at": T0} for i in range(8)])  # fmt: skip
        c.execute(insert(Service), [{"slug": f"svc-{i}", "name": f"Service {i}", "description": "",
                                     "tier": 2, "team_id": i % 8 + 1, "created_at": T0}
                                    for i in range(40)])  # fmt: skip
        c.execute(insert(Problem), [{"key": f"PRB-{i}", "title": f"problem {i}",
                                     "created_at": T0} for i in range(1, 31)])  # fmt: skip
        rows, links, teams = [], [], []
        for n in range(1, n_incidents + 1):
            start = T0 + timedelta(seconds=rng.randrange(0, 730 * 86400))
            detect = start + timedelta(seconds=rng.lognormvariate(5, 1.2))
            ack = detect + timedelta(seconds=rng.lognormvariate(5, 1))
            mit = ack + timedelta(seconds=rng.lognormvariate(7.5, 1.3))
            res = mit + timedelta(seconds=rng.lognormvariate(7, 1.2))
            rows.append({"number": n, "title": f"incident {n}", "summary": "",
                         "severity": f"SEV{rng.choice((1, 2, 2, 3, 3, 3, 4))}",
                         "status": "resolved", "type": rng.choice(["default"] * 30 + ["gameday"]),
                         "private": False, "customer_impact": "", "started_at": start,
                         "detected_at": detect, "acknowledged_at": ack if rng.random() > 0.05 else None,  # noqa: E501
                         "mitigated_at": mit, "resolved_at": res, "created_at": start,
                         "updated_at": res, "version": 1,
                         "problem_id": rng.randrange(1, 31) if rng.random() < 0.04 else None,
                         })  # fmt: skip
            service = rng.randrange(1, 41)
            links.append({"incident_id": n, "service_id": service})
            teams.append({"incident_id": n, "team_id": (service - 1) % 8 + 1})
        c.execute(insert(Incident), rows)
        c.execute(insert(IncidentService), links)
        c.execute(insert(IncidentTeam), teams)
    engine.dispose()


def timed_together(
    fns: dict[str, Callable[[], Any]], runs: int
) -> tuple[dict[str, Any], dict[str, float]]:
    """Each function `runs` times, interleaved (so machine noise hits all alike): the last
    result and the median seconds of each."""
    results: dict[str, Any] = {}
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return results, {name: statistics.median(t) for name, t in times.items()}


BASE = """i AS (SELECT id, number, severity, started_us, resolved_us,
  (detected_us - started_us) / 1e6 AS ttd, (acknowledged_us - started_us) / 1e6 AS tta,
  (mitigated_us - started_us) / 1e6 AS ttm, (resolved_us - started_us) / 1e6 AS ttr,
  coalesce(started_us, least(detected_us, declared_us, acknowledged_us, mitigated_us,
                             resolved_us, closed_us)) AS placed
  FROM db.incidents WHERE type NOT IN ('gameday', 'maintenance'))"""


def stats(m: str) -> str:
    """What the dashboard shows per group: count, count missing, median, p90, max (of the
    values in order) and the count out of order."""
    ok = f"FILTER (WHERE {m} >= 0)"
    return (f"count({m}) {ok}, count(*) FILTER (WHERE {m} IS NULL), "
            f"quantile_cont({m}, 0.5) {ok}, quantile_cont({m}, 0.9) {ok}, max({m}) {ok}, "
            f"count(*) FILTER (WHERE {m} < 0)")  # fmt: skip


MONTH = "strftime(make_timestamp(placed::BIGINT), '%Y-%m')"
SAME_FIGURES = {
    # the four durations, per severity and overall
    "severity": f"""WITH {BASE} SELECT severity,
        {", ".join(stats(m) for m in ("ttd", "tta", "ttm", "ttr"))}
        FROM i GROUP BY GROUPING SETS ((severity), ())""",
    # time between failures: per service, dated incidents by (started, id), the first dropped
    "between failures": f"""WITH {BASE}, g AS (
        SELECT severity, started_us IS NULL AS undated,
          (started_us - lag(resolved_us) OVER w) / 1e6 AS tbf, row_number() OVER w AS k
        FROM i JOIN db.incident_services l ON l.incident_id = i.id
        WINDOW w AS (PARTITION BY l.service_id, started_us IS NULL
                     ORDER BY started_us, 'INC-' || number))
        SELECT severity, {stats("tbf")} FROM g WHERE undated OR k > 1
        GROUP BY GROUPING SETS ((severity), ())""",
    "service": f"""WITH {BASE} SELECT coalesce(s.slug, '(none)') AS key, {stats("ttr")}
        FROM i LEFT JOIN db.incident_services l ON l.incident_id = i.id
        LEFT JOIN db.services s ON s.id = l.service_id GROUP BY key""",
    "team": f"""WITH {BASE} SELECT coalesce(t.slug, '(none)') AS key, {stats("ttr")}
        FROM i LEFT JOIN db.incident_teams l ON l.incident_id = i.id
        LEFT JOIN db.teams t ON t.id = l.team_id GROUP BY key""",
    "month": f"WITH {BASE} SELECT {MONTH} AS month, {stats('ttr')} FROM i GROUP BY month",
    "counts": f"WITH {BASE} SELECT {MONTH} AS month, severity, count(*) FROM i GROUP BY ALL",
    "problems": f"""WITH {BASE} SELECT p.key, count(*), min(placed), max(placed)
        FROM i JOIN db.incidents x ON x.id = i.id JOIN db.problems p ON p.id = x.problem_id
        GROUP BY p.key""",
}
"""Every figure of the dashboard, as DuckDB computes it from the same integer columns."""

SEVERITY_ONLY = f"""WITH {BASE} SELECT severity,
    {
    ", ".join(
        f"count({m}), quantile_cont({m}, 0.5), quantile_cont({m}, 0.9), max({m})"
        for m in ("ttd", "tta", "ttm", "ttr")
    )
}
    FROM i GROUP BY GROUPING SETS ((severity), ())"""
"""The figures the earlier version of this benchmark compared with: four durations per
severity only (no time between failures, service, team, month or counts)."""

COPIED = {
    "incidents": "id, number, severity, type, problem_id, started_us, detected_us, declared_us, "
                 "acknowledged_us, mitigated_us, resolved_us, closed_us",
    "incident_services": "incident_id, service_id",
    "incident_teams": "incident_id, team_id",
    "services": "id, slug",
    "teams": "id, slug",
    "problems": "id, key",
}  # fmt: skip


def copy_rows(con, engine, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """Without DuckDB's sqlite extension (offline), or on PostgreSQL, the columns both sides
    read are copied from the database once, with their types; the copy is not timed."""
    import csv

    con.execute("CREATE SCHEMA db")
    with engine.connect() as source:
        for table, columns in COPIED.items():
            copy = folder / f"{table}.csv"
            with copy.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow([c.strip() for c in columns.split(",")])
                writer.writerows(source.exec_driver_sql(f"SELECT {columns} FROM {table}"))
            types = {c.strip(): "VARCHAR" if c.strip() in ("severity", "type", "slug", "key")
                     else "BIGINT" for c in columns.split(",")}  # fmt: skip
            read = f"read_csv('{copy}', header=true, types={types})"
            con.execute(f"CREATE TABLE db.{table} AS SELECT * FROM {read}")


def check_same(duck: dict[str, list[tuple[Any, ...]]], d: ins.Dashboard) -> None:
    """The two sides computed the same figures (a sample of them, to the microsecond)."""

    def close(a: float | None, b: float | None) -> bool:
        return a is None and b is None or a is not None and b is not None and abs(a - b) < 1e-6

    overall = next(r for r in duck["severity"] if r[0] is None)
    ttr = d.overall["time_to_resolve"].groups[0].distribution
    assert (ttr.count, ttr.missing) == overall[19:21], "time to resolve counts differ"
    assert close(ttr.median, overall[21]) and close(ttr.p90, overall[22])
    gaps = next(r for r in duck["between failures"] if r[0] is None)
    tbf = d.overall["time_between_failures"].groups[0]
    assert (tbf.distribution.count, len(tbf.out_of_order)) == (gaps[1], gaps[6])
    assert close(tbf.distribution.median, gaps[3]) and close(tbf.distribution.p90, gaps[4])
    for rows, report in ((duck["service"], d.by_service), (duck["team"], d.by_team)):
        mine = {g.key: g.distribution for g in report.groups}
        assert len(mine) == len(rows)
        assert all(close(mine[r[0]].median, r[3]) and mine[r[0]].count == r[1] for r in rows)
    months = {p.key: p.distribution for p in d.trend.points}
    assert all(close(months[r[0]].median, r[3]) for r in duck["month"])
    assert sum(b.total for b in d.counts.buckets) == sum(r[2] for r in duck["counts"])
    assert dict(d.per_problem) == {r[0]: r[1] for r in duck["problems"]}


def main() -> None:
    import duckdb

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("incidents", type=int, nargs="?", default=100_000)
    parser.add_argument("--database-url", default="", help="an empty database (default: a "
                        "new SQLite file)")  # fmt: skip
    options = parser.parse_args()
    n_incidents = options.incidents
    folder = Path(tempfile.mkdtemp())
    path = folder / "bench.db"
    url = options.database_url or f"sqlite:///{path}"
    storage_db.upgrade(url)
    with storage_db.make_engine(url).connect() as connection:
        if connection.exec_driver_sql("SELECT count(*) FROM incidents").scalar():
            raise SystemExit(f"{url} already holds incidents: give an empty database")
    t = time.perf_counter()
    build(url, n_incidents)
    print(f"wrote {n_incidents:,} incidents in {time.perf_counter() - t:.1f} s "
          f"({storage_db.make_engine(url).dialect.name})")  # fmt: skip
    engine = storage_db.make_engine(url)
    factory = storage_db.make_session_factory(engine)

    def ours() -> ins.Dashboard:
        with factory() as s:
            return ins.dashboard(s, SYSTEM, InsightFilters())

    def durations_only() -> object:
        with factory() as s:
            return ins.dashboard_metrics(s, SYSTEM, InsightFilters()).summaries

    con = duckdb.connect()
    try:  # the sqlite scanner reads the same file; it needs the extension installed
        if options.database_url:
            raise duckdb.Error("not a SQLite file")
        con.execute("LOAD sqlite;")
        con.execute(f"ATTACH '{path}' AS db (TYPE sqlite, READ_ONLY)")
        label = "DuckDB's sqlite scanner on the same file"
    except duckdb.Error:  # offline: copy the same columns in once (load time not counted)
        copy_rows(con, engine, folder)
        label = "DuckDB over the same columns copied from the database (copy not timed)"

    def duck_all() -> dict[str, list[tuple[Any, ...]]]:
        return {name: con.execute(sql).fetchall() for name, sql in SAME_FIGURES.items()}

    runs = 7
    results, times = timed_together(
        {"duck": duck_all, "duck_severity": lambda: con.execute(SEVERITY_ONLY).fetchall(),
         "ours": ours, "durations": durations_only}, runs)  # fmt: skip
    check_same(results["duck"], results["ours"])  # type: ignore[arg-type]
    assert results["durations"] == results["ours"].summaries()  # type: ignore[attr-defined]
    duck, mine = times["duck"], times["ours"]
    print(f"medians of {runs} interleaved runs, {n_incidents:,} incidents; {label}:")
    print(f"  every dashboard figure, DuckDB: {duck * 1000:.0f} ms")
    print(f"  every dashboard figure, ours: {mine * 1000:.0f} ms, "
          f"ratio ours / DuckDB {mine / duck:.2f}x (target <= 2x)")  # fmt: skip
    durations = times["durations"]
    print(f"  duration figures only (metrics API and CLI), ours: "
          f"{durations * 1000:.0f} ms, ratio {durations / duck:.2f}x")  # fmt: skip
    print(f"  for comparison, DuckDB's four durations per severity alone: "
          f"{times['duck_severity'] * 1000:.0f} ms; ours for every figure is "
          f"{mine / times['duck_severity']:.2f}x that")  # fmt: skip
    page_times(url)


def page_times(url: str) -> None:
    """Server time per page through the app. The first request of each URL in the process
    also pays one-time costs (template compilation, first imports, vl-convert's start);
    then each page is requested 5 times with a new start date (since February, March...,
    each covering 80-95% of the incidents), so every request computes its figures and
    draws its charts afresh (the read cache only serves a repeat of the same URL with the
    database unchanged, shown last). /insights/charts is requested on its own, so it
    computes the figures too (in the browser it follows /insights and reuses them). Beside
    each wall time, the process's CPU time for the same requests: on a shared machine it
    moves less with the other processes' load."""
    from fastapi.testclient import TestClient

    from afteraction.config import development_settings
    from afteraction.services import users
    from afteraction.web.app import create_app

    engine = storage_db.make_engine(url)
    with storage_db.make_session_factory(engine)() as s, storage_db.writing(s):
        users.create_user(s, SYSTEM, email="b@example.com", password="benchmark-password",
                          role="admin")  # fmt: skip
        levels.create_sla(s, SYSTEM, levels.SLAInput("SEV1 acknowledged in 15 min", "acknowledged",
                                               900, severity="SEV1"))  # fmt: skip
        levels.create_sla(s, SYSTEM, levels.SLAInput("resolved in 4 h", "resolved", 14_400))
        levels.create_slo(s, SYSTEM, levels.SLOInput("svc-1", "checkout availability", 0.999))
    app = create_app(development_settings(database_url=url, environment="test",
                                          queue_url="memory:"))  # fmt: skip
    htmx = {"HX-Request": "true"}
    cases = (
        ("/insights", {}, "figures, charts not drawn"),
        ("/insights/charts", htmx, "all ten charts and the figures at once"),
        ("/insights/oncall", {}, "on-call load, last 28 days"),
        ("/insights/silos", {}, "knowledge silos"),
        ("/insights/response", {}, "response breadth, newest 500"),
        ("/slas", {}, "two SLAs over every incident"),
        ("/slos", {}, "one SLO"),
        ("/api/v1/insights/metrics", {}, "duration figures"),
    )
    with TestClient(app) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post("/login", data={"email": "b@example.com", "password": "benchmark-password",
                                    "csrf_token": token})  # fmt: skip
        client.get("/incidents?per_page=1")  # the app's own first-request costs, not timed

        cpu: list[float] = []  # the process's CPU seconds per request (server and client)

        def took(address: str, headers: dict[str, str]) -> float:
            start, start_cpu = time.perf_counter(), time.process_time()
            assert client.get(address, headers=headers).status_code == 200
            cpu.append(time.process_time() - start_cpu)
            return time.perf_counter() - start

        from afteraction.web.insight_charts import DASHBOARD_CHART_IDS

        one_chart = []  # as the page asks: one chart a request, after the page's figures
        for k in range(3):
            query = f"since=2024-0{k + 2}-15"
            took(f"/insights?{query}", {})
            one_chart.extend(took(f"/insights/charts?{query}&chart={chart}", htmx)
                             for chart in DASHBOARD_CHART_IDS)  # fmt: skip
        print(f"/insights/charts?chart=... (one chart, as the page loads them): median "
              f"{statistics.median(one_chart) * 1000:.0f} ms, max {max(one_chart) * 1000:.0f} "
              f"ms over {len(one_chart)} requests (target <= 300 ms)")  # fmt: skip
        for address, headers, what in cases:
            first = took(address, headers)
            first_cpu = cpu[-1]
            fresh = [took(f"{address}?since=2024-0{k + 2}-01", headers) for k in range(5)]
            fresh_cpu = cpu[-5:]
            cached = [took(f"{address}?since=2024-02-01", headers) for _ in range(5)]
            print(f"{address} ({what}): computed, median of 5 "
                  f"{statistics.median(fresh) * 1000:.0f} ms (max {max(fresh) * 1000:.0f}; "
                  f"target <= 300 ms; CPU {statistics.median(fresh_cpu) * 1000:.0f} ms); first "
                  f"request of the process {first * 1000:.0f} ms (CPU {first_cpu * 1000:.0f} ms); "
                  f"read-cache repeat {statistics.median(cached) * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
