"""Stored message rows straight from a Slack export's day files, for a parser process.

The usual path makes a `ParsedMessage` of every item (`MessageParser.parse_day`), then a
row of Python values (`MessageRows.values`), then the row a SQLite insert binds
(`storage.messages.stored_values`): three objects and a datetime per message, about 11 µs.
`LeanRows.day` makes the bound row of the usual message (a user's text with no subtype,
edit or blocks: 97 % of a typical export) straight from its JSON object, its time as text
from the ts digits; every other item takes the usual path. The result is the same: the
same rows in the same order, the same warnings, counts, changes, events and references.
tests/importers/test_slack_parallel.py holds the two paths to it.

Used by `importers.slack_parallel` (SQLite only: the rows are SQLite's bound form).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from afteraction.adapters.mrkdwn import decode
from afteraction.adapters.slack_export import (
    _PLAIN_KEYS,
    _TS,
    KNOWN_SUBTYPES,
    MessageParser,
    ParsedMessage,
    _opt_int,
    _opt_str,
    redact_tokens,
)
from afteraction.importers.slack import MessageRows
from afteraction.storage.messages import stored_time, stored_values

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
_TWO = [f"{n:02d}" for n in range(100)]


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class LeanRows:
    """One parser's rows: `day` for each day file of a channel, in order; the bound rows
    collect in `stored`, everything else in `made` (see `MessageRows`)."""

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
        self.channel_id = self.source_id = 0
        self.head = [0, 0]
        self._days: dict[int, str] = {}

    def channel(self, channel_id: int, source_id: int) -> None:
        """The database ids the next rows carry (0: the importer fills the channel in)."""
        self.channel_id, self.source_id = channel_id, source_id
        self.head = [channel_id, source_id]

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
        entries: list[tuple[str, list[Any] | ParsedMessage, tuple[str, ...]]] = []
        seen: set[str] = set()
        ts_match, plain_keys = _TS.match, _PLAIN_KEYS
        earliest, latest = self.earliest, self.latest
        for number, item in enumerate(items, start=1):
            if type(item) is dict and item.keys() <= plain_keys:
                get = item.get
                ts, text, user = get("ts"), get("text"), get("user")
                if (
                    type(ts) is str
                    and type(text) is str
                    and type(user) is str
                    and user
                    and get("edited") is None
                    and not get("blocks")
                    and (match := ts_match(ts)) is not None
                ):
                    seconds, micros = match.groups()
                    micros = micros.ljust(6, "0") if micros else "000000"
                    whole = int(seconds)
                    moment = whole * 1_000_000 + int(micros)
                    if earliest <= moment <= latest:
                        # made before the duplicate check, as `parse_day` does: its
                        # reaction warnings come first
                        row, links = self._usual(item, rel, number, ts, whole, micros, user, text)
                        if ts in seen or ts in previous:
                            warn(f"{rel}: message {number}", f"skipped: duplicate ts {ts}")
                            continue
                        seen.add(ts)
                        entries.append((row[3], row, links))
                        continue
            where = f"{rel}: message {number}"
            if not isinstance(item, dict):
                warn(where, f"skipped: a {type(item).__name__}, not a message object")
                continue
            message = parser.parse(
                item, channel_id=channel_id, channel_name=channel_name, where=where
            )
            if message is None:
                continue
            if message.ts in seen or message.ts in previous:
                warn(where, f"skipped: duplicate ts {message.ts}")
                continue
            if message.subtype is not None and message.subtype not in KNOWN_SUBTYPES:
                warn(where, f"unknown subtype {message.subtype!r} kept as data")
            seen.add(message.ts)
            entries.append((stored_time(message.at) or "", message, ()))
        entries.sort(key=_first)
        self._take(entries)
        return seen

    def _take(self, entries: list[tuple[str, list[Any] | ParsedMessage, tuple[str, ...]]]) -> None:
        made, stored = self.made, self.stored
        existing, references = made.existing, made.references
        since, until = self.since, self.until
        for at, entry, links in entries:
            if (since is not None and at < since) or (until is not None and at >= until):
                continue
            if isinstance(entry, ParsedMessage):
                before = len(made.rows)
                made.add(entry)
                if len(made.rows) > before:
                    stored.append(self.head + stored_values(list(made.rows.pop())))
                continue
            ts = entry[2]
            if ts in existing:  # the usual message has no edit: never a change
                made.present += 1
                continue
            existing[ts] = None
            stored.append(entry)
            if references is not None and links:
                references.add(" ".join(links), at=_moment(ts))

    def _usual(
        self,
        item: dict[str, Any],
        rel: str,
        number: int,
        ts: str,
        whole: int,
        micros: str,
        user: str,
        text: str,
    ) -> tuple[list[Any], tuple[str, ...]]:
        """The bound row of a usual message (`MessageParser._inline`, `MessageRows.values`,
        `stored_values` in one) and its links."""
        parser, made = self.parser, self.made
        if "xox" in text:
            text = redact_tokens(text)
        extra: dict[str, Any] = {}
        get = item.get
        reply_count = get("reply_count")
        if reply_count is not None and (count := _opt_int(reply_count)):
            extra["reply_count"] = count
        parent = get("parent_user_id")
        if parent is not None and (parent := _opt_str(parent)):
            extra["parent_user_id"] = parent
        links: tuple[str, ...] = ()
        mentions = ""
        if "<" in text or "&" in text:
            decoded = decode(text, parser.users, parser.channels)
            plain = decoded.plain
            if decoded.mentions:
                mentions = orjson.dumps(decoded.mentions).decode()
            if decoded.channels:
                extra["channel_mentions"] = decoded.channels
            if decoded.broadcasts:
                extra["broadcasts"] = decoded.broadcasts
            if decoded.links:
                links = tuple(redact_tokens(u) for u in decoded.links)
                extra["links"] = links
        else:
            plain = text
        reactions = get("reactions")
        reacted = ""
        if reactions is not None:
            found = parser._reactions(reactions, f"{rel}: message {number}")
            if found:
                reacted = orjson.dumps(
                    [{"name": r.name, "count": r.count, "users": r.users} for r in found]
                ).decode()
        thread_ts = get("thread_ts")
        if thread_ts is not None:
            thread_ts = _opt_str(thread_ts)
        row = [
            self.channel_id,
            self.source_id,
            ts,
            self._at(whole, micros),
            thread_ts or "",
            user,
            made.person_of.get(user) or 0,
            made.labels.get(user, "")[:200],
            "",
            text,
            plain,
            "",
            "",
            1 if user in made.bot_users else 0,
            0,
            mentions,
            reacted,
            "",
            orjson.dumps(extra).decode() if extra else "",
        ]
        return row, links

    def _at(self, whole: int, micros: str) -> str:
        """The stored text of a UTC time: `storage.messages` writes "YYYY-MM-DD HH:MM:SS.ffffff"."""
        day, second = divmod(whole, 86_400)
        prefix = self._days.get(day)
        if prefix is None:
            if len(self._days) > 100_000:
                self._days.clear()
            at = _EPOCH + timedelta(days=day)
            prefix = self._days[day] = f"{at.year:04d}-{at.month:02d}-{at.day:02d} "
        hour, second = divmod(second, 3600)
        minute, second = divmod(second, 60)
        return f"{prefix}{_TWO[hour]}:{_TWO[minute]}:{_TWO[second]}.{micros}"


def _first(entry: tuple[str, Any, Any]) -> str:
    return entry[0]


def _moment(ts: str) -> datetime:
    seconds, _, micros = ts.partition(".")
    return _EPOCH + timedelta(0, int(seconds), int(micros.ljust(6, "0")) if micros else 0)
