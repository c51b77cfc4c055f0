"""Bulk persistence of chat evidence: channels (upsert), messages (batched executemany keyed
on channel + ts), attaching a channel window to an incident, the full-text index kept in
step. Removing a source (and the channels it alone created) is `services.imports.sources`.

Lives here: plain-dict writes and look-ups on `channels`, `messages`, `incident_channels`.
Does not live here: parsing Slack data (adapters), deciding what a row means (importers),
commits (callers own the one write transaction, see `services.imports.sources`).

Speed: messages are inserted with SQLAlchemy Core `insert()` executemany in batches, never as
ORM objects; the existing `ts` of a channel are loaded only when that channel already has
messages. On SQLite the FTS5 index of new messages is written in bulk, one `INSERT ...
SELECT` per batch (see `insert_messages`; `insert_stored_rows` takes rows already in their
bound form, see `bound_rows.BoundRows`), or once for a whole import between
`start_bulk_load` and `finish_bulk_load`, which also builds the secondary indexes once at the
end when the import outgrows the table; updates and deletes are indexed by the triggers of
migration 0002. Rows made in another process arrive in a staged SQLite file
(`bound_rows.StageFile`) and are copied with one `INSERT ... SELECT` (`insert_staged`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, bindparam, exists, func, insert, select, text, update
from sqlalchemy.orm import Session

from afteraction.storage.bound_rows import (
    CHANNEL_COLUMNS,
    COLUMNS,
    STAGE_TABLE,
    placeholders,
    stored_null,
    stored_raw,
    stored_values,
)
from afteraction.storage.evidence_tables import Channel, IncidentChannel, Message

UPDATABLE = ("text_raw", "text_plain", "edited_at", "reactions", "mentions", "files", "extra")


@dataclass(slots=True)
class ChannelInfo:
    """What a chat system says about one conversation (current state)."""

    external_id: str
    name: str
    kind: str = "public"
    topic: str = ""
    purpose: str = ""
    created_at: datetime | None = None


def upsert_channel(
    session: Session, info: ChannelInfo, *, source_id: int, workspace: str = ""
) -> tuple[int, bool]:
    """(channel id, created?) — a known channel gets its name, topic and purpose refreshed
    when the new values are non-empty; a new one points at `source_id`."""
    row = session.scalar(
        select(Channel).where(
            Channel.workspace == workspace, Channel.external_id == info.external_id
        )
    )
    if row is None:
        row = Channel(
            workspace=workspace,
            external_id=info.external_id[:80],
            name=(info.name or info.external_id)[:200],
            kind=info.kind[:20],
            topic=info.topic,
            purpose=info.purpose,
            created_at=info.created_at,
            source_id=source_id,
        )
        session.add(row)
        session.flush()
        return row.id, True
    for name in ("name", "topic", "purpose"):
        value = getattr(info, name)
        if value and getattr(row, name) != value:
            setattr(row, name, value[:200] if name == "name" else value)
    if row.created_at is None and info.created_at is not None:
        row.created_at = info.created_at
    return row.id, False


def find_channel(session: Session, external_id: str, *, workspace: str = "") -> int | None:
    """The id of a channel by its chat system id, None when unknown."""
    return session.scalar(
        select(Channel.id).where(Channel.workspace == workspace, Channel.external_id == external_id)
    )


def has_messages(session: Session, channel_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Message.channel_id == channel_id))))


def channels_hold_messages(
    session: Session, external_ids: Iterable[str], *, workspace: str = ""
) -> bool:
    """Whether any of these channels (by chat system id) already holds a message."""
    wanted = list(dict.fromkeys(external_ids))
    for start in range(0, len(wanted), 500):
        query = select(
            exists().where(
                Message.channel_id == Channel.id,
                Channel.workspace == workspace,
                Channel.external_id.in_(wanted[start : start + 500]),
            )
        )
        if session.scalar(query):
            return True
    return False


def existing_messages(session: Session, channel_id: int) -> dict[str, datetime | None]:
    """ts → edited_at of the messages a channel already holds."""
    query = select(Message.ts, Message.edited_at).where(Message.channel_id == channel_id)
    return {row[0]: row[1] for row in session.execute(query)}


def insert_messages(session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert message rows (executemany) and index their text; returns how many.

    On SQLite the per-row FTS5 insert trigger costs about four times the insert itself, so
    it is lifted for the batch and the batch is indexed in one `INSERT ... SELECT`; the
    trigger is put back, with its exact stored SQL, before returning. SQLite's DDL is
    transactional and this runs inside the caller's write transaction (which holds the
    write lock), so no other connection ever sees the trigger missing and a failure or a
    killed process rolls the drop back with everything else.
    """
    if not rows:
        return 0
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        # a missing key is NULL here too (executemany needs every parameter in every row)
        connection.execute(
            insert(Message), [_raw_rule({n: row.get(n) for n in COLUMNS}) for row in rows]
        )
        return len(rows)
    return insert_stored_rows(session, [_sqlite_values(row) for row in rows], None)


def insert_stored_rows(
    session: Session, rows: Sequence[Sequence[Any]], load: BulkLoad | None
) -> int:
    """Insert rows in `COLUMNS` order already in their bound form (`bound_rows.BoundRows`
    or `stored_values`); SQLite only. (The channel and source ids are bound too: written
    into the statement they made the insert half as slow again.)"""
    if not rows:
        return 0
    connection = session.connection()
    if load is None:
        trigger = _drop_insert_trigger(connection)
        first_id = _next_id(session)
        _sqlite_executemany(connection, rows)
        _index_text(connection, first_id)
        if trigger is not None:
            connection.exec_driver_sql(trigger)
        return len(rows)
    _sqlite_executemany(connection, rows)
    _loaded(connection, load, len(rows))
    return len(rows)


def _loaded(connection: Connection, load: BulkLoad, count: int) -> None:
    load.inserted += count
    load.total += count
    _drop_indexes_at(connection, load, load.total)


def _drop_indexes_at(connection: Connection, load: BulkLoad, rows: int) -> None:
    """Drop the secondary indexes once a load of `rows` outgrows what the table held."""
    if not load.indexes and rows >= max(load.existing, LOAD_INDEX_AFTER):
        names = _SCATTERED_INDEXES if load.beside_parsers else _SECONDARY_INDEXES
        load.indexes = _drop_secondary_indexes(connection, names)


def _drop_insert_trigger(connection: Connection) -> str | None:
    """Drop the per-row FTS5 insert trigger; returns its exact stored SQL (None if absent)."""
    trigger = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'messages_fts_insert'"
    ).scalar()
    if trigger is not None:
        connection.exec_driver_sql("DROP TRIGGER messages_fts_insert")
    return None if trigger is None else str(trigger)


def _index_text(connection: Connection, first_id: int) -> None:
    connection.execute(
        text(
            "INSERT INTO messages_fts(rowid, text_plain) "
            "SELECT id, text_plain FROM messages WHERE id >= :first"
        ),
        {"first": first_id},
    )


# A load this many rows or more (and at least as many as the table held) builds the
# secondary indexes once at the end: sorting them in one pass is about twice as fast as
# keeping them in step row by row, and the author index's scattered inserts cost most.
LOAD_INDEX_AFTER = 50_000
_SECONDARY_INDEXES = (
    "ix_messages_channel_at",
    "ix_messages_thread",
    "ix_messages_source_id",
    "ix_messages_author_person_id",
)
# A load whose rows parser processes make keeps in step the indexes it extends at their
# end (its own new source; each channel's messages in time order; threads within them)
# and drops only the author index, whose inserts are scattered: the importing process then
# builds one index, not four, after the parsers are done, when nothing runs beside it. A
# million messages on two CPUs, five pairs: 14.5 s against 15.1 s (medians). In one
# process, building all four at the end stays faster (22.2 s against 23.6 s).
_SCATTERED_INDEXES = ("ix_messages_author_person_id",)


@dataclass(slots=True)
class BulkLoad:
    """One import's message inserts on SQLite, between `start_bulk_load` and
    `finish_bulk_load`: rows from `first_id` on are not yet in the search index, and
    `indexes` holds the SQL of the secondary indexes dropped until the end."""

    first_id: int
    existing: int
    trigger: str | None
    inserted: int = 0  # since `first_id`
    beside_parsers: bool = False  # see `_SCATTERED_INDEXES`
    total: int = 0
    indexes: list[str] = field(default_factory=list)


def start_bulk_load(session: Session) -> BulkLoad | None:
    """Begin a bulk load of messages in the caller's write transaction (None when the
    database is not SQLite: PostgreSQL keeps its GIN index in step on its own).

    The per-row FTS5 insert trigger is lifted until `finish_bulk_load` indexes every new
    row in one `INSERT ... SELECT`; once the load outgrows what the table held, the
    secondary indexes are dropped and rebuilt at the end. SQLite's DDL is transactional
    and the caller holds the write lock, so no other connection sees the trigger or an
    index missing, and a failure or a killed process rolls it all back with the rows.
    Every insert of the load must pass the load (`insert_stored_rows`), and updates
    too (`update_messages`), so that an update of a row not yet indexed stays consistent.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return None
    first_id = _next_id(session)
    return BulkLoad(
        first_id=first_id, existing=first_id - 1, trigger=_drop_insert_trigger(connection)
    )


def finish_bulk_load(session: Session, load: BulkLoad | None) -> None:
    """Index the load's text (a large load with FTS5 gathering `FTS_LOAD_HASH_BYTES` of
    terms at a time), rebuild the indexes it dropped and put the trigger back."""
    if load is None:
        return
    connection = session.connection()
    if load.inserted >= LOAD_INDEX_AFTER:
        with _fts_hash_size(connection, FTS_LOAD_HASH_BYTES):
            _catch_up(connection, load)
    else:
        _catch_up(connection, load)
    if load.indexes:
        threads = connection.exec_driver_sql("PRAGMA threads").scalar()
        connection.exec_driver_sql(f"PRAGMA threads = {SORT_THREADS}")
        for statement in load.indexes:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(f"PRAGMA threads = {int(threads or 0)}")
    load.indexes = []
    if load.trigger is not None:
        connection.exec_driver_sql(load.trigger)
        load.trigger = None


def index_loaded(session: Session, load: BulkLoad | None) -> None:
    """Index the text of the rows a load has inserted so far (as `finish_bulk_load` would
    at the end): an importer that would otherwise wait for its parsers does it early."""
    if load is None or not load.inserted:
        return
    with _fts_hash_size(session.connection(), FTS_LOAD_HASH_BYTES):
        _catch_up(session.connection(), load)


# Helper threads SQLite's sorter may use to build the dropped indexes again.
SORT_THREADS = 2


# FTS5 writes the terms it gathers in memory out as a new segment (and merges segments)
# each time they pass `hashsize` bytes, 1 MiB by default; a large load gathers up to 16 MiB
# at a time: a third less time indexing a million messages, for 16 MiB more memory.
FTS_LOAD_HASH_BYTES = 16 * 1024 * 1024
_FTS_DEFAULT_HASH_BYTES = 1024 * 1024


@contextmanager
def _fts_hash_size(connection: Connection, size: int) -> Iterator[None]:
    """FTS5's `hashsize` at `size` inside, then back to what it was (the setting is stored
    in the index's config table, inside the caller's transaction like everything else)."""
    found = connection.exec_driver_sql(
        "SELECT v FROM messages_fts_config WHERE k = 'hashsize'"
    ).scalar()
    before = _FTS_DEFAULT_HASH_BYTES if found is None else int(found)
    statement = text("INSERT INTO messages_fts(messages_fts, rank) VALUES ('hashsize', :size)")
    connection.execute(statement, {"size": size})
    yield
    connection.execute(statement, {"size": before})


def _catch_up(connection: Connection, load: BulkLoad) -> None:
    """Index the text of the rows inserted so far; later rows start after them."""
    if load.inserted:
        _index_text(connection, load.first_id)
        load.first_id = _next_id_on(connection)
        load.inserted = 0


def _drop_secondary_indexes(connection: Connection, names: Sequence[str]) -> list[str]:
    found = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'"
    ).all()
    statements = []
    for name, sql in found:
        if name in names and sql is not None:
            connection.exec_driver_sql(f'DROP INDEX "{name}"')
            statements.append(str(sql))
    return statements


_SQLITE_INSERT = f"INSERT INTO messages ({', '.join(COLUMNS)}) VALUES ({placeholders(COLUMNS)})"


def _sqlite_executemany(connection: Connection, values: Sequence[Sequence[Any]]) -> None:
    """The driver's own executemany with values already as `stored_values` makes them (what
    `UTCDateTime` and `JSON` would write: naive UTC text, JSON text; NULL as "" or 0).
    Skipping SQLAlchemy's per-value bind processing halves the cost of an insert."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(_SQLITE_INSERT, values)
    finally:
        cursor.close()


_ALL_COLUMNS = itemgetter(*COLUMNS)


def _sqlite_values(row: Mapping[str, Any]) -> list[Any]:
    """One row's parameters in `COLUMNS` order; a missing key is NULL."""
    try:
        values = list(_ALL_COLUMNS(row))
    except KeyError:
        values = [row.get(name) for name in COLUMNS]
    return _stored(values)


def _stored(values: list[Any]) -> list[Any]:
    """`stored_values` for a whole row in `COLUMNS` order."""
    return values[:2] + stored_values(values[2:])


def _raw_rule(row: dict[str, Any]) -> dict[str, Any]:
    """A dict row with its raw text as stored (`stored_raw`)."""
    row["text_raw"] = stored_raw(row["text_raw"], row["text_plain"])
    return row


# -- staging: rows a parser process wrote to a file of its own (`bound_rows.StageFile`) --
_STAGE_COPY = (
    f"INSERT INTO messages ({', '.join(COLUMNS)}) "
    f"SELECT ?, ?, {', '.join(stored_null(name, name) for name in CHANNEL_COLUMNS)} "
    'FROM "{schema}".' + STAGE_TABLE + " WHERE rowid BETWEEN ? AND ?"
)


def insert_staged(
    session: Session,
    schema: str,
    rows: tuple[int, int],
    channel_id: int,
    source_id: int,
    load: BulkLoad,
) -> int:
    """Copy rows `first..last` of a staged file attached as `schema` into `messages`, for
    one channel and source; part of a bulk `load` (SQLite only)."""
    first, last = rows
    if last < first:
        return 0
    connection = session.connection()
    statement = _STAGE_COPY.format(schema=schema)
    count = connection.exec_driver_sql(statement, (channel_id, source_id, first, last)).rowcount
    _loaded(connection, load, count)
    return count


def expect_rows(
    session: Session, load: BulkLoad | None, count: int, *, beside_parsers: bool = False
) -> None:
    """Tell a bulk load about how many rows it will insert, so that a load that will
    outgrow the table drops its secondary indexes before the first row, not after
    `LOAD_INDEX_AFTER` of them; `beside_parsers`: the rows are made by parser processes
    while this one inserts (see `_SCATTERED_INDEXES`)."""
    if load is not None:
        load.beside_parsers = beside_parsers
        _drop_indexes_at(session.connection(), load, count)


def update_messages(
    session: Session, rows: Sequence[Mapping[str, Any]], load: BulkLoad | None = None
) -> int:
    """Replace the text, edit time, reactions... of stored messages (by channel + ts); the
    search index follows through the update trigger (after the rows of a `load` so far
    are indexed: the trigger takes the old text out of the index)."""
    if not rows:
        return 0
    if load is not None:
        _catch_up(session.connection(), load)
    params = [
        {f"new_{k}": row[k] for k in UPDATABLE}
        | {"new_text_raw": stored_raw(row["text_raw"], row["text_plain"])}
        | _key(row)
        for row in rows
    ]
    statement = (
        update(Message)
        .where(Message.channel_id == bindparam("key_channel"), Message.ts == bindparam("key_ts"))
        .values({k: bindparam(f"new_{k}") for k in UPDATABLE})
    )
    session.connection().execute(statement, params)
    return len(rows)


def _key(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"key_channel": row["channel_id"], "key_ts": row["ts"]}


def _next_id(session: Session) -> int:
    return _next_id_on(session.connection())


def _next_id_on(connection: Connection) -> int:
    return int(connection.scalar(select(func.coalesce(func.max(Message.id), 0))) or 0) + 1


def attach_channel(
    session: Session,
    *,
    incident_id: int,
    channel_id: int,
    since: datetime | None,
    until: datetime | None,
    source_id: int,
) -> bool:
    """Attach a channel window to an incident; a channel already attached gets its window
    widened to cover both. Returns True when newly attached."""
    row = session.get(IncidentChannel, (incident_id, channel_id))
    if row is None:
        session.add(
            IncidentChannel(
                incident_id=incident_id,
                channel_id=channel_id,
                since=since,
                until=until,
                source_id=source_id,
            )
        )
        session.flush()
        return True
    if row.since is not None and (since is None or since < row.since):
        row.since = since
    if row.until is not None and (until is None or until > row.until):
        row.until = until
    return False
