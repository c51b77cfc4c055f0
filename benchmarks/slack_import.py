"""Slack export import speed and memory against a bare baseline, measured in the same run.

Baseline: parse every day file with orjson, insert (channel, user, ts, text) rows with stdlib
`sqlite3.executemany` in one transaction, then build an FTS5 index over the text.
Real: `import_slack_export` (users → people, channels, threads, reactions, mentions, FTS,
and references when attached to an incident) into a fresh migrated SQLite file, in one
transaction. Then the unchanged export again (the already-imported fast path).
Each run is its own subprocess; peak RSS is the child's `ru_maxrss`, and for the real
import also its largest parser process's (a large fresh export is read by up to two
parser processes while the importing process writes: their peaks add up at most to
`peak_rss_mb_real + 2 * peak_rss_mb_largest_parser`).

    python benchmarks/slack_import.py [--messages 1000000] [--channels 20] [--users 300]
                                      [--rounds 1] [--incident] [--keep DIR]
                                      [--parsers auto|N] [--blocks]

Targets (issue 4): real ≤ 2 × baseline time, peak RSS ≤ 300 MB, re-import ≤ 10 % of the
first import.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from slack_synth import generate  # noqa: E402

BASELINE = r"""
import sqlite3, sys, time
from pathlib import Path
import orjson
root, db = Path(sys.argv[1]), sys.argv[2]
t0 = time.perf_counter()
con = sqlite3.connect(db, isolation_level=None)
con.execute("PRAGMA journal_mode=WAL")
con.execute("PRAGMA synchronous=NORMAL")
con.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, channel TEXT, user TEXT, ts TEXT, text TEXT)")
con.execute("BEGIN")
n = 0
for folder in sorted(p for p in root.iterdir() if p.is_dir()):
    for day in sorted(folder.glob("*.json")):
        rows = [(folder.name, m.get("user"), m.get("ts"), m.get("text", ""))
                for m in orjson.loads(day.read_bytes())]
        con.executemany("INSERT INTO m (channel, user, ts, text) VALUES (?, ?, ?, ?)", rows)
        n += len(rows)
con.execute("CREATE VIRTUAL TABLE f USING fts5(text, content='m', content_rowid='id')")
con.execute("INSERT INTO f(f) VALUES ('rebuild')")
con.execute("COMMIT")
import resource
print(n, time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

REAL = r"""
import sys, time
from sqlalchemy import text
from datetime import UTC, datetime
from afteraction.core.access import SYSTEM
from afteraction.services.imports.slack import import_slack_export
from afteraction.storage import db as sdb
from afteraction.services import incidents as repo
root, url, incident = sys.argv[1], sys.argv[2], sys.argv[3]
parsers = None if sys.argv[4] == "auto" else int(sys.argv[4])
engine = sdb.make_engine(url)
session = sdb.make_session_factory(engine)()
if incident == "yes" and not session.scalar(text("SELECT count(*) FROM incidents")):
    with sdb.writing(session):
        repo.declare(session, SYSTEM, repo.IncidentInput(
            title="benchmark", severity="SEV2",
            milestones={"started": datetime(2026, 1, 5, tzinfo=UTC),
                        "declared": datetime(2026, 1, 5, tzinfo=UTC),
                        "closed": datetime(2027, 1, 1, tzinfo=UTC)}))
t0 = time.perf_counter()
with sdb.writing(session, alone=True):  # as `afteraction import slack` does
    summary = import_slack_export(session, SYSTEM, root,
                                  incident="INC-1" if incident == "yes" else None,
                                  parser_processes=parsers)
import resource
print(summary.counts.get("messages", 0), time.perf_counter() - t0,
      int(summary.already_imported), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _child(code: str, *args: str) -> tuple[list[str], float, int]:
    """(stdout words, wall seconds, peak RSS bytes) of a fresh Python process; the child
    prints its own `ru_maxrss` (KiB on Linux) as its last word (the real import prints
    its largest parser process's before it)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"child failed:\n{done.stderr}")
    words = done.stdout.split()
    return words, wall, int(words[-1]) * 1024


def _migrate(url: str) -> None:
    subprocess.run(
        [sys.executable, "-c", f"from afteraction.storage.db import upgrade; upgrade({url!r})"],
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--incident", action="store_true", help="attach to an incident")
    parser.add_argument("--keep", type=Path, help="reuse/keep the export in this folder")
    parser.add_argument(
        "--blocks",
        action="store_true",
        help="people's messages carry rich_text blocks, as in a current Slack export",
    )
    parser.add_argument(
        "--parsers",
        default="auto",
        help="parser processes for the real import: auto (the product's choice) or a number "
        "(0: read in the importing process)",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="slack-bench-"))
    export = args.keep or work / "export"
    if not (export / "users.json").exists():
        t0 = time.perf_counter()
        counts = generate(
            export,
            messages=args.messages,
            channels=args.channels,
            users=args.users,
            blocks=args.blocks,
        )
        print(f"generated {counts} in {time.perf_counter() - t0:.1f} s at {export}")
    size = sum(p.stat().st_size for p in export.rglob("*.json"))
    print(f"export: {size / 1e6:.0f} MB on disk")

    base_times, real_times, again_times = [], [], []
    base_rss = real_rss = again_rss = parser_rss = 0
    n_real = 0
    for round_no in range(args.rounds):
        words, _, base_rss = _child(BASELINE, str(export), str(work / f"base{round_no}.db"))
        base_times.append(float(words[1]))
        url = f"sqlite:///{work / f'real{round_no}.db'}"
        _migrate(url)
        incident = "yes" if args.incident else "no"
        words, _, real_rss = _child(REAL, str(export), url, incident, args.parsers)
        n_real, t_real = int(words[0]), float(words[1])
        parser_rss = max(parser_rss, int(words[3]) * 1024)
        real_times.append(t_real)
        words, _, again_rss = _child(REAL, str(export), url, incident, args.parsers)
        assert words[2] == "1", "second import was not recognised as already imported"
        again_times.append(float(words[1]))

    base, real, again = (statistics.median(x) for x in (base_times, real_times, again_times))
    n = args.messages
    result = {
        "messages": n,
        "blocks": args.blocks,
        "messages_imported": n_real,
        "baseline_s": round(base, 2),
        "baseline_msgs_per_s": round(n / base),
        "real_s": round(real, 2),
        "real_msgs_per_s": round(n / real),
        "ratio_real_over_baseline": round(real / base, 2),
        "target_ratio": 2.0,
        "baseline_runs_s": [round(t, 2) for t in base_times],
        "real_runs_s": [round(t, 2) for t in real_times],
        "reimport_s": round(again, 3),
        "reimport_ratio": round(again / real, 3),
        "target_reimport_ratio": 0.10,
        "peak_rss_mb_baseline": round(base_rss / 1e6),
        "parsers": args.parsers,
        "peak_rss_mb_real": round(real_rss / 1e6),
        "peak_rss_mb_largest_parser": round(parser_rss / 1e6),
        "peak_rss_mb_reimport": round(again_rss / 1e6),
        "target_rss_mb": 300,
    }
    print(json.dumps(result, indent=2))
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
