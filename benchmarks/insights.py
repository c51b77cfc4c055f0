"""Benchmark: every dashboard figure over 100,000 synthetic incidents against DuckDB
computing the same percentiles from the same SQLite file, and server time per insights page.

Run: python benchmarks/insights.py [incidents]. Deterministic (seeded); prints medians and
the ratio ours / DuckDB measured in the same run. Page times: the first request of a URL
computes; repeats of the same URL with the database unchanged come from the read cache,
so both are printed, labelled. The dashboard page draws no chart itself: its charts come
from /insights/charts, timed separately.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from afteraction.core.access import SYSTEM
from afteraction.storage import db as storage_db
from afteraction.storage import insights as ins
from afteraction.storage.tables import Incident, IncidentService, Service, Team

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def build(url: str) -> None:
    rng = random.Random(7)
    engine = storage_db.make_engine(url)
    with engine.begin() as c:
        c.execute(insert(Team), [{"slug": f"team-{i}", "name": f"Team {i}", "description": "",
                                  "created_at": T0} for i in range(8)])  # fmt: skip
        c.execute(insert(Service), [{"slug": f"svc-{i}", "name": f"Service {i}", "description": "",
                                     "tier": 2, "team_id": i % 8 + 1, "created_at": T0}
                                    for i in range(40)])  # fmt: skip
        rows, links = [], []
        for n in range(1, N + 1):
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
                         "updated_at": res, "version": 1})  # fmt: skip
            links.append({"incident_id": n, "service_id": rng.randrange(1, 41)})
        c.execute(insert(Incident), rows)
        c.execute(insert(IncidentService), links)
    engine.dispose()


def timed(fn, runs: int = 5) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


DUCK = """
WITH i AS (SELECT severity,
  epoch(CAST(detected_at AS TIMESTAMP)) - epoch(CAST(started_at AS TIMESTAMP)) AS ttd,
  epoch(CAST(acknowledged_at AS TIMESTAMP)) - epoch(CAST(started_at AS TIMESTAMP)) AS tta,
  epoch(CAST(mitigated_at AS TIMESTAMP)) - epoch(CAST(started_at AS TIMESTAMP)) AS ttm,
  epoch(CAST(resolved_at AS TIMESTAMP)) - epoch(CAST(started_at AS TIMESTAMP)) AS ttr
  FROM db.incidents WHERE type NOT IN ('gameday', 'maintenance'))
SELECT severity, {cols} FROM i GROUP BY GROUPING SETS ((severity), ())
"""


def copy_rows(con, path: Path) -> None:  # type: ignore[no-untyped-def]
    import csv
    import sqlite3

    columns = "severity, type, started_at, detected_at, acknowledged_at, mitigated_at, resolved_at"
    rows = sqlite3.connect(path).execute(f"SELECT {columns} FROM incidents").fetchall()
    copy = path.with_suffix(".csv")
    with copy.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.strip() for c in columns.split(",")])
        writer.writerows(rows)
    con.execute("CREATE SCHEMA db")
    con.execute(f"CREATE TABLE db.incidents AS SELECT * FROM read_csv('{copy}', all_varchar=true)")


def main() -> None:
    import duckdb

    folder = Path(tempfile.mkdtemp())
    path = folder / "bench.db"
    url = f"sqlite:///{path}"
    storage_db.upgrade(url)
    t = time.perf_counter()
    build(url)
    print(f"wrote {N:,} incidents in {time.perf_counter() - t:.1f} s")
    engine = storage_db.make_engine(url)
    factory = storage_db.make_session_factory(engine)

    def ours() -> object:
        with factory() as s:
            return ins.dashboard(s, SYSTEM, ins.InsightFilters()).summaries()

    def durations_only() -> object:
        with factory() as s:
            return ins.dashboard_metrics(s, SYSTEM, ins.InsightFilters()).summaries

    cols = ", ".join(
        f"count({m}), quantile_cont({m}, 0.5), quantile_cont({m}, 0.9), max({m})"
        for m in ("ttd", "tta", "ttm", "ttr"))  # fmt: skip
    con = duckdb.connect()
    try:  # the sqlite scanner reads the same file; it needs the extension installed
        con.execute("LOAD sqlite;")
        con.execute(f"ATTACH '{path}' AS db (TYPE sqlite, READ_ONLY)")
        label = "DuckDB sqlite scanner on the same file"
    except duckdb.Error:  # offline: copy the same rows in once (load time not counted)
        copy_rows(con, path)
        label = "DuckDB over the same rows copied from the file (copy not timed)"
    runs = 5
    duck, expected = timed(lambda: con.execute(DUCK.format(cols=cols)).fetchall(), runs=runs)
    mine, summaries = timed(ours, runs=runs)
    metrics_only, same = timed(durations_only, runs=runs)
    assert same == summaries
    overall = [r for r in expected if r[0] is None][0]  # type: ignore[union-attr]
    ttr = next(s for s in summaries if s["metric"] == "time_to_resolve")  # type: ignore[union-attr]
    assert abs(ttr["median"] - overall[14]) < 1e-6 and abs(ttr["p90"] - overall[15]) < 1e-6
    print(f"medians of {runs} runs, {N:,} incidents:")
    print(f"  same percentiles ({label}): {duck * 1000:.0f} ms")
    print(f"  every dashboard figure (ours): {mine * 1000:.0f} ms, "
          f"ratio ours / DuckDB {mine / duck:.1f}x (target <= 2x)")  # fmt: skip
    print(f"  duration figures only, as the metrics API (ours): {metrics_only * 1000:.0f} ms, "
          f"ratio {metrics_only / duck:.1f}x")  # fmt: skip
    page_times(url)


def page_times(url: str) -> None:
    """Server time per page through the app: the first request computes (read cache
    empty for that URL); repeats of the same URL with the database unchanged are served
    from the read cache. /insights/charts right after /insights reuses the page's figures
    and only draws; with another query string it computes the figures too."""
    from fastapi.testclient import TestClient

    from afteraction.config import development_settings
    from afteraction.storage import users
    from afteraction.web.app import create_app

    engine = storage_db.make_engine(url)
    with storage_db.make_session_factory(engine)() as s, storage_db.writing(s):
        users.create_user(s, SYSTEM, email="b@example.com", password="benchmark-password",
                          role="admin")  # fmt: skip
    app = create_app(development_settings(database_url=url, environment="test",
                                          queue_url="memory:"))  # fmt: skip
    htmx = {"HX-Request": "true"}
    cases = (
        ("/insights", {}, "figures, charts not drawn"),
        ("/insights/charts", htmx, "charts, figures from /insights"),
        ("/insights/charts?until=2100-01-01", htmx, "charts and figures"),
        ("/api/v1/insights/metrics", {}, "duration figures"),
    )
    with TestClient(app) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post("/login", data={"email": "b@example.com", "password": "benchmark-password",
                                    "csrf_token": token})  # fmt: skip
        client.get("/incidents?per_page=1")  # the app's own first-request costs, not timed
        for url_, headers, what in cases:
            first = time.perf_counter()
            assert client.get(url_, headers=headers).status_code == 200
            first = time.perf_counter() - first
            runs = []
            for _ in range(5):
                t = time.perf_counter()
                client.get(url_, headers=headers)
                runs.append(time.perf_counter() - t)
            print(f"{url_} ({what}): first request {first * 1000:.0f} ms; "
                  f"cached repeats median {statistics.median(runs) * 1000:.0f} ms "
                  f"(target <= 300 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
