"""Build the demo into a fresh SQLite file and dump every table's rows in a stable order.

A test helper and a command: two builds of the same demo must dump the same text, so a
change to how the demo is stored or loaded can be proved not to change what a user sees.
Values that differ from one build to the next by design are masked: password hashes (a
fresh salt each time, `MASKED`) and every moment that falls within the build itself (rows
stamped with the wall clock as they were written: `created_at`, audit times, import times).

Run: python -m tests.demo.dump_demo OUT.txt [--keep DB]
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Columns whose values change between two builds of the same demo whatever their value.
MASKED: dict[str, frozenset[str]] = {"users": frozenset({"password_hash"})}
MASK = "<masked>"
MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True, slots=True)
class Window:
    """The wall-clock span of one build: a moment inside it is a write time, not data."""

    start: datetime
    end: datetime

    def holds(self, value: object) -> bool:
        if not isinstance(value, str) or not MOMENT.match(value):
            return False
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return self.start <= moment <= self.end


def build(path: Path) -> Window:
    """Migrate `path` and load the demo into it, as `afteraction demo --no-serve` does but
    for the story date (a demo started later moves every date by whole weeks); return the
    wall-clock span of the build."""
    from afteraction.demo.load import load_demo
    from afteraction.storage.db import make_engine, make_session_factory, upgrade

    url = f"sqlite:///{path}"
    start = datetime.now(UTC) - timedelta(seconds=1)
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        load_demo(session)
    engine.dispose()
    return Window(start, datetime.now(UTC) + timedelta(seconds=1))


def _value(value: object) -> object:
    if isinstance(value, bytes):
        return "bytes:" + value.hex()
    return value


def dump(path: Path, window: Window) -> str:
    """Every table's rows (full-text index internals included), tables by name and rows
    sorted by all their columns."""
    connection = sqlite3.connect(path)
    try:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                "'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"
            )
        ]
        out: list[str] = []
        for name in names:
            cursor = connection.execute(f'SELECT * FROM "{name}"')
            columns = [d[0] for d in cursor.description]
            masked = MASKED.get(name, frozenset())
            rows = [
                [
                    MASK if col in masked or window.holds(v) else _value(v)
                    for col, v in zip(columns, row, strict=True)
                ]
                for row in cursor
            ]
            rows.sort(key=lambda r: json.dumps(r, default=str))
            out.append(f"== {name} ({len(rows)} rows) {columns}")
            out.extend(json.dumps(r, ensure_ascii=False, default=str) for r in rows)
        return "\n".join(out) + "\n"
    finally:
        connection.close()


def build_and_dump(keep: Path | None = None) -> str:
    with tempfile.TemporaryDirectory(prefix="afteraction-dump-") as tmp:
        path = keep or Path(tmp) / "demo.db"
        return dump(path, build(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--keep", type=Path, help="build into this file and keep it")
    args = parser.parse_args(argv)
    args.out.write_text(build_and_dump(args.keep), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
