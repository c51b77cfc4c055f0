"""What a Slack import makes of its messages, without a database: `MessageRows` (the row of
a parsed message, edits, duplicates, channel events, references) and `LeanRows` (bound
rows straight from an export's day files).

The usual path makes a `ParsedMessage` of every item (`MessageParser.parse_day`), then a
row of Python values (`MessageRows.values`), then the row a SQLite insert binds
(`storage.messages.stored_values`): three objects and a datetime per message, about 11 µs.
`LeanRows.day` makes the bound row of the usual message (a person's text with no subtype
or edit, with or without rich_text blocks) straight from its JSON object, its time as text
from the ts digits; every other item takes the usual path. The result is the same: the
same rows in the same order, the same warnings, counts, changes, events and references.
tests/services/imports/test_slack_parallel.py holds the two paths to it.

`LeanRows` serves SQLite only (the rows are SQLite's bound form): `SlackWriter` runs it
in process, `importers.slack_parallel` in parser processes. PostgreSQL and live history
take the `ParsedMessage` path.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

import orjson

from afteraction.adapters.mrkdwn import ControlSequence, DecodedText, decode_parts
from afteraction.adapters.references import ReferenceCounter
from afteraction.adapters.slack_export import SlackExport
from afteraction.adapters.slack_messages import MessageParser, usual_message
from afteraction.adapters.slack_records import (
    ParsedMessage,
    SlackChannel,
    _opt_int,
    _opt_str,
    redact_tokens,
    ts_to_datetime,
)
from afteraction.core.import_window import ChannelTally
from afteraction.storage.bound_rows import BATCH, stored_time, stored_values

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class MessageRows:
    """What one import makes of its messages, without touching the database: for the
    current channel, new rows (in `store.CHANNEL_COLUMNS` order), changed rows and how many
    were already present; for the whole import, the latest topic and purpose event of each
    channel (by Slack id) and the references. `SlackWriter` runs one in this process; a
    parser process (`importers.slack_parallel`) runs one for its channels."""

    def __init__(
        self,
        person_of: dict[str, int],
        labels: dict[str, str],
        bot_users: set[str],
        references: ReferenceCounter | None,
    ) -> None:
        self.person_of, self.labels, self.bot_users = person_of, labels, bot_users
        self.references = references
        self.existing: dict[str, datetime | None] = {}  # ts -> edit time, current channel
        self.rows: list[tuple[Any, ...]] = []
        self.changes: list[tuple[Any, ...]] = []
        self.present = 0
        self.events: dict[str, dict[str, tuple[datetime, str]]] = {}

    def add(self, m: ParsedMessage) -> None:
        """One message of the current channel: a new row, a change (seen before and edited
        later since) or one more already present."""
        ts = m.ts
        existing = self.existing
        if ts in existing:
            stored_edit = existing[ts]
            if m.edited_at is not None and (stored_edit is None or m.edited_at > stored_edit):
                self.changes.append(self.values(m))
                existing[ts] = m.edited_at
            else:
                self.present += 1
            return
        existing[ts] = m.edited_at
        self.rows.append(self.values(m))
        if m.topic is not None or m.purpose is not None:
            self._channel_event(m)
        if self.references is not None and m.links:
            self.references.add(" ".join(m.links), at=m.at)

    def values(self, m: ParsedMessage) -> tuple[Any, ...]:
        """The message's row in `store.CHANNEL_COLUMNS` order."""
        user_id, bot_id, reactions = m.user_id, m.bot_id, m.reactions
        author = user_id or bot_id
        return (
            m.ts,
            m.at,
            m.thread_ts,
            author,
            self.person_of.get(user_id) if user_id else None,
            (m.author_name or self.labels.get(author or "", "") or "")[:200],
            m.subtype,
            m.text,
            m.plain,
            m.edited_at,
            m.inviter,
            m.subtype == "bot_message" or bot_id is not None or user_id in self.bot_users,
            m.hidden,
            list(m.mentions) if m.mentions else None,
            [{"name": r.name, "count": r.count, "users": list(r.users)} for r in reactions]
            if reactions
            else None,
            list(m.file_links) if m.file_links else None,
            _extra(m),
        )

    def _channel_event(self, m: ParsedMessage) -> None:
        events = self.events.setdefault(m.channel_id, {})
        for name, value in (("topic", m.topic), ("purpose", m.purpose)):
            # the latest by time wins: exports run oldest first, the Web API newest first
            if value is not None and (name not in events or m.at >= events[name][0]):
                events[name] = (m.at, value)


class LeanRows:
    """One parser's rows: `day` for each day file of a channel, in order; the bound rows
    collect in `stored`, everything else in `made` (see `MessageRows`).

    Speed (it runs once per message): the author's person id, label and bot flag are
    looked up once per user; a time's text is its hour's prefix (cached) and its
    "MM:SS" (a table); a day whose items are all usual skips the merge with parsed ones,
    and a day none of whose ts the channel holds yet is added in one step."""

    def __init__(
        self,
        parser: MessageParser,
        made: MessageRows,
        since: datetime | None,
        until: datetime | None,
    ) -> None:
        self.parser, self.made = parser, made
        self.earliest = _micros(parser.earliest)
        self.latest = _micros(parser.latest or _LAST)
        self.since = None if since is None else stored_time(since)
        self.until = None if until is None else stored_time(until)
        self.stored: list[list[Any]] = []  # in `store.COLUMNS` order
        self.bytes_read = 0  # of the day files `folder` has read
        self.channel_id = self.source_id = 0
        self._hours: dict[int, str] = {}
        self._authors: dict[str, tuple[int, str, int]] = {}
        self.links: tuple[str, ...] = ()  # of the last row `_usual` made
        self._sequences: dict[str, ControlSequence] = {}  # see `decode_parts`
        # the messages of the folder being read, inside and outside the window
        self.tally: ChannelTally | None = None

    def channel(self, channel_id: int, source_id: int) -> None:
        """The database ids the next rows carry (0: the importer fills the channel in)."""
        self.channel_id, self.source_id = channel_id, source_id

    def folder(
        self,
        export: SlackExport,
        folder: str,
        channel: SlackChannel,
        since: datetime | None,
        until: datetime | None,
    ) -> Iterator[tuple[list[list[Any]], list[tuple[Any, ...]], int]]:
        """Read one chosen folder's day files (`made.existing` set for its channel): yields
        (new rows, changed rows, how many already present) each time `BATCH` rows are
        ready, and the rest at the end; each yield hands them over. `tally` counts its
        messages inside and outside the window (of the day files read)."""
        name, previous = channel.name or channel.id, set[str]()
        self.tally = ChannelTally(name)
        for rel, items in export.folder_days(folder, since, until, self.parser.warn):
            self.bytes_read += export.day_size(rel)
            previous = self.day(
                items, rel, channel_id=channel.id, channel_name=name, previous=previous
            )
            del items
            if len(self.stored) >= BATCH:
                yield self._hand_over()
        yield self._hand_over()

    def _hand_over(self) -> tuple[list[list[Any]], list[tuple[Any, ...]], int]:
        made = self.made
        handed = (self.stored, made.changes, made.present)
        self.stored, made.changes, made.present = [], [], 0
        return handed

    def day(
        self,
        items: list[Any],
        rel: str,
        *,
        channel_id: str,
        channel_name: str,
        previous: Collection[str] = (),
    ) -> set[str]:
        """Add one day file's items (as `MessageParser.parse_day` and `MessageRows.add`
        would, in time order); returns the set of their ts for the next day's `previous`."""
        parser = self.parser
        warn = parser.warn
        rows: list[list[Any]] = []
        numbers: list[int] = []  # each row's place in the file, for `_merge`
        parsed: list[tuple[str, int, ParsedMessage]] = []
        links_of: dict[str, tuple[str, ...]] = {}
        seen: set[str] = set()
        usual = self._usual
        earliest, latest = self.earliest, self.latest
        for number, item in enumerate(items, start=1):
            parts = usual_message(item, blocks=True)
            if parts is not None:
                ts, text, user, seconds, micros = parts
                whole = int(seconds)
                if earliest <= whole * 1_000_000 + int(micros) <= latest:
                    # made before the duplicate check, as `parse_day` does: its reaction
                    # warnings come first
                    row = usual(item.get, rel, number, ts, whole, micros, user, text)
                    if ts in seen or ts in previous:
                        warn(f"{rel}: message {number}", f"skipped: duplicate ts {ts}")
                        continue
                    seen.add(ts)
                    rows.append(row)
                    numbers.append(number)
                    if self.links:
                        links_of[ts] = self.links
                    continue
            message = parser.parse_item(item, rel, number, channel_id, channel_name, seen, previous)
            if message is None:
                continue
            seen.add(message.ts)
            parsed.append((stored_time(message.at) or "", number, message))
        if parsed:
            self._merge(rows, numbers, parsed, links_of)
        else:
            rows.sort(key=_AT)  # stable: equal times keep file order, as `parse_day` sorts
            self._take(rows, links_of)
        return seen

    def _take(self, rows: list[list[Any]], links_of: dict[str, tuple[str, ...]]) -> None:
        """Add a day's usual rows (in time order) to `stored`, as `MessageRows.add`."""
        since, until = self.since, self.until
        read = len(rows)
        ends = (rows[0], rows[-1]) if rows else None
        if since is not None or until is not None:
            rows = [
                r
                for r in rows
                if (since is None or r[3] >= since) and (until is None or r[3] < until)
            ]
        if self.tally is not None and ends is not None:
            self.tally.see(
                ts_to_datetime(ends[0][2]),
                ts_to_datetime(ends[1][2]),
                inside=len(rows),
                outside=read - len(rows),
            )
        made = self.made
        existing = made.existing
        stamps = [r[2] for r in rows]
        if existing.keys().isdisjoint(stamps):  # the usual day: every message is new
            existing.update(dict.fromkeys(stamps))
            self.stored += rows
        else:
            stored = self.stored
            for row in rows:
                ts = row[2]
                if ts in existing:  # the usual message has no edit: never a change
                    made.present += 1
                else:
                    existing[ts] = None
                    stored.append(row)
                    continue
                links_of.pop(ts, None)  # not counted again
        references = made.references
        if references is not None and links_of:
            for ts in stamps:
                links = links_of.get(ts)
                if links:
                    references.add(" ".join(links), at=ts_to_datetime(ts))

    def _merge(
        self,
        rows: list[list[Any]],
        numbers: list[int],
        parsed: list[tuple[str, int, ParsedMessage]],
        links_of: dict[str, tuple[str, ...]],
    ) -> None:
        """Add a day's usual rows and parsed messages together, in time order (equal
        times in file order, as `parse_day` sorts)."""
        entries: list[tuple[str, int, list[Any] | ParsedMessage]] = [
            (row[3], number, row) for row, number in zip(rows, numbers, strict=True)
        ]
        entries += parsed
        entries.sort(key=_time_and_place)
        made, stored = self.made, self.stored
        existing, references = made.existing, made.references
        since, until = self.since, self.until
        outside = 0
        for at, _, entry in entries:
            if (since is not None and at < since) or (until is not None and at >= until):
                outside += 1
                continue
            if isinstance(entry, ParsedMessage):
                before = len(made.rows)
                made.add(entry)
                if len(made.rows) > before:
                    ids = [self.channel_id, self.source_id]
                    stored.append(ids + stored_values(list(made.rows.pop())))
                continue
            ts = entry[2]
            if ts in existing:  # the usual message has no edit: never a change
                made.present += 1
                continue
            existing[ts] = None
            stored.append(entry)
            links = links_of.get(ts)
            if references is not None and links:
                references.add(" ".join(links), at=ts_to_datetime(ts))
        if self.tally is not None and entries:
            self.tally.see(
                _entry_at(entries[0][2]),
                _entry_at(entries[-1][2]),
                inside=len(entries) - outside,
                outside=outside,
            )

    def _usual(
        self,
        get: Any,
        rel: str,
        number: int,
        ts: str,
        whole: int,
        micros: str,
        user: str,
        text: str,
    ) -> list[Any]:
        """The bound row of a usual message (`MessageParser._inline` or `_plain`,
        `MessageRows.values`, `stored_values` in one); its links in `self.links`."""
        if "xox" in text:
            text = redact_tokens(text)
        extra: dict[str, Any] | None = None
        reply_count = get("reply_count")
        if reply_count is not None and (count := _opt_int(reply_count)):
            extra = {"reply_count": count}
        parent = get("parent_user_id")
        if parent is not None and (parent := _opt_str(parent)):
            if extra is None:
                extra = {}
            extra["parent_user_id"] = parent
        parser = self.parser
        if "<" in text or "&" in text:
            plain, named, rooms, broadcasts, _, links = decode_parts(
                text, parser.users, parser.channels, self._sequences
            )
            if links:
                links = tuple(redact_tokens(u) for u in links)
        else:
            plain, named, rooms, broadcasts, links = text, (), (), (), ()
        blocks = get("blocks")
        if blocks:  # as `MessageParser._plain`: the blocks' exact mentions join the text's
            known = DecodedText(plain, named, rooms, broadcasts, (), links)
            text, merged = parser._with_blocks(text, known, blocks)
            plain, named, rooms = merged.plain, merged.mentions, merged.channels
            broadcasts, links = merged.broadcasts, merged.links
        self.links = links
        mentions = orjson.dumps(named).decode() if named else ""
        if rooms or broadcasts or links:
            if extra is None:
                extra = {}
            if rooms:
                extra["channel_mentions"] = rooms
            if broadcasts:
                extra["broadcasts"] = broadcasts
            if links:
                extra["links"] = links
        reactions = get("reactions")
        reacted = ""
        if reactions is not None:
            found = self.parser._reactions(reactions, f"{rel}: message {number}")
            if found:
                reacted = orjson.dumps(
                    [{"name": r.name, "count": r.count, "users": r.users} for r in found]
                ).decode()
        thread_ts = get("thread_ts")
        if thread_ts is not None:
            thread_ts = _opt_str(thread_ts)
        author = self._authors.get(user)
        if author is None:
            made = self.made
            author = self._authors[user] = (
                made.person_of.get(user) or 0,
                made.labels.get(user, "")[:200],
                1 if user in made.bot_users else 0,
            )
        hour, second = divmod(whole, 3600)
        prefix = self._hours.get(hour)
        if prefix is None:
            prefix = self._hour(hour)
        return [
            self.channel_id,
            self.source_id,
            ts,
            f"{prefix}{_MINUTES_SECONDS[second]}.{micros}",
            thread_ts or "",
            user,
            author[0],
            author[1],
            "",
            0 if text == plain else text,  # `stored_raw`, inline: 0 binds as NULL
            plain,
            "",
            "",
            author[2],
            0,
            mentions,
            reacted,
            "",
            "" if extra is None else orjson.dumps(extra).decode(),
        ]

    def _hour(self, hour: int) -> str:
        """ "YYYY-MM-DD HH:" of an hour since 1970 (UTC), as `storage.messages` writes times."""
        if len(self._hours) > 100_000:
            self._hours.clear()
        at = _EPOCH + timedelta(hours=hour)
        prefix = f"{at.year:04d}-{at.month:02d}-{at.day:02d} {at.hour:02d}:"
        self._hours[hour] = prefix
        return prefix


_MINUTES_SECONDS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]
_AT = itemgetter(3)


def _entry_at(entry: list[Any] | ParsedMessage) -> datetime:
    """The time of a `_merge` entry: a parsed message's, or a bound row's from its ts."""
    return entry.at if isinstance(entry, ParsedMessage) else ts_to_datetime(entry[2])


def _time_and_place(entry: tuple[str, int, Any]) -> tuple[str, int]:
    return entry[0], entry[1]


def _extra(m: ParsedMessage) -> dict[str, Any] | None:
    """Fields without a column of their own, in this order, each only when set; None when
    there are none. Written out field by field: it runs once per imported message."""
    found: dict[str, Any] = {}
    if m.reply_count:
        found["reply_count"] = m.reply_count
    if m.parent_user_id:
        found["parent_user_id"] = m.parent_user_id
    if m.edited_by:
        found["edited_by"] = m.edited_by
    if m.bot_id:
        found["bot_id"] = m.bot_id
    if m.username:
        found["username"] = m.username
    if m.old_name:
        found["old_name"] = m.old_name
    if m.name:
        found["name"] = m.name
    if m.topic:
        found["topic"] = m.topic
    if m.purpose:
        found["purpose"] = m.purpose
    if m.target_ts:
        found["target_ts"] = m.target_ts
    if m.channel_mentions:
        found["channel_mentions"] = list(m.channel_mentions)
    if m.broadcasts:
        found["broadcasts"] = list(m.broadcasts)
    if m.links:
        found["links"] = list(m.links)
    return found or None
