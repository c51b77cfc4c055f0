"""A small HTTP/1.1 load generator and server helpers shared by the web benchmarks.

`drive(port, path, headers, total, concurrency)` opens `concurrency` keep-alive connections
and sends `total` GETs of `path` between them, timing each from the request's first byte
to the response's last; `start_server` runs a benchmark's own `--serve-<mode>` entry in a
subprocess (optionally pinned to CPU 0) and waits for its /healthz. The client is plain
asyncio streams, far cheaper per request than a full HTTP client library, so that it does
not become the bottleneck on a two-core machine. Benchmarks only.
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
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Run:
    rps: float
    p50_ms: float
    p99_ms: float

    def line(self) -> str:
        return f"{self.rps:8.0f} req/s  p50 {self.p50_ms:6.1f} ms  p99 {self.p99_ms:6.1f} ms"


def median_run(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.rps for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(
    script: str, mode: str, argument: str, *, pin: bool, source: str | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """Run `python script --serve-<mode> argument port`; wait until /healthz answers.
    `source` runs the app from that source tree instead of the installed one."""
    port = free_port()
    command = [sys.executable, script, f"--serve-{mode}", argument, str(port)]
    preexec = (lambda: os.sched_setaffinity(0, {0})) if pin else None
    env = dict(os.environ, PYTHONPATH=source) if source else None
    process = subprocess.Popen(command, preexec_fn=preexec, env=env)
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


def can_pin() -> bool:
    return len(os.sched_getaffinity(0)) >= 2


def add_load_options(parser: argparse.ArgumentParser, *, requests: int, warmup: int) -> None:
    """The options every load benchmark takes: --requests, --warmup, --rounds,
    --concurrency and --no-pin (read back with `pinned`)."""
    parser.add_argument("--requests", type=int, default=requests)
    parser.add_argument("--warmup", type=int, default=warmup)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--no-pin", action="store_true", help="Do not pin server and client.")


def pinned(args: argparse.Namespace) -> bool:
    """Whether servers go on CPU 0 and the client on CPU 1."""
    return not args.no_pin and can_pin()


def serve_real(database_url: str, port: int, *, read_cache: bool = True) -> None:
    """The real app on `database_url` (development settings, in-memory job queue), with its
    read and page caches on or off, under uvicorn like the bare servers."""
    import uvicorn

    from afteraction.config import development_settings
    from afteraction.web.app import create_app

    settings = development_settings(
        database_url=database_url, queue_url="memory:", read_cache=read_cache
    )
    uvicorn.run(create_app(settings), host=HOST, port=port, log_level="warning",
                access_log=False, workers=1)  # fmt: skip


def serve_bytes(body_file: str, port: int, paths: list[str], media_type: str) -> None:
    """A bare Starlette app answering each of `paths` with the same bytes from memory."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    body = Path(body_file).read_bytes()

    async def answer(request: Request) -> Response:  # noqa: ARG001
        return Response(body, media_type=media_type)

    async def healthz(request: Request) -> Response:  # noqa: ARG001
        return Response(b'{"status":"ok"}', media_type="application/json")

    routes = [Route(path, answer) for path in paths] + [Route("/healthz", healthz)]
    uvicorn.run(Starlette(routes=routes), host=HOST, port=port, log_level="warning",
                access_log=False, workers=1)  # fmt: skip


def login(port: int, email: str, password: str) -> tuple[urllib.request.OpenerDirector, str]:
    """A logged-in opener and its session's `Cookie` header value."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"http://{HOST}:{port}/login").read().decode()
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": csrf})
    opener.open(f"http://{HOST}:{port}/login", data=form.encode()).read()
    return opener, "; ".join(f"{c.name}={c.value}" for c in jar)


async def _connection(
    port: int,
    request: bytes,
    tickets: itertools.count[int],
    total: int,
    latencies: list[float],
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while next(tickets) < total:
            began = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(_content_length(head))
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


async def _load(port: int, path: str, headers: dict[str, str], total: int, concurrency: int) -> Run:
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: keep-alive"]
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


def drive(port: int, path: str, headers: dict[str, str], total: int, concurrency: int) -> Run:
    return asyncio.run(_load(port, path, headers, total, concurrency))
