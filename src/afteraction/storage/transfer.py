"""Every row of afteraction's tables, out and in, as plain JSON values, whatever the
database: the storage half of `afteraction export --json` / `afteraction import-all`.

Values leave as JSON (times as ISO 8601 in UTC, dates as ISO dates, JSON columns as they
are) and come back through the same column types, so a SQLite export loads into PostgreSQL
and back. Foreign keys that close a cycle (`use_alter`, e.g. people.source_id) are loaded
empty and filled in once every table is in. Only tables of `Base.metadata` move: the full-text
index and the milestone numbers are rebuilt by the database's own triggers and indexes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Date, Integer, Table, func, inspect, select, text, update
from sqlalchemy.sql.type_api import TypeEngine

from afteraction.storage.models import Base
from afteraction.storage.types import UTCDateTime

BATCH = 2000


def tables(connection: Connection) -> list[Table]:
    """afteraction's tables present in the database, parents before children."""
    present = set(inspect(connection).get_table_names())
    return [t for t in Base.metadata.sorted_tables if t.name in present]


def column_names(table: Table) -> list[str]:
    return [str(c.name) for c in table.columns]


def rows(connection: Connection, table: Table) -> Iterator[list[Any]]:
    """The table's rows in primary-key order, each a list of JSON-ready values."""
    order = list(table.primary_key.columns) or list(table.columns)
    query = select(*table.columns).order_by(*order)
    result = connection.execution_options(yield_per=BATCH).execute(query)
    for row in result:
        yield [_out(value) for value in row]


def _out(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _reader(kind: TypeEngine[Any]) -> Any:
    if isinstance(kind, UTCDateTime):
        return datetime.fromisoformat
    if isinstance(kind, Date):
        return date.fromisoformat
    return None


def _deferred(table: Table) -> list[str]:
    """Columns of foreign keys that close a cycle: loaded empty, set after every table."""
    return [fk.parent.name for fk in table.foreign_keys if fk.use_alter]


def clear(connection: Connection, names: Sequence[str]) -> None:
    """Empty the named tables, children first."""
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in names:
            connection.execute(table.delete())


def load(
    connection: Connection, table: Table, columns: Sequence[str], batch: list[list[Any]]
) -> list[tuple[Any, dict[str, Any]]]:
    """Insert a batch of exported rows; returns the cycle-closing values to set later as
    (primary key, {column: value})."""
    known = {c.name: c for c in table.columns}
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise ValueError(f"table {table.name} has no column {', '.join(unknown)}")
    readers = [_reader(known[c].type) for c in columns]
    deferred = [c for c in _deferred(table) if c in columns]
    key = [c.name for c in table.primary_key.columns]
    later: list[tuple[Any, dict[str, Any]]] = []
    values = []
    for raw in batch:
        row = {
            c: (read(v) if read is not None and v is not None else v)
            for c, v, read in zip(columns, raw, readers, strict=True)
        }
        held = {c: row[c] for c in deferred if row[c] is not None}
        if held:
            later.append((tuple(row[k] for k in key), held))
            row.update(dict.fromkeys(held))
        values.append(row)
    if values:
        connection.execute(table.insert(), values)
    return later


def fill_deferred(
    connection: Connection, table: Table, later: list[tuple[Any, dict[str, Any]]]
) -> None:
    key = list(table.primary_key.columns)
    for ids, held in later:
        condition = [column == value for column, value in zip(key, ids, strict=True)]
        connection.execute(update(table).where(*condition).values(**held))


def reset_sequences(connection: Connection, loaded: Sequence[Table]) -> None:
    """PostgreSQL: move each integer primary key's sequence past the loaded ids."""
    if connection.dialect.name != "postgresql":
        return
    for table in loaded:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        sequence = connection.scalar(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": pk[0].name}
        )
        if sequence is None:
            continue
        top = connection.scalar(select(func.max(pk[0])))
        connection.execute(
            text("SELECT setval(:s, :v, :called)"),
            {"s": sequence, "v": top or 1, "called": top is not None},
        )


def count(connection: Connection, table: Table) -> int:
    return int(connection.scalar(select(func.count()).select_from(table)) or 0)
