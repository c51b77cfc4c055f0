"""Load run: many users for minutes against a real `afteraction serve`, mixed reads, writes
and imports, on SQLite (default) or PostgreSQL (`--database-url`).

Builds the demo organisation into the database, starts `afteraction serve` (one process,
its own job consumer) on loopback, and runs `--users` concurrent clients for `--seconds`.
Each client has its own API token and loops over a weighted mix:

| share | request |
|---|---|
| 35% | `GET /api/v1/incidents?limit=50` |
| 20% | `GET /api/v1/incidents/{key}` |
| 10% | `GET /api/v1/incidents/{key}/people` |
| 10% | `GET /api/v1/incidents/{key}/timeline` |
| 8%  | `GET /api/v1/incidents/{key}/activity` |
| 8%  | `PATCH /api/v1/incidents/{key}` (versioned; a 409 is a correct answer) |
| 5%  | `POST /api/v1/incidents/{key}/updates` |
| 3%  | `POST /api/v1/incidents` |
| 1%  | `POST /api/v1/imports` (a small Slack export), then polled until done |

Reported per request kind: count, error rate (5xx, transport errors, or an import job that
failed), p50 and p99 latency. The baseline is `GET /healthz` sent by the same clients in the
same run (1 in 20 requests): what the server and client cost without afteraction's work.
Target: 0 errors; p99 per endpoint printed with its ratio to the healthz p99.

Run: python benchmarks/load.py [--users 50] [--seconds 300] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
MIX = (
    ("list", 35),
    ("read", 20),
    ("people", 10),
    ("timeline", 10),
    ("activity", 8),
    ("patch", 8),
    ("update", 5),
    ("declare", 3),
    ("import", 1),
)


@dataclass
class Tally:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _export_zip(n: int) -> bytes:
    start = 1_772_445_600 + n * 3600
    users = [{"id": f"UL{n}", "name": f"load{n}", "real_name": f"Load User {n}", "profile": {}}]
    channels = [{"id": f"CL{n}", "name": f"load-{n}", "created": start}]
    day = [
        {"type": "message", "ts": f"{start + i}.000100", "user": f"UL{n}", "text": f"step {i}"}
        for i in range(50)
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("users.json", json.dumps(users))
        archive.writestr("channels.json", json.dumps(channels))
        archive.writestr(f"load-{n}/2026-03-02.json", json.dumps(day))
    return buffer.getvalue()


def _prepare(url: str, users: int) -> tuple[list[str], list[str]]:
    sys.path.insert(0, str(ROOT / "src"))
    from sqlalchemy import select

    from afteraction.core.access import SYSTEM
    from afteraction.demo.load import load_demo
    from afteraction.services import users as accounts
    from afteraction.storage.db import make_engine, make_session_factory, upgrade, writing
    from afteraction.storage.tables import Incident

    upgrade(url)
    engine = make_engine(url)
    session = make_session_factory(engine)()
    load_demo(session)
    session.commit()
    tokens = []
    for n in range(users):
        with writing(session):
            user = accounts.create_user(
                session, SYSTEM, email=f"load{n}@example.com",
                password="load-password-long-enough", role="admin",
            )  # fmt: skip
            tokens.append(
                accounts.issue_token(session, SYSTEM, user_id=user.id, name="load").secret
            )
    keys = [f"INC-{number}" for number in session.scalars(select(Incident.number))]
    session.close()
    engine.dispose()
    return tokens, keys


async def _client(
    base: str, token: str, keys: list[str], until: float, tally: Tally, seed: int
) -> None:
    rng = random.Random(seed)
    kinds, weights = zip(*MIX, strict=True)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
        n = 0
        while time.monotonic() < until:
            n += 1
            kind = "healthz" if n % 20 == 0 else rng.choices(kinds, weights)[0]
            key = rng.choice(keys)
            started = time.perf_counter()
            try:
                problem = await _one(http, kind, key, seed * 100_000 + n)
            except httpx.HTTPError as error:
                problem = f"{type(error).__name__}: {error}"
            tally.times[kind].append(time.perf_counter() - started)
            if problem:
                tally.errors[kind].append(problem)


async def _one(http: httpx.AsyncClient, kind: str, key: str, n: int) -> str:
    if kind == "healthz":
        r = await http.get("/healthz")
    elif kind == "list":
        r = await http.get("/api/v1/incidents", params={"limit": 50})
    elif kind == "read":
        r = await http.get(f"/api/v1/incidents/{key}")
    elif kind in ("people", "timeline", "activity"):
        r = await http.get(f"/api/v1/incidents/{key}/{kind}")
    elif kind == "patch":
        current = await http.get(f"/api/v1/incidents/{key}")
        version = current.json().get("version")
        r = await http.patch(
            f"/api/v1/incidents/{key}", json={"version": version, "summary": f"load edit {n}"}
        )
        if r.status_code == 409:
            return ""
    elif kind == "update":
        r = await http.post(f"/api/v1/incidents/{key}/updates", json={"body": f"update {n}"})
    elif kind == "declare":
        r = await http.post(
            "/api/v1/incidents", json={"title": f"Load incident {n}", "severity": "SEV4"}
        )
    else:
        files = {"file": ("export.zip", _export_zip(n), "application/zip")}
        r = await http.post("/api/v1/imports", data={"kind": "slack"}, files=files)
        if r.status_code != 202:
            return f"{r.status_code}: {r.text[:200]}"
        url = r.json()["status_url"]
        for _ in range(600):
            status = (await http.get(url)).json()
            if status["status"] not in ("queued", "running"):
                return "" if status["status"] == "complete" else f"import {status}"[:200]
            await asyncio.sleep(0.5)
        return "import never finished"
    if r.status_code >= 500:
        return f"{r.status_code}: {r.text[:200]}"
    if r.status_code >= 400:
        return f"unexpected {r.status_code}: {r.text[:200]}"
    return ""


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--database-url", default="")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="afteraction-load-"))
    url = options.database_url or f"sqlite:///{folder / 'load.db'}"
    tokens, keys = _prepare(url, options.users)
    port = _free_port()
    env = {
        **os.environ,
        "AFTERACTION_DATABASE_URL": url,
        "AFTERACTION_ENVIRONMENT": "development",
        "AFTERACTION_UPLOADS_DIR": str(folder / "uploads"),
        "PYTHONPATH": str(ROOT / "src"),
    }
    if not options.database_url:
        env["AFTERACTION_QUEUE_URL"] = f"sqlite:///{folder / 'queue.db'}"
    log = (folder / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "afteraction.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        tally = Tally()
        until = time.monotonic() + options.seconds

        async def run_all() -> None:
            await asyncio.gather(
                *(_client(base, t, keys, until, tally, i) for i, t in enumerate(tokens))
            )

        started = time.perf_counter()
        asyncio.run(run_all())
        took = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=60)
    dialect = url.split(":", 1)[0]
    total = sum(len(v) for v in tally.times.values())
    errors = sum(len(v) for v in tally.errors.values())
    print(f"{options.users} users, {took:.0f} s, {dialect}: {total:,} requests, {errors} errors")
    base_p99 = _p(tally.times["healthz"], 0.99) if tally.times["healthz"] else float("nan")
    print(f"{'request':<10}{'count':>8}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}{'p99/healthz':>13}")
    for kind in ["healthz", *(k for k, _ in MIX)]:
        times = tally.times.get(kind, [])
        if not times:
            continue
        p99 = _p(times, 0.99)
        print(
            f"{kind:<10}{len(times):>8}{len(tally.errors.get(kind, [])):>8}"
            f"{statistics.median(times) * 1000:>9.1f}{p99:>9.1f}{p99 / base_p99:>13.1f}"
        )
    for kind, problems in tally.errors.items():
        for problem in problems[:3]:
            print(f"  {kind}: {problem}")
    print(f"error rate {errors / max(total, 1):.4%} (target 0)")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
