"""A message row as SQLite binds it, and the staged files parser processes write: no
SQLAlchemy here, so that a Slack parser process (`services.imports.slack_parallel`) starts
by importing this, the adapters, core and the standard library only.

Lives here: the column order of a message row (`COLUMNS`) and its NULL rules; `BoundRows`,
the SQLite sink's maker of bound rows from message records (`core.slack_record`), the one
code that knows that order; `Authors`, what a row says of a message's author (both sinks
use it); turning Python values into the values a SQLite insert binds (`stored_values`,
`stored_time`, `stored_raw`) and the placeholders that turn them back into NULL; and
`StageFile`. Does not live here: any statement on the database itself
(`storage.messages`, `storage.message_sinks`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from afteraction.core.slack_record import ParsedMessage, extra_fields

BATCH = 5000  # rows handed over (and inserted) at a time


COLUMNS = (
    "channel_id",
    "source_id",
    "ts",
    "at",
    "thread_ts",
    "author_external",
    "author_person_id",
    "author_name",
    "subtype",
    "text_raw",
    "text_plain",
    "edited_at",
    "inviter_external",
    "is_bot",
    "hidden",
    "mentions",
    "reactions",
    "files",
    "extra",
)
CHANNEL_COLUMNS = COLUMNS[2:]  # one channel's rows from one source: no channel, no source
_JSON = frozenset({"mentions", "reactions", "files", "extra"})
# Python's sqlite3 binds str and int quickly but sends None and bool through its adapter
# look-up, which costs about 0.25 µs a value: with ten optional columns mostly empty that
# was half of every insert. So an absent optional value travels as "" (0 for the person
# id: ids start at 1) and the statement turns it back into NULL; flags travel as 0/1.
# An empty optional text is therefore stored as NULL, as the parsers already make it.
# The raw text is stored only when it differs from the plain text (`Message.text_raw`): it
# travels as 0 when it is the same, and NULL is stored.
_NULL_ZERO = frozenset({"author_person_id", "text_raw"})
_REQUIRED = frozenset(
    {"channel_id", "source_id", "ts", "at", "author_name", "text_plain"} | {"is_bot", "hidden"}
)


def placeholders(columns: Sequence[str]) -> str:
    """The VALUES of an insert binding rows in `columns` order: each "?" with its NULL
    rule."""
    return ", ".join(stored_null(name, "?") for name in columns)


def stored_null(name: str, operand: str) -> str:
    """The SQL that turns `operand`, column `name`'s bound value, back into what is
    stored: "" or 0 (an absent value, see above) into NULL; required columns as they are."""
    if name in _REQUIRED:
        return operand
    return f"NULLIF({operand}, 0)" if name in _NULL_ZERO else f"NULLIF({operand}, '')"


_AT, _EDITED_AT = CHANNEL_COLUMNS.index("at"), CHANNEL_COLUMNS.index("edited_at")
_RAW, _PLAIN = CHANNEL_COLUMNS.index("text_raw"), CHANNEL_COLUMNS.index("text_plain")
_JSON_AT = tuple(n for n, name in enumerate(CHANNEL_COLUMNS) if name in _JSON)
_FLAGS_AT = (CHANNEL_COLUMNS.index("is_bot"), CHANNEL_COLUMNS.index("hidden"))
_ZERO_AT = tuple(n for n, name in enumerate(CHANNEL_COLUMNS) if name in _NULL_ZERO)
_EMPTY_AT = tuple(
    n
    for n, name in enumerate(CHANNEL_COLUMNS)
    if name not in _REQUIRED | _NULL_ZERO | _JSON and name != "edited_at"
)


def stored_values(values: list[Any]) -> list[Any]:
    """One row in `CHANNEL_COLUMNS` order (changed in place and returned) as the SQLite
    inserts bind it: times and JSON in SQLite's stored form (what `UTCDateTime` and `JSON`
    write), absent optional values as "" or 0, flags as 0/1, the raw text as 0 when it is
    the plain text (stored as NULL, see `stored_raw`). Runs once per imported
    message: the common cases (an aware UTC `at`, no edit time, most JSON columns empty)
    are answered inline."""
    at = values[_AT]
    if at is not None and at.tzinfo is UTC:
        values[_AT] = _utc_text(at)
    else:
        values[_AT] = stored_time(at)
    edited_at = values[_EDITED_AT]
    values[_EDITED_AT] = "" if edited_at is None else stored_time(edited_at)
    for n in _JSON_AT:
        value = values[n]
        values[n] = "" if value is None else orjson.dumps(value).decode()
    values[_RAW] = stored_raw(values[_RAW], values[_PLAIN])  # None travels as 0 below
    for n in _EMPTY_AT:
        if values[n] is None:
            values[n] = ""
    for n in _ZERO_AT:
        if values[n] is None:
            values[n] = 0
    for n in _FLAGS_AT:
        values[n] = 1 if values[n] else 0
    return values


_TWO = [f"{n:02d}" for n in range(100)]
_DAYS: dict[tuple[int, int, int], str] = {}


def _utc_text(value: datetime) -> str:
    """`value.isoformat(" ", "microseconds")` without its "+00:00", for an aware UTC time:
    the naive UTC text `UTCDateTime` writes. Twice as fast as `isoformat`, which formats
    the offset; it runs once per imported message."""
    key = (value.year, value.month, value.day)
    day = _DAYS.get(key)
    if day is None:
        if len(_DAYS) > 100_000:
            _DAYS.clear()
        day = _DAYS[key] = f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
    hour, minute, second = _TWO[value.hour], _TWO[value.minute], _TWO[value.second]
    return f"{day}{hour}:{minute}:{second}.{value.microsecond:06d}"


def stored_raw(raw: str | None, plain: str) -> str | None:
    """The raw text as stored: None when it is the plain text (most messages have no markup
    to decode), which the readers take as the plain text (`Message.raw_text`)."""
    return None if raw is None or raw == plain else raw


def stored_time(value: datetime | None) -> str | None:
    """An aware time as SQLite stores it here: naive UTC text to the microsecond."""
    if value is None:
        return None
    if value.tzinfo is UTC:  # "+00:00" cut off: the naive UTC text `UTCDateTime` writes
        return _utc_text(value)
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r} refused; give a time zone")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


class Authors:
    """What a message's row says of its author, from one import's Slack users: the person
    linked to its user (`person_of`), the name Slack shows (`labels`, unless the message
    names its author), and whether it is a bot's (a bot user, a bot id or a bot_message)."""

    def __init__(
        self, person_of: Mapping[str, int], labels: Mapping[str, str], bot_users: Collection[str]
    ) -> None:
        self.person_of, self.labels, self.bot_users = person_of, labels, bot_users
        self._known: dict[str, tuple[int | None, str, bool]] = {}  # by user id

    def of(self, m: ParsedMessage) -> tuple[int | None, str, bool]:
        """(person id or None, author name, is a bot) of a message."""
        user = m.user_id
        if user:
            facts = self._known.get(user)
            if facts is None:
                facts = self._known[user] = (
                    self.person_of.get(user),
                    self.labels.get(user, "")[:200],
                    user in self.bot_users,
                )
            person, label, bot = facts
        else:
            person, label, bot = None, self.labels.get(m.bot_id or "", "")[:200], False
        name = m.author_name[:200] if m.author_name else label
        return person, name, bot or m.bot_id is not None or m.subtype == "bot_message"


class BoundRows:
    """The SQLite sink's rows (`COLUMNS` order) of message records, as `stored_values`
    would make them of their Python values, made straight from the records: times as
    text from the whole microseconds (each hour's prefix made once), JSON as text, absent
    values as "" or 0. The in-process sink binds them; a parser process stages them."""

    def __init__(self, source_id: int, authors: Authors) -> None:
        self.source_id, self.authors = source_id, authors
        self._hours: dict[int, str] = {}

    def rows(self, channel_id: int, messages: Iterable[ParsedMessage]) -> list[list[Any]]:
        made: list[list[Any]] = []
        add = made.append
        author_of, source_id, hours = self.authors.of, self.source_id, self._hours
        dumps = orjson.dumps
        for m in messages:
            person, name, bot = author_of(m)
            whole, fraction = divmod(m.micros, 1_000_000)
            hour, second = divmod(whole, 3600)
            prefix = hours.get(hour)
            if prefix is None:
                prefix = self._hour(hour)
            text, plain, edited_at = m.text, m.plain, m.edited_at
            mentions, reactions, files = m.mentions, m.reactions, m.file_links
            extra = extra_fields(m)
            add(
                [
                    channel_id,
                    source_id,
                    m.ts,
                    f"{prefix}{_MINUTES_SECONDS[second]}.{fraction:06d}",
                    m.thread_ts or "",
                    m.user_id or m.bot_id or "",
                    person or 0,
                    name,
                    m.subtype or "",
                    0 if text == plain else text,  # `stored_raw`: 0 binds as NULL
                    plain,
                    "" if edited_at is None else stored_time(edited_at),
                    m.inviter or "",
                    1 if bot else 0,
                    1 if m.hidden else 0,
                    dumps(mentions).decode() if mentions else "",
                    dumps(
                        [{"name": r.name, "count": r.count, "users": r.users} for r in reactions]
                    ).decode()
                    if reactions
                    else "",
                    dumps(files).decode() if files else "",
                    "" if extra is None else dumps(extra).decode(),
                ]
            )
        return made

    def _hour(self, hour: int) -> str:
        """ "YYYY-MM-DD HH:" of an hour since 1970 (UTC), as `stored_time` writes times."""
        if len(self._hours) > 100_000:
            self._hours.clear()
        at = _EPOCH + timedelta(hours=hour)
        prefix = f"{at.year:04d}-{at.month:02d}-{at.day:02d} {at.hour:02d}:"
        self._hours[hour] = prefix
        return prefix


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTES_SECONDS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]


# -- staging: rows written elsewhere, copied in with one statement ------------------------
#
# A parser process writes the rows it makes (as `BoundRows` makes them, `COLUMNS`
# order) to a SQLite file of its own; the importing process attaches the file
# (`db.attach_for_transaction`) and copies them with `INSERT ... SELECT`, which costs
# about half of binding the same rows from Python: the Python side of an insert is paid in
# the parser process, beside the writer, instead of in the writer. A staged file holds the
# bound values as they are ("" and 0 for absent ones): the copy applies the NULL rules
# (`stored_null`), which costs the copy less than it cost the parser's insert (0.4 µs a
# row, a tenth of the staging).
STAGE_TABLE = "staged"
_STAGE_INSERT = f"INSERT INTO {STAGE_TABLE} VALUES ({', '.join('?' for _ in COLUMNS)})"


class StageFile:
    """A new SQLite file of staged message rows, written by one process only: no journal,
    no sync, no index (it is read once, then deleted). Rows are numbered from 1 in the
    order added; `add` returns the numbers of the rows it added."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.count = 0
        self._connection = sqlite3.connect(self.path, isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "locking_mode=EXCLUSIVE"):
            self._connection.execute(f"PRAGMA {pragma}")
        self._connection.execute(f"CREATE TABLE {STAGE_TABLE} ({', '.join(COLUMNS)})")
        self._connection.execute("BEGIN")

    def add(self, rows: Sequence[Sequence[Any]]) -> tuple[int, int]:
        """Stage rows made by `BoundRows` (their channel and source ids are replaced by
        the copy); returns (first, last) row number."""
        self._connection.executemany(_STAGE_INSERT, rows)
        first = self.count + 1
        self.count += len(rows)
        return first, self.count

    def close(self) -> None:
        """Write everything out; the file is complete once this returns."""
        if self._connection.in_transaction:
            self._connection.execute("COMMIT")
        self._connection.close()
