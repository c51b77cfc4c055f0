"""Benchmark: `GET /api/v1/incidents?limit=50` over 10,000 incidents, and the HTML list page.

Builds a deterministic SQLite database (seeded, `benchmarks/_data.py`), starts the real app
(`create_app(development_settings(...))`) under uvicorn in a subprocess on 127.0.0.1, fetches
page 1 with an API token, then starts a bare Starlette app in another subprocess that serves
those exact bytes from memory: the baseline. Each server is driven by 32 concurrent
keep-alive HTTP/1.1 connections for a fixed number of requests after a warm-up, alternating
real and bare (A B A B ...) for several rounds; medians over rounds are reported.

Targets: real throughput >= 40% of the bare endpoint's, p99 latency <= 30 ms; the HTML page
`/incidents` (logged-in session) median <= 50 ms over sequential requests.

`--uncached` measures what a reader meets right after a write, when the read cache is empty:
the real app with `read_cache=False` (every request looks up its token and queries the
database) against a bare Starlette endpoint that runs *the same SQL* each request with the
driver alone (`sqlite3`, or psycopg for `--database-url postgresql+psycopg://...`) and
writes the same JSON with orjson. The SQL is the app's own: the list service runs once in
this process with the statements logged, and the bare server replays them with the same
parameters (checked to give the same bytes). Targets: throughput >= 50% of the bare
endpoint's, p99 <= 30 ms. `--compare-src DIR` adds the real app as found in another source
tree (say, the main checkout before a change), measured in the same rounds.

The load generator is a small asyncio client (far cheaper per request than a full HTTP
client library) but it still needs CPU. On a machine with two or more cores the servers are
pinned to core 0 and the client to core 1 so they do not compete; `--no-pin` turns that off.

Run: python benchmarks/api_list.py [--incidents 10000] [--requests 3000] [--rounds 3]
         [--uncached [--compare-src DIR]] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _load import (
    HOST,
    Run,
    add_load_options,
    drive,
    login,
    median_run,
    pinned,
    serve_bytes,
    serve_real,
    start_server,
)

PATH = "/api/v1/incidents?limit=50"
THROUGHPUT_TARGET = 0.40
UNCACHED_TARGET = 0.50
PG_POOL = 10
P99_TARGET_MS = 30.0
PAGE_TARGET_MS = 50.0


# -- servers (run in subprocesses) ---------------------------------------------------------------


def serve_bare(body_file: str, port: int) -> None:
    serve_bytes(body_file, port, ["/api/v1/incidents"], "application/json")


def serve_bare_sql(plan_file: str, port: int) -> None:
    """The same SQL as the app's list service, replayed with the driver, and the same JSON."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    plan = json.loads(Path(plan_file).read_text())
    page = BarePage(plan["url"], [(sql, params) for sql, params in plan["statements"]], 50)

    async def incidents(request: Request) -> Response:  # noqa: ARG001
        # SQLite answers in microseconds: on the loop. A server's round trips: in threads,
        # each with a connection of the pool, as the app does.
        body = page.body() if page.sqlite else await run_in_threadpool(page.body)
        return Response(body, media_type="application/json")

    async def healthz(request: Request) -> Response:  # noqa: ARG001
        return Response(b'{"status":"ok"}', media_type="application/json")

    app = Starlette(routes=[Route("/api/v1/incidents", incidents), Route("/healthz", healthz)])
    uvicorn.run(app, host=HOST, port=port, log_level="warning", access_log=False, workers=1)


class BarePage:
    """Runs the captured statements (the page, whose rows carry the count as their last
    column, then the links; or, as the list service asked them before, count, page and
    links) and writes the page as the API does: the hand-written floor the real list path
    is measured against."""

    KINDS = ("services", "teams", "tags")
    MILESTONES = ("started", "detected", "declared", "acknowledged", "mitigated", "resolved",
                  "closed")  # fmt: skip

    def __init__(self, url: str, statements: list[tuple[str, Any]], limit: int) -> None:
        self.statements = statements
        self.limit = limit
        self.sqlite = url.startswith("sqlite")
        self.pool: queue.SimpleQueue[Any] = queue.SimpleQueue()
        if self.sqlite:
            import sqlite3

            path = url.split(":///", 1)[1]
            self.pool.put(sqlite3.connect(path, isolation_level=None))
        else:
            import psycopg

            dsn = url.replace("postgresql+psycopg://", "postgresql://")
            for _ in range(PG_POOL):  # the app's pool size
                connection = psycopg.connect(dsn)
                connection.execute("SET TIME ZONE 'UTC'")
                connection.commit()
                self.pool.put(connection)

    def _time(self, value: Any) -> Any:
        if value is None or not self.sqlite:
            return value
        return datetime.fromisoformat(value + "+00:00")

    def body(self) -> bytes:
        import orjson

        *count, (page_sql, page_params), (links_sql, links_params) = self.statements
        connection = self.pool.get()
        if self.sqlite:
            connection.execute("BEGIN")
        try:
            total = connection.execute(*count[0]).fetchone()[0] if count else None
            rows = connection.execute(page_sql, page_params).fetchall()
            links = connection.execute(links_sql, links_params).fetchall()
        finally:
            if self.sqlite:
                connection.execute("COMMIT")
            else:
                connection.rollback()
            self.pool.put(connection)
        items, by_id = [], {}
        for row in rows:
            public_id = f"INC-{row[1]}"
            times = [self._time(v) for v in row[9:18]]
            milestones = dict(zip(self.MILESTONES, times[:7], strict=True))
            item = {
                "id": public_id, "number": row[1], "title": row[2], "summary": row[3],
                "severity": row[4], "status": row[5], "type": row[6], "private": bool(row[7]),
                "customer_impact": row[8], "services": [], "teams": [], "tags": [],
                "problem": row[19], "milestones": milestones,
                "created_at": times[7], "updated_at": times[8], "version": row[18],
                "url": f"/incidents/{public_id}", "warnings": [],
            }  # fmt: skip
            items.append(item)
            by_id[row[0]] = item
        for incident_id, kind, value in links:
            by_id[incident_id][self.KINDS[kind]].append(value)
        if total is None:  # the count rode on the page's rows
            total = rows[0][20] if rows else 0
        limit, offset = self.limit, 0
        end = offset + limit
        page = {"items": items, "total": total, "limit": limit, "offset": offset,
                "next_offset": end if end < total else None}  # fmt: skip
        return orjson.dumps(page)


def capture_list_sql(url: str, token: str) -> list[tuple[str, Any]]:
    """The statements (and parameters) the list service runs for page 1 of `PATH`, as the
    token's user: what the bare SQL baseline replays."""
    from sqlalchemy import event

    from afteraction.services import incident_lists, users
    from afteraction.storage.db import make_engine, make_session_factory

    engine = make_engine(url)
    statements: list[tuple[str, Any]] = []

    def log(_c: Any, _cur: Any, statement: str, parameters: Any, _x: Any, _m: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    try:
        with make_session_factory(engine)() as session:
            user = users.user_for_token(session, token)
            assert user is not None, "the benchmark token names no user"
            actor = users.actor_for(user)
            event.listen(engine, "before_cursor_execute", log)
            incident_lists.list_page(session, actor, incident_lists.IncidentFilters(limit=50))
    finally:
        engine.dispose()
    if len(statements) not in (2, 3):
        raise SystemExit(f"expected page and links statements, got {len(statements)}")
    return statements


# -- the HTML page -------------------------------------------------------------------------------


def page_times(port: int, email: str, password: str, count: int) -> list[float] | str:
    """Milliseconds per sequential `GET /incidents`, or why the page cannot be measured."""
    opener, _cookie = login(port, email, password)
    try:
        response = opener.open(f"http://{HOST}:{port}/incidents")
    except urllib.error.HTTPError as error:
        return f"GET /incidents answered {error.code}; the incident list page is not served yet"
    if "/login" in response.geturl():
        return "GET /incidents redirected to the login page; the session was not accepted"
    response.read()
    times = []
    for _ in range(count):
        began = time.perf_counter()
        opener.open(f"http://{HOST}:{port}/incidents").read()
        times.append((time.perf_counter() - began) * 1e3)
    return times


# -- report --------------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    add_load_options(parser, requests=3_000, warmup=300)
    parser.add_argument("--page-requests", type=int, default=200)
    parser.add_argument(
        "--uncached", action="store_true", help="Read cache off, against the same SQL bare."
    )
    parser.add_argument(
        "--compare-src", help="With --uncached: also run the app from this source tree."
    )
    parser.add_argument(
        "--database-url", help="An empty PostgreSQL database to fill (default: a SQLite file)."
    )
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from _data import build_database

    pin = pinned(args)
    workdir = Path(tempfile.mkdtemp(prefix="afteraction-bench-"))
    began = time.perf_counter()
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    data = build_database(url, incidents=args.incidents)
    print(f"built {data.incidents:,} incidents in {time.perf_counter() - began:.1f}s")
    headers = {"Authorization": f"Bearer {data.token}"}
    servers: list[subprocess.Popen[bytes]] = []
    try:
        if args.uncached:
            _uncached_main(args, data, workdir, pin, servers)
            return
        real, real_port = start_server(__file__, "real", data.url, pin=pin)
        servers.append(real)
        request = urllib.request.Request(f"http://{HOST}:{real_port}{PATH}", headers=headers)
        body = urllib.request.urlopen(request).read()
        (workdir / "page1.json").write_bytes(body)
        bare, bare_port = start_server(__file__, "bare", str(workdir / "page1.json"), pin=pin)
        servers.append(bare)
        if pin:
            os.sched_setaffinity(0, {1})
        _report_api(args, headers, real_port, bare_port, len(body), pin)
        uncached, uncached_port = start_server(__file__, "uncached", data.url, pin=pin)
        servers.append(uncached)
        _report_uncached(args, headers, uncached_port)
        _report_page(args, real_port, data.admin_email, data.admin_password)
    finally:
        for process in servers:
            process.terminate()
            process.wait(10)


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time a server process has used: on a shared machine, what a
    request costs even when other work takes turns on the same core."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _fetch(port: int, headers: dict[str, str]) -> bytes:
    request = urllib.request.Request(f"http://{HOST}:{port}{PATH}", headers=headers)
    body: bytes = urllib.request.urlopen(request).read()
    return body


def _uncached_main(
    args: argparse.Namespace,
    data: Any,
    workdir: Path,
    pin: bool,
    servers: list[subprocess.Popen[bytes]],
) -> None:
    """Real app with the read cache off (and, with --compare-src, another tree's) against
    the bare endpoint replaying the same SQL, alternating in rounds."""
    headers = {"Authorization": f"Bearer {data.token}"}
    plan = {"url": data.url, "statements": capture_list_sql(data.url, data.token)}
    (workdir / "plan.json").write_text(json.dumps(plan))
    ports: dict[str, int] = {}
    pids: dict[str, int] = {}
    for name, mode, argument, source in (
        ("real", "uncached", data.url, None),
        ("before", "uncached", data.url, args.compare_src),
        ("bare SQL", "bare-sql", str(workdir / "plan.json"), None),
    ):
        if name == "before" and not source:
            continue
        process, ports[name] = start_server(__file__, mode, argument, pin=pin, source=source)
        servers.append(process)
        pids[name] = process.pid
    bodies = {name: _fetch(port, headers) for name, port in ports.items()}
    same = bodies["real"] == bodies["bare SQL"]
    print(f"GET {PATH} with the read cache off: {len(bodies['real']):,} bytes; bare SQL "
          f"endpoint's body {'identical' if same else 'DIFFERENT'}")  # fmt: skip
    for statement, _ in plan["statements"]:
        print("  SQL:", " ".join(statement.split())[:150])
    if pin:
        os.sched_setaffinity(0, {1})
    runs: dict[str, list[Run]] = {name: [] for name in ports}
    cpu: dict[str, list[float]] = {name: [] for name in ports}
    for number in range(1, args.rounds + 1):
        for name, port in ports.items():
            drive(port, PATH, headers, args.warmup, args.concurrency)
            used = _cpu_seconds(pids[name])
            run = drive(port, PATH, headers, args.requests, args.concurrency)
            cpu[name].append((_cpu_seconds(pids[name]) - used) / args.requests * 1e3)
            runs[name].append(run)
            print(f"  round {number} {name:8}: {run.rps:8.0f} req/s  "
                  f"p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms  "
                  f"server CPU {cpu[name][-1]:.2f} ms/request")  # fmt: skip
    medians = {name: median_run(found) for name, found in runs.items()}
    print("medians over rounds:")
    for name, run in medians.items():
        print(f"  {name:9}{run.rps:7.0f} req/s  p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms"
              f"  server CPU {statistics.median(cpu[name]):.2f} ms/request")  # fmt: skip
    bare = medians["bare SQL"]
    bare_cpu = statistics.median(cpu["bare SQL"])
    for name in ("before", "real"):
        if name in medians:
            ratios = [r.rps / b.rps for r, b in zip(runs[name], runs["bare SQL"], strict=True)]
            print(f"  {name}/bare throughput ratio {medians[name].rps / bare.rps:.2f} "
                  f"(per round {', '.join(f'{r:.2f}' for r in ratios)}); bare/{name} CPU "
                  f"per request {bare_cpu / statistics.median(cpu[name]):.2f}")  # fmt: skip
    real = medians["real"]
    ratio = real.rps / bare.rps
    print(f"  ratio {ratio:.2f} (target >= {UNCACHED_TARGET:.2f}): "
          f"{_verdict(ratio >= UNCACHED_TARGET)}")  # fmt: skip
    print(f"  real p99 {real.p99_ms:.1f} ms (target <= {P99_TARGET_MS:.0f} ms): "
          f"{_verdict(real.p99_ms <= P99_TARGET_MS)}")  # fmt: skip


def _report_api(
    args: argparse.Namespace,
    headers: dict[str, str],
    real_port: int,
    bare_port: int,
    size: int,
    pin: bool,
) -> None:
    print(
        f"GET {PATH}: {size:,} bytes, {args.concurrency} concurrent keep-alive connections, "
        f"{args.requests:,} requests per run after {args.warmup} warm-up, {args.rounds} rounds"
    )
    if pin:
        print("servers pinned to CPU 0, load generator to CPU 1")
    else:
        print("not pinned: the load generator shares the CPUs with the server under test")
    real_runs, bare_runs = [], []
    for number in range(1, args.rounds + 1):
        for name, port, runs in (("real", real_port, real_runs), ("bare", bare_port, bare_runs)):
            drive(port, PATH, headers, args.warmup, args.concurrency)
            run = drive(port, PATH, headers, args.requests, args.concurrency)
            runs.append(run)
            print(
                f"  round {number} {name:4}: {run.rps:8.0f} req/s  "
                f"p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms"
            )
    real, bare = median_run(real_runs), median_run(bare_runs)
    ratio = real.rps / bare.rps
    print("medians over rounds:")
    for name, run in (("real app", real), ("bare Starlette", bare)):
        print(
            f"  {name:15}{run.rps:7.0f} req/s  p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms"
        )
    print(f"  throughput ratio {ratio:.2f} (target >= {THROUGHPUT_TARGET:.2f}): "
          f"{_verdict(ratio >= THROUGHPUT_TARGET)}")  # fmt: skip
    print(f"  real p99 {real.p99_ms:.1f} ms (target <= {P99_TARGET_MS:.0f} ms): "
          f"{_verdict(real.p99_ms <= P99_TARGET_MS)}")  # fmt: skip


def _report_uncached(args: argparse.Namespace, headers: dict[str, str], port: int) -> None:
    """The same endpoint with the read cache turned off: every request queries the database."""
    total = max(200, args.requests // 5)
    drive(port, PATH, headers, args.warmup // 5, args.concurrency)
    run = drive(port, PATH, headers, total, args.concurrency)
    print(
        f"  with read_cache off (every request queries the database, {total} requests): "
        f"{run.rps:.0f} req/s  p50 {run.p50_ms:.1f} ms  p99 {run.p99_ms:.1f} ms"
    )


def _report_page(args: argparse.Namespace, port: int, email: str, password: str) -> None:
    result = page_times(port, email, password, args.page_requests)
    if isinstance(result, str):
        print(f"HTML list page: skipped ({result})")
        return
    median = statistics.median(result)
    print(
        f"HTML /incidents: {len(result)} sequential requests, median {median:.1f} ms, "
        f"p90 {statistics.quantiles(result, n=10)[-1]:.1f} ms "
        f"(target median <= {PAGE_TARGET_MS:.0f} ms): {_verdict(median <= PAGE_TARGET_MS)}"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-real":
        serve_real(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "--serve-uncached":
        serve_real(sys.argv[2], int(sys.argv[3]), read_cache=False)
    elif len(sys.argv) == 4 and sys.argv[1] == "--serve-bare":
        serve_bare(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "--serve-bare-sql":
        serve_bare_sql(sys.argv[2], int(sys.argv[3]))
    else:
        main()
