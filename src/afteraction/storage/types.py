"""Column types shared by the tables: timezone-aware UTC datetimes on every backend, and
membership in a list of ids bound as one value (`InIds`).

SQLite has no time zone type, so values are normalised to UTC on the way in and given
`timezone.utc` on the way out; a naive datetime is refused rather than guessed. On SQLite
the stored text becomes an aware datetime in one step (`_sqlite_utc`): lists read many.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import BigInteger, Boolean, DateTime, Dialect, Text, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} refused; give a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def result_processor(
        self, dialect: Dialect, coltype: Any
    ) -> Callable[[Any], datetime | None] | None:
        if dialect.name == "sqlite":
            return _sqlite_utc
        return super().result_processor(dialect, coltype)

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _sqlite_utc(value: str | None) -> datetime | None:
    """SQLite's stored text (`2026-05-01 10:00:00.000000`, UTC) as an aware datetime.

    Parsing the text with its offset appended gives `UTC` itself as the zone, about four
    times faster than `.replace(tzinfo=UTC)` after parsing; text that already carries an
    offset is converted instead."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value + "+00:00")
    except ValueError:
        parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class _IdListType(TypeDecorator[list[int]]):
    """A list of row ids bound as one value: JSON text on SQLite (read with `json_each`),
    an integer array on PostgreSQL."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(BigInteger))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: list[int] | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return orjson.dumps([int(v) for v in value]).decode()


class InIds(ColumnElement[bool]):
    """`column IN (ids)` with the ids bound as one value (`_IdListType`), so that the
    statement is compiled once and reused, whatever the number of ids: an expanding
    `IN` is compiled anew for each call, which a list read made on every request."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition as it is, never compared with 1
    _traverse_internals = [  # what the cache key holds (SQLAlchemy's form)
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, name: str) -> None:
        self.column = column
        self.ids = bindparam(name, type_=_IdListType())


@compiles(InIds, "postgresql")
def _in_ids_postgresql(element: InIds, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY({compiler.process(element.ids, **kw)})"


@compiles(InIds)
def _in_ids(element: InIds, compiler: Any, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} IN (SELECT value FROM json_each({ids}))"
