"""Column types shared by the tables: timezone-aware UTC datetimes on every backend.

SQLite has no time zone type, so values are normalised to UTC on the way in and given
`timezone.utc` on the way out; a naive datetime is refused rather than guessed. On SQLite
the stored text becomes an aware datetime in one step (`_sqlite_utc`): lists read many.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
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
