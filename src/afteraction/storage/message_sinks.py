"""Message sinks: where an import's parsed Slack messages (`core.slack_record.ParsedMessage`)
go, behind one interface (`MessageSink`), so that an importer hands over records and never
knows a column, its order or its NULL rules.

Lives here: `MessageSink`, its two implementations and `open_message_sink`, which picks one:
- `BoundRowSink`, SQLite's fast path: one bulk load for the whole import (`messages.
  start_bulk_load`), rows made by `bound_rows.BoundRows` and bound by the driver itself;
  it also copies in the rows parser processes staged with the same `BoundRows`
  (`add_staged`).
- `ValueSink`, the generic path (PostgreSQL): rows of Python values (`message_values`)
  inserted through SQLAlchemy (`messages.insert_messages`).
Both update stored messages from later edits the same way (`message_values`,
`messages.update_messages`). Does not live here: parsing (adapters), deciding which
messages are new (`services.imports.slack_intake`), commits (the caller's).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.orm import Session

from afteraction.core.slack_record import ParsedMessage, extra_fields
from afteraction.storage import messages as store
from afteraction.storage.bound_rows import Authors, BoundRows


class MessageSink(Protocol):
    """Takes one import's messages, channel by channel, in the caller's transaction."""

    def add(self, channel_id: int, messages: Sequence[ParsedMessage]) -> int:
        """Store new messages of a channel; returns how many."""
        ...

    def update(self, channel_id: int, messages: Sequence[ParsedMessage]) -> int:
        """Replace the text, edit time, reactions... of stored messages of a channel with
        these later edits of them (by ts); returns how many."""
        ...

    def finish(self) -> None:
        """Complete what the sink deferred (search index, indexes); call once, at the end."""
        ...


def message_values(
    channel_id: int, source_id: int, m: ParsedMessage, authors: Authors
) -> dict[str, Any]:
    """A message's row as Python values, by column name."""
    person, name, bot = authors.of(m)
    reactions = m.reactions
    return {
        "channel_id": channel_id,
        "source_id": source_id,
        "ts": m.ts,
        "at": m.at,
        "thread_ts": m.thread_ts,
        "author_external": m.user_id or m.bot_id,
        "author_person_id": person,
        "author_name": name,
        "subtype": m.subtype,
        "text_raw": m.text,
        "text_plain": m.plain,
        "edited_at": m.edited_at,
        "inviter_external": m.inviter,
        "is_bot": bot,
        "hidden": m.hidden,
        "mentions": list(m.mentions) if m.mentions else None,
        "reactions": [{"name": r.name, "count": r.count, "users": list(r.users)} for r in reactions]
        if reactions
        else None,
        "files": list(m.file_links) if m.file_links else None,
        "extra": extra_fields(m),
    }


class ValueSink:
    """The generic sink (PostgreSQL's): rows of Python values through SQLAlchemy."""

    def __init__(self, session: Session, *, source_id: int, authors: Authors) -> None:
        self.session, self.source_id, self.authors = session, source_id, authors

    def add(self, channel_id: int, messages: Sequence[ParsedMessage]) -> int:
        rows = [message_values(channel_id, self.source_id, m, self.authors) for m in messages]
        return store.insert_messages(self.session, rows)

    def update(self, channel_id: int, messages: Sequence[ParsedMessage]) -> int:
        rows = [message_values(channel_id, self.source_id, m, self.authors) for m in messages]
        return store.update_messages(self.session, rows)

    def finish(self) -> None:
        """Nothing deferred: PostgreSQL keeps its search index in step itself."""


class BoundRowSink:
    """SQLite's sink: the import is one bulk load (see `messages.start_bulk_load`) and its
    rows are bound as `BoundRows` makes them; rows staged by parser processes are copied in
    with `add_staged`."""

    def __init__(self, session: Session, *, source_id: int, authors: Authors) -> None:
        self.session, self.source_id, self.authors = session, source_id, authors
        self.rows = BoundRows(source_id, authors)
        load = store.start_bulk_load(session)
        if load is None:
            raise ValueError("the bound-row sink writes SQLite only")
        self.load = load

    def add(self, channel_id: int, messages: Sequence[ParsedMessage]) -> int:
        rows = self.rows.rows(channel_id, messages)
        return store.insert_stored_rows(self.session, rows, self.load)

    def update(self, channel_id: int, messages: Sequence[ParsedMessage]) -> int:
        rows = [message_values(channel_id, self.source_id, m, self.authors) for m in messages]
        return store.update_messages(self.session, rows, self.load)

    def add_staged(self, schema: str, rows: tuple[int, int], channel_id: int) -> int:
        """Copy rows `first..last` a parser process staged (attached as `schema`)."""
        return store.insert_staged(
            self.session, schema, rows, channel_id, self.source_id, self.load
        )

    def expect_rows(self, count: int) -> None:
        """About `count` rows will come from parser processes (`messages.expect_rows`)."""
        store.expect_rows(self.session, self.load, count, beside_parsers=True)

    def index_loaded(self) -> None:
        """Index the text of the rows so far while waiting (`messages.index_loaded`)."""
        store.index_loaded(self.session, self.load)

    def finish(self) -> None:
        store.finish_bulk_load(self.session, self.load)


def open_message_sink(
    session: Session, *, source_id: int, authors: Authors, bound_rows: bool = True
) -> MessageSink:
    """The sink for this session's database: on SQLite the bound-row sink (unless
    `bound_rows` is False: tests compare it with the generic one), else the generic one."""
    if bound_rows and session.get_bind().dialect.name == "sqlite":
        return BoundRowSink(session, source_id=source_id, authors=authors)
    return ValueSink(session, source_id=source_id, authors=authors)
