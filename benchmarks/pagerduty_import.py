"""Benchmark: import a PagerDuty incident with 10,000 log entries (parse + write).

Synthetic, deterministic data (seeded): one incident, 60 users, 10,000 log entries of the
common types (trigger, notify with a channel, acknowledge, assign, escalate, annotate,
resolve). Baseline in the same run: parsing the same files with the adapters only
(`parse_incident`, `parse_log_entries`, `parse_users`). The target is ≤ 2 s for the whole
import into a fresh migrated SQLite database.

Run: python benchmarks/pagerduty_import.py
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from afteraction.adapters import pagerduty as pd
from afteraction.core.access import SYSTEM
from afteraction.services.imports.pagerduty import import_pagerduty, read_input
from afteraction.storage import db as storage_db

ENTRIES = 10_000
USERS = 60
RUNS = 5
T0 = datetime(2026, 10, 20, 20, 0, tzinfo=UTC)
TYPES = ("notify", "notify", "notify", "acknowledge", "assign", "escalate", "annotate")
METHODS = ("sms_notification", "phone_notification", "push_notification", "email_notification")


def _user(index: int) -> dict[str, object]:
    return {"id": f"PU{index:05d}", "type": "user_reference", "summary": f"Person {index} Bench"}


def _entry(rng: random.Random, index: int, kind: str) -> dict[str, object]:
    user = _user(rng.randrange(USERS))
    entry: dict[str, object] = {
        "id": f"R{index:08d}",
        "type": f"{kind}_log_entry",
        "summary": f"{kind} by {user['summary']}",
        "created_at": (T0 + timedelta(seconds=index * 3)).isoformat().replace("+00:00", "Z"),
        "incident": {"id": "PBENCH1", "type": "incident_reference"},
        "agent": user,
        "channel": {"type": "auto"},
    }
    if kind == "notify":
        entry["user"] = user
        entry["channel"] = {"type": "notification", "notification": {"type": rng.choice(METHODS)}}
    elif kind in ("assign", "escalate"):
        entry["assignees"] = [user]
        entry["escalation_level"] = rng.randint(1, 3)
    elif kind == "annotate":
        entry["summary"] = f"see https://github.com/bench/svc/pull/{rng.randrange(400)}"
    return entry


def write_export(folder: Path, seed: int = 42) -> None:
    rng = random.Random(seed)
    kinds = ["trigger"] + [rng.choice(TYPES) for _ in range(ENTRIES - 2)] + ["resolve"]
    entries = [_entry(rng, i, kind) for i, kind in enumerate(kinds)]
    incident = {
        "id": "PBENCH1",
        "type": "incident",
        "incident_number": 1,
        "title": "Benchmark incident",
        "status": "resolved",
        "urgency": "high",
        "priority": {"summary": "P2"},
        "created_at": entries[0]["created_at"],
        "resolved_at": entries[-1]["created_at"],
    }
    users = [
        {"id": f"PU{i:05d}", "name": f"Person {i} Bench", "email": f"p{i}@bench.example"}
        for i in range(USERS)
    ]
    (folder / "incident.json").write_text(json.dumps({"incident": incident}))
    (folder / "log_entries.json").write_text(json.dumps({"log_entries": entries}))
    (folder / "users.json").write_text(json.dumps({"users": users}))


def parse_only(folder: Path) -> float:
    started = time.perf_counter()
    incident = pd.parse_incident(folder / "incident.json")
    pages = pd.parse_log_entries(folder / "log_entries.json", incident_id=incident.id)
    pd.parse_users(folder / "users.json")
    assert len(pages) == ENTRIES
    return time.perf_counter() - started


def full_import(folder: Path, workdir: Path, run: int) -> tuple[float, float]:
    url = f"sqlite:///{workdir / f'bench-{run}.db'}"
    storage_db.upgrade(url)
    engine = storage_db.make_engine(url)
    session = storage_db.make_session_factory(engine)()
    try:
        started = time.perf_counter()
        with storage_db.writing(session):
            summary = import_pagerduty(session, SYSTEM, folder)
        first = time.perf_counter() - started
        assert summary.counts["pages"] == ENTRIES, summary.counts
        started = time.perf_counter()
        with storage_db.writing(session):
            again = import_pagerduty(session, SYSTEM, folder)
        second = time.perf_counter() - started
        assert again.already_imported
        return first, second
    finally:
        session.close()
        engine.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        folder = workdir / "pd"
        folder.mkdir()
        write_export(folder)
        read_input(folder)  # warm imports and the file cache
        baseline = [parse_only(folder) for _ in range(RUNS)]
        runs = [full_import(folder, workdir, run) for run in range(RUNS)]
    parse_median = statistics.median(baseline)
    import_median = statistics.median(r[0] for r in runs)
    again_median = statistics.median(r[1] for r in runs)
    print(f"{ENTRIES} PagerDuty log entries, {USERS} users, median of {RUNS} runs")
    print(f"  baseline, parse only:          {parse_median * 1000:8.1f} ms")
    print(f"  import (parse + write):        {import_median * 1000:8.1f} ms  (target ≤ 2000 ms)")
    print(f"  ratio import / parse:          {import_median / parse_median:8.2f}×")
    print(f"  re-import of the same export:  {again_median * 1000:8.1f} ms")
    print("  within target" if import_median <= 2.0 else "  OVER TARGET")


if __name__ == "__main__":
    main()
