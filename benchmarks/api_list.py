"""Benchmark: `GET /api/v1/incidents?limit=50` over 10,000 incidents, and the HTML list page.

Builds a deterministic SQLite database (seeded, `benchmarks/_data.py`), starts the real app
(`create_app(development_settings(...))`) under uvicorn in a subprocess on 127.0.0.1, fetches
page 1 with an API token, then starts a bare Starlette app in another subprocess that serves
those exact bytes from memory: the baseline. Each server is driven by 32 concurrent
keep-alive HTTP/1.1 connections for a fixed number of requests after a warm-up, alternating
real and bare (A B A B ...) for several rounds; medians over rounds are reported.

Targets: real throughput >= 40% of the bare endpoint's, p99 latency <= 30 ms; the HTML page
`/incidents` (logged-in session) median <= 50 ms over sequential requests.

The load generator is a small asyncio client (far cheaper per request than a full HTTP
client library) but it still needs CPU. On a machine with two or more cores the servers are
pinned to core 0 and the client to core 1 so they do not compete; `--no-pin` turns that off.

Run: python benchmarks/api_list.py [--incidents 10000] [--requests 3000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

PATH = "/api/v1/incidents?limit=50"
THROUGHPUT_TARGET = 0.40
P99_TARGET_MS = 30.0
PAGE_TARGET_MS = 50.0
HOST = "127.0.0.1"


# -- servers (run in subprocesses) ---------------------------------------------------------------


def serve_real(database_url: str, port: int, *, read_cache: bool = True) -> None:
    import uvicorn

    from afteraction.config import development_settings
    from afteraction.web.app import create_app

    settings = development_settings(
        database_url=database_url, queue_url="memory:", read_cache=read_cache
    )
    app = create_app(settings)
    uvicorn.run(app, host=HOST, port=port, log_level="warning", access_log=False, workers=1)


def serve_bare(body_file: str, port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    body = Path(body_file).read_bytes()

    async def incidents(request: Request) -> Response:  # noqa: ARG001
        return Response(body, media_type="application/json")

    async def healthz(request: Request) -> Response:  # noqa: ARG001
        return Response(b'{"status":"ok"}', media_type="application/json")

    app = Starlette(routes=[Route("/api/v1/incidents", incidents), Route("/healthz", healthz)])
    uvicorn.run(app, host=HOST, port=port, log_level="warning", access_log=False, workers=1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(mode: str, argument: str, *, pin: bool) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [sys.executable, __file__, f"--serve-{mode}", argument, str(port)]
    preexec = (lambda: os.sched_setaffinity(0, {0})) if pin else None
    process = subprocess.Popen(command, preexec_fn=preexec)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1):
                return process, port
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if process.poll() is not None:
                raise SystemExit(f"{mode} server exited with {process.returncode}") from None
            time.sleep(0.05)
    process.terminate()
    raise SystemExit(f"{mode} server did not answer /healthz within 30 s")


# -- load generator ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    rps: float
    p50_ms: float
    p99_ms: float


async def _connection(port: int, request: bytes, tickets: itertools.count[int], total: int,
                      latencies: list[float]) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while next(tickets) < total:
            began = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = _content_length(head)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - began)
    finally:
        writer.close()


def _content_length(head: bytes) -> int:
    status = head.split(b" ", 2)[1]
    if status != b"200":
        raise SystemExit(f"unexpected status {status.decode()}: {head[:200]!r}")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            return int(value)
    raise SystemExit("response without Content-Length")


async def _load(port: int, headers: dict[str, str], total: int, concurrency: int) -> Run:
    lines = [f"GET {PATH} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    latencies: list[float] = []
    tickets = itertools.count()
    began = time.perf_counter()
    await asyncio.gather(
        *(_connection(port, request, tickets, total, latencies) for _ in range(concurrency))
    )
    elapsed = time.perf_counter() - began
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Run(len(latencies) / elapsed, statistics.median(latencies) * 1e3, p99 * 1e3)


def drive(port: int, headers: dict[str, str], total: int, concurrency: int) -> Run:
    return asyncio.run(_load(port, headers, total, concurrency))


# -- the HTML page -------------------------------------------------------------------------------


def _login_opener(port: int, email: str, password: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    page = opener.open(f"http://{HOST}:{port}/login").read().decode()
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": csrf})
    opener.open(f"http://{HOST}:{port}/login", data=form.encode()).read()
    return opener


def page_times(port: int, email: str, password: str, count: int) -> list[float] | str:
    """Milliseconds per sequential `GET /incidents`, or why the page cannot be measured."""
    opener = _login_opener(port, email, password)
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


def _median_run(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.rps for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
    )


def _verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=3_000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--page-requests", type=int, default=200)
    parser.add_argument("--no-pin", action="store_true", help="Do not pin server and client.")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from _data import build_database

    pin = not args.no_pin and len(os.sched_getaffinity(0)) >= 2
    workdir = Path(tempfile.mkdtemp(prefix="afteraction-bench-"))
    began = time.perf_counter()
    data = build_database(f"sqlite:///{workdir / 'bench.db'}", incidents=args.incidents)
    print(f"built {data.incidents:,} incidents in {time.perf_counter() - began:.1f}s")
    headers = {"Authorization": f"Bearer {data.token}"}
    servers: list[subprocess.Popen[bytes]] = []
    try:
        real, real_port = start_server("real", data.url, pin=pin)
        servers.append(real)
        request = urllib.request.Request(f"http://{HOST}:{real_port}{PATH}", headers=headers)
        body = urllib.request.urlopen(request).read()
        (workdir / "page1.json").write_bytes(body)
        bare, bare_port = start_server("bare", str(workdir / "page1.json"), pin=pin)
        servers.append(bare)
        if pin:
            os.sched_setaffinity(0, {1})
        _report_api(args, headers, real_port, bare_port, len(body), pin)
        uncached, uncached_port = start_server("uncached", data.url, pin=pin)
        servers.append(uncached)
        _report_uncached(args, headers, uncached_port)
        _report_page(args, real_port, data.admin_email, data.admin_password)
    finally:
        for process in servers:
            process.terminate()
            process.wait(10)


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
            drive(port, headers, args.warmup, args.concurrency)
            run = drive(port, headers, args.requests, args.concurrency)
            runs.append(run)
            print(
                f"  round {number} {name:4}: {run.rps:8.0f} req/s  "
                f"p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms"
            )
    real, bare = _median_run(real_runs), _median_run(bare_runs)
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
    drive(port, headers, args.warmup // 5, args.concurrency)
    run = drive(port, headers, total, args.concurrency)
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
    else:
        main()
