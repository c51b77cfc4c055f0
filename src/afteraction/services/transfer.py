"""Move a whole organisation between databases: `afteraction export --json PATH` writes every
row of every afteraction table to one JSON Lines file (gzip-compressed when PATH ends in
.gz), and `afteraction import-all PATH` loads such a file into an empty database of either
kind, so an installation moves from SQLite to PostgreSQL (or back) without losing a row.

The file: a first line `{"format": "afteraction-export", "version": 1, "afteraction": …,
"revision": …, "dialect": …, "rows": {table: count}}`; then, per table, a line
`{"table": name, "columns": [...]}` followed by one JSON array per row; a last line
`{"end": true}`. Times are ISO 8601 in UTC. The export reads one consistent snapshot (one
transaction); the import runs in one transaction and checks every table's count, so it
loads the whole organisation or nothing.

Unlike `afteraction backup`, which copies the database in its own format (fast, same kind
of database only), this is portable and slower; it holds the database only: job queue and
stored uploads of pending imports stay behind.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
from sqlalchemy import Connection

from afteraction import __version__
from afteraction.config import Settings
from afteraction.core.errors import Conflict, ValidationError
from afteraction.storage import transfer
from afteraction.storage.db import current_revision, head_revision, make_engine, upgrade

FORMAT = "afteraction-export"
VERSION = 1
SEEDED = frozenset({"severities", "annotation_tags"})
"""Tables the migrations fill: replaced by the export's rows, and no sign of data."""


@dataclass(frozen=True)
class Transfer:
    path: Path
    dialect: str
    revision: str | None
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


@contextmanager
def _open(path: Path, mode: str, *, compressed: bool) -> Iterator[IO[bytes]]:
    opener: Any = gzip.open if compressed else open
    with opener(path, mode + "b") as handle:
        yield handle


def _compressed(path: Path) -> bool:
    return path.suffix == ".gz"


def export_all(settings: Settings, path: Path) -> Transfer:
    """Write every row of the configured database to `path` (refuses an existing file)."""
    if path.exists():
        raise Conflict(f"{path} exists: choose a new file name")
    engine = make_engine(settings.database_url)
    try:
        revision = current_revision(engine)
        if revision != head_revision():
            raise ValidationError(
                f"the database is at schema revision {revision or 'none'}, this version "
                f"writes {head_revision()}: run `afteraction db upgrade` first"
            )
        with engine.connect() as connection, connection.begin():
            _snapshot(connection)
            present = transfer.tables(connection)
            rows = {str(t.name): transfer.count(connection, t) for t in present}
            part = path.with_name(path.name + ".part")
            try:
                with _open(part, "w", compressed=_compressed(path)) as out:
                    out.write(_line(_header(engine.dialect.name, revision, rows)))
                    for table in present:
                        columns = transfer.column_names(table)
                        out.write(_line({"table": str(table.name), "columns": columns}))
                        for row in transfer.rows(connection, table):
                            out.write(_line(row))
                    out.write(_line({"end": True}))
                part.replace(path)
            finally:
                part.unlink(missing_ok=True)
        return Transfer(path, engine.dialect.name, revision, rows)
    finally:
        engine.dispose()


def _snapshot(connection: Connection) -> None:
    """Make the export's transaction see one snapshot on PostgreSQL (SQLite's read
    transaction already does)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")


def _header(dialect: str, revision: str | None, rows: dict[str, int]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "afteraction": __version__,
        "revision": revision,
        "dialect": dialect,
        "rows": rows,
    }


def _line(value: Any) -> bytes:
    return orjson.dumps(value) + b"\n"


def import_all(settings: Settings, path: Path, *, force: bool = False) -> Transfer:
    """Load an export into the configured database, migrated to this version first. A
    database holding data is refused unless `force`, which replaces all of it."""
    if not path.is_file():
        raise ValidationError(f"no export at {path}", field="path")
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with (
            _open(path, "r", compressed=_compressed(path)) as handle,
            engine.connect() as connection,
        ):
            lines = _lines(handle, path)
            header = _check_header(next(lines, None), path)
            with connection.begin():
                present = {t.name: t for t in transfer.tables(connection)}
                held = [
                    n for n in present if n not in SEEDED and transfer.count(connection, present[n])
                ]
                if held and not force:
                    raise Conflict(
                        f"the database already holds data ({', '.join(held[:5])}…): importing "
                        "replaces all of it: run again with --force to do so"
                    )
                transfer.clear(connection, list(present))
                loaded = _load(connection, present, lines, path)
                _check_counts(connection, present, header["rows"], path)
                transfer.reset_sequences(connection, [present[n] for n in loaded])
            rows = {name: int(count) for name, count in header["rows"].items()}
            return Transfer(path, engine.dialect.name, current_revision(engine), rows)
    finally:
        engine.dispose()


def _lines(handle: IO[bytes], path: Path) -> Iterator[Any]:
    for number, raw in enumerate(handle, 1):
        try:
            yield orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise ValidationError(f"{path}, line {number}: not JSON ({error})") from None
        except (OSError, EOFError) as error:  # a truncated gzip file
            raise ValidationError(f"{path}: cannot be read to the end ({error})") from None


def _check_header(header: Any, path: Path) -> dict[str, Any]:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValidationError(
            f"{path} is not an afteraction export: its first line is not an export header"
        )
    if header.get("version") != VERSION:
        raise ValidationError(
            f"{path} is export format {header.get('version')}; this reads {VERSION}"
        )
    if header.get("revision") != head_revision():
        raise ValidationError(
            f"{path} was written at schema revision {header.get('revision')}, this version is "
            f"at {head_revision()}: import it with the version that wrote it, then upgrade"
        )
    return header


def _load(
    connection: Connection, present: dict[str, Any], lines: Iterator[Any], path: Path
) -> list[str]:
    loaded: list[str] = []
    later: list[tuple[Any, list[tuple[Any, dict[str, Any]]]]] = []
    table = None
    columns: list[str] = []
    batch: list[list[Any]] = []

    def flush() -> None:
        if table is not None and batch:
            try:
                later.append((table, transfer.load(connection, table, columns, batch)))
            except ValueError as error:
                raise ValidationError(f"{path}: {error}") from None
            batch.clear()

    for item in lines:
        if isinstance(item, list):
            if table is None:
                raise ValidationError(f"{path}: a row before any table line")
            batch.append(item)
            if len(batch) >= transfer.BATCH:
                flush()
        elif isinstance(item, dict) and "table" in item:
            flush()
            name = item["table"]
            if name not in present:
                raise ValidationError(f"{path}: table {name!r} is not one of afteraction's")
            table, columns = present[name], list(item["columns"])
            loaded.append(name)
        elif isinstance(item, dict) and item.get("end") is True:
            flush()
            for owner, values in later:
                transfer.fill_deferred(connection, owner, values)
            return loaded
        else:
            raise ValidationError(f"{path}: an unexpected line {str(item)[:80]}")
    raise ValidationError(f"{path} ends before its last line: the export is incomplete")


def _check_counts(
    connection: Connection, present: dict[str, Any], expected: dict[str, int], path: Path
) -> None:
    for name, count in expected.items():
        if name in present and transfer.count(connection, present[name]) != count:
            raise ValidationError(
                f"{path}: table {name} should hold {count} rows after the import; it does not"
            )
