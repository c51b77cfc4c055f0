"""Benchmark: the pages an incident's responders keep open, read by 32 clients while a write
lands every second.

Builds the bundled demo (`afteraction demo --no-serve`) into a temporary SQLite file,
starts the real app under uvicorn in a subprocess and logs in as the demo's investigator.
For each page of the flagship incident (the incident page, the transcript's first screen,
the people analysis), 32 keep-alive connections read it:

- `quiet`: nobody writes;
- `writes`: a writer posts an incident update through the API once a second, so every
  second a commit invalidates what was cached and the next readers wait for a render;
- `bare`: a bare Starlette app serving the same page's bytes from memory (the ceiling).

Rounds alternate real and bare; medians over rounds are printed with the ratio
writes / bare. Targets (issue "proof under load"): under writes, throughput >= 50 % of the
bare endpoint's and p99 <= 30 ms. A last line shows the same page with the page cache off
(`read_cache=False`): every request renders, which is what the cache saves.

Run: python benchmarks/pages_under_writes.py [--requests 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

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

PAGES = ("/incidents/INC-301", "/incidents/INC-301/transcript", "/incidents/INC-301/people")
EMAIL, PASSWORD = "investigator@example.com", "afteraction-demo"
THROUGHPUT_TARGET = 0.50
P99_TARGET_MS = 30.0


class Writer(threading.Thread):
    """Posts an update on the flagship incident once a second until stopped."""

    def __init__(self, opener: urllib.request.OpenerDirector, port: int, csrf: str) -> None:
        super().__init__(daemon=True)
        self.opener, self.port, self.csrf = opener, port, csrf
        self.stopped = threading.Event()
        self.writes = 0

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            request = urllib.request.Request(
                f"http://{HOST}:{self.port}/api/v1/incidents/INC-301/updates",
                data=b'{"body": "still investigating"}',
                headers={"Content-Type": "application/json", "X-CSRF-Token": self.csrf},
                method="POST",
            )
            with self.opener.open(request) as response:
                if response.status != 201:
                    raise SystemExit(f"the writer's update answered {response.status}")
            self.writes += 1


def build_demo(workdir: Path) -> str:
    url = f"sqlite:///{workdir / 'demo.db'}"
    afteraction = Path(sys.executable).with_name("afteraction")
    command = [str(afteraction), "--database-url", url, "demo", "--no-serve"]
    subprocess.run(command, cwd=workdir, check=True, capture_output=True)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    add_load_options(parser, requests=2000, warmup=200)
    args = parser.parse_args()
    pin = pinned(args)
    workdir = Path(tempfile.mkdtemp(prefix="afteraction-pages-"))
    url = build_demo(workdir)
    script = str(Path(__file__).resolve())
    servers: list[subprocess.Popen[bytes]] = []
    try:
        real, real_port = start_server(script, "real", url, pin=pin)
        uncached, uncached_port = start_server(script, "uncached", url, pin=pin)
        servers += [real, uncached]
        opener, cookie = login(real_port, EMAIL, PASSWORD)
        _, uncached_cookie = login(uncached_port, EMAIL, PASSWORD)
        page = opener.open(f"http://{HOST}:{real_port}/incidents/INC-301").read().decode()
        csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        print(
            f"{args.concurrency} keep-alive connections, {args.requests:,} requests a run "
            f"after {args.warmup} warm-up, {args.rounds} rounds; "
            + ("servers on CPU 0, clients on CPU 1" if pin else "not pinned")
        )
        if pin:
            import os

            os.sched_setaffinity(0, {1})
        for path in PAGES:
            body = opener.open(f"http://{HOST}:{real_port}{path}").read()
            (workdir / "page.html").write_bytes(body)
            bare, bare_port = start_server(script, "bare", f"{workdir / 'page.html'}|{path}",
                                           pin=pin)  # fmt: skip
            try:
                _report(args, path, len(body), real_port, bare_port, cookie, opener, csrf)
                off = drive(uncached_port, path, {"Cookie": uncached_cookie},
                            max(50, args.requests // 20), args.concurrency)  # fmt: skip
                print(f"  page cache off, every request renders: {off.line()}")
            finally:
                bare.terminate()
                bare.wait(10)
    finally:
        for process in servers:
            process.terminate()
            process.wait(10)


def _report(
    args: argparse.Namespace,
    path: str,
    size: int,
    real_port: int,
    bare_port: int,
    cookie: str,
    opener: urllib.request.OpenerDirector,
    csrf: str,
) -> None:
    print(f"GET {path} ({size:,} bytes)")
    headers = {"Cookie": cookie}
    runs: dict[str, list[Run]] = {"quiet": [], "writes": [], "bare": []}
    writes = 0
    for number in range(1, args.rounds + 1):
        for name in runs:
            port = bare_port if name == "bare" else real_port
            drive(port, path, headers, args.warmup, args.concurrency)
            writer = Writer(opener, real_port, csrf) if name == "writes" else None
            if writer:
                writer.start()
            began = time.perf_counter()
            run = drive(port, path, headers, args.requests, args.concurrency)
            took = time.perf_counter() - began
            if writer:
                writer.stopped.set()
                writer.join()
                # a run shorter than a few seconds would see few writes or none
                run = _longer(run, took, writer, port, path, headers, args)
                writes += writer.writes
            runs[name].append(run)
            print(f"  round {number} {name:6}: {run.line()}")
    medians = {name: median_run(found) for name, found in runs.items()}
    writes_run, bare = medians["writes"], medians["bare"]
    ratio = writes_run.rps / bare.rps
    print(f"  medians: quiet {medians['quiet'].line()}")
    print(f"           writes {writes_run.line()}  ({writes} writes in all)")
    print(f"           bare  {bare.line()}")
    print(f"  under writes / bare throughput {ratio:.2f} (target >= {THROUGHPUT_TARGET:.2f}): "
          f"{'meets' if ratio >= THROUGHPUT_TARGET else 'MISSES'} target; p99 "
          f"{writes_run.p99_ms:.1f} ms (target <= {P99_TARGET_MS:.0f} ms): "
          f"{'meets' if writes_run.p99_ms <= P99_TARGET_MS else 'MISSES'} target")  # fmt: skip


def _longer(
    run: Run,
    took: float,
    writer: Writer,
    port: int,
    path: str,
    headers: dict[str, str],
    args: argparse.Namespace,
) -> Run:
    """Rerun a write-load run that ended before three writes landed, with enough requests
    to span about five seconds, so the run measures reads across several commits."""
    if writer.writes >= 3:
        return run
    enough = int(args.requests * 5.0 / max(took, 1e-3))
    again = Writer(writer.opener, writer.port, writer.csrf)
    again.start()
    try:
        return drive(port, path, headers, enough, args.concurrency)
    finally:
        again.stopped.set()
        again.join()
        writer.writes += again.writes


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-real":
        serve_real(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "--serve-uncached":
        serve_real(sys.argv[2], int(sys.argv[3]), read_cache=False)
    elif len(sys.argv) == 4 and sys.argv[1] == "--serve-bare":
        body_file, _, bare_path = sys.argv[2].partition("|")
        serve_bytes(body_file, int(sys.argv[3]), [bare_path], "text/html; charset=utf-8")
    else:
        main()
