"""Slack workspace exports (zip or unpacked folder) read as a stream of plain records.

Lives here: the export container (`open_export`, `SlackExport`), its safety limits
(`ExportLimits`), the Slack records (`SlackUser`, `SlackChannel`, `ParsedMessage`) and the one
message-dict -> `ParsedMessage` parser (`MessageParser`) that the live Web API client reuses.
Formats: formats.md §1. Times always come from `ts`, never from day-file names.

Memory: members are read one file at a time (users.json, one day file...), never the whole
export; nothing is extracted to disk. Hostile input raises `ImportFailed(where=...)` naming the
file and position, or - when one item can be skipped safely - adds an `ImportWarning`.

Must not live here: persistence (storage), person matching, HTTP calls (see `slack_api`).
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from afteraction.adapters.mrkdwn import (
    BLOCK_TARGETS,
    DecodedText,
    blocks_decoded,
    decode,
    escape_mrkdwn,
    walk_blocks,
)
from afteraction.core.errors import ImportFailed, NotFound, ValidationError
from afteraction.core.evidence import MessageRecord, PersonRecord, Reaction
from afteraction.core.import_window import ChannelTally

MiB = 1024 * 1024
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_DAY_FILE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})\.json$")
_TS = re.compile(r"^([0-9]{1,12})(?:\.([0-9]{1,6}))?$")  # ASCII digits only, as Slack writes
_TOKEN = re.compile(r"\b(xox[a-z])-[A-Za-z0-9._-]+")
_META_FILES = (
    "users.json",
    "org_users.json",
    "channels.json",
    "groups.json",
    "dms.json",
    "mpims.json",
    "integration_logs.json",
)
_KIND_BY_FILE = {"channels.json": "public", "groups.json": "private", "dms.json": "dm"}
_KIND_BY_FILE["mpims.json"] = "mpim"


@dataclass(frozen=True, slots=True)
class ExportLimits:
    """Safety limits; every one of them is checked before or while a member is read."""

    max_file_bytes: int = 100 * MiB
    max_total_bytes: int = 20 * 1024 * MiB
    max_ratio: float = 200.0
    ratio_min_bytes: int = 1 * MiB
    max_members: int = 2_000_000
    max_warnings_listed: int = 1000
    earliest: datetime = _EARLIEST
    future_margin: timedelta = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class ImportWarning:
    where: str
    reason: str


@dataclass(frozen=True, slots=True)
class SlackUser:
    id: str
    name: str
    real_name: str = ""
    display_name: str = ""
    email: str | None = None
    tz: str | None = None
    title: str = ""
    is_bot: bool = False
    deleted: bool = False
    bot_id: str | None = None

    @property
    def label(self) -> str:
        """The name Slack shows: display name, else real name, else handle, else id."""
        return self.display_name or self.real_name or self.name or self.id

    def to_person(self, key: str) -> PersonRecord:
        return PersonRecord(
            key=key,
            name=self.real_name or self.display_name or self.name or self.id,
            email=self.email,
            time_zone=self.tz,
            title=self.title or None,
            is_bot=self.is_bot,
        )


@dataclass(frozen=True, slots=True)
class SlackChannel:
    id: str
    name: str
    kind: str  # public, private, dm, mpim
    created: datetime | None = None
    creator: str | None = None
    members: tuple[str, ...] = ()
    topic: str = ""
    purpose: str = ""
    is_archived: bool = False

    @property
    def folder(self) -> str:
        """The export folder: DMs by id, everything else by name at export time."""
        return self.id if self.kind == "dm" or not self.name else self.name


@dataclass(frozen=True, slots=True)
class IntegrationLogEntry:
    user_id: str | None
    user_name: str
    at: datetime | None
    change_type: str
    service: str
    scope: str = ""
    channel: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SlackReaction:
    name: str
    count: int
    users: tuple[str, ...] = ()


@dataclass(slots=True)
class ParsedMessage:
    """One message or channel event, from an export day file or the Web API.

    `text` is the raw mrkdwn (export tokens redacted); `plain` is decoded once with
    mentions resolved to @names where known. `target_ts` is the message a
    `message_changed`/`message_deleted` record refers to.

    Treat it as read-only. It is not declared frozen because one is built per imported
    message and a frozen dataclass's `__init__` sets each of its 31 fields through
    `object.__setattr__`: ten times slower, a tenth of a whole import.
    """

    channel_id: str
    channel_name: str
    ts: str
    at: datetime
    user_id: str | None
    text: str = ""
    plain: str = ""
    subtype: str | None = None
    bot_id: str | None = None
    username: str | None = None
    author_name: str | None = None
    thread_ts: str | None = None
    parent_user_id: str | None = None
    reply_count: int = 0
    edited_by: str | None = None
    edited_ts: str | None = None
    edited_at: datetime | None = None
    inviter: str | None = None
    reactions: tuple[SlackReaction, ...] = ()
    file_links: tuple[str, ...] = ()
    attachments_text: str = ""
    mentions: tuple[str, ...] = ()
    channel_mentions: tuple[str, ...] = ()
    broadcasts: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    topic: str | None = None
    purpose: str | None = None
    old_name: str | None = None
    name: str | None = None
    target_ts: str | None = None
    hidden: bool = False

    @property
    def sort_key(self) -> tuple[int, int]:
        return ts_key(self.ts)

    @property
    def is_bot(self) -> bool:
        return self.subtype == "bot_message" or self.bot_id is not None

    @property
    def is_thread_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_record(self, resolve_person: Callable[[str], str | None]) -> MessageRecord:
        """A `MessageRecord`; Slack ids the resolver does not know become `slack:<id>`."""

        def key(slack_id: str) -> str:
            return resolve_person(slack_id) or f"slack:{slack_id}"

        author = self.user_id or self.bot_id
        return MessageRecord(
            channel=self.channel_name or self.channel_id,
            ts=self.ts,
            at=self.at,
            author_key=key(author) if author else None,
            text=self.text,
            subtype=self.subtype,
            thread_ts=self.thread_ts,
            edited_at=self.edited_at,
            inviter_key=key(self.inviter) if self.inviter else None,
            mention_keys=tuple(key(m) for m in self.mentions),
            reactions=tuple(
                Reaction(r.name, r.count, tuple(key(u) for u in r.users)) for r in self.reactions
            ),
            file_links=self.file_links,
            is_bot=self.is_bot,
            hidden=self.hidden,
        )


# --- small coercions ------------------------------------------------------------------


def ts_key(ts: str) -> tuple[int, int]:
    """Sort key of a Slack ts string: (whole seconds, microseconds). Raises ValueError."""
    match = _TS.match(ts)
    if match is None:
        raise ValueError(f"not a Slack ts: {ts!r}")
    return int(match.group(1)), int((match.group(2) or "0").ljust(6, "0"))


def ts_to_datetime(ts: str) -> datetime:
    """The aware UTC instant of a ts string. Raises ValueError/OverflowError when invalid."""
    seconds, micros = ts_key(ts)
    return _EPOCH + timedelta(seconds=seconds, microseconds=micros)


def datetime_to_ts(moment: datetime) -> str:
    """A ts string for an aware datetime (for API `oldest`/`latest`)."""
    if moment.tzinfo is None:
        raise ValidationError("datetime must be timezone-aware", field="moment")
    delta = moment - _EPOCH
    return f"{delta.days * 86400 + delta.seconds}.{delta.microseconds:06d}"


def redact_tokens(text: str) -> str:
    """Replace Slack tokens (`xoxe-...`, `xoxb-...`) embedded in URLs or text."""
    if "xox" not in text:  # every token starts so; skips the regex for nearly all text
        return text
    return _TOKEN.sub(r"\1-REDACTED", text)


def _str(value: object) -> str | None:
    if type(value) is str:
        return value or None
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


_INT_LIMIT = 2**63  # SQLite's and JSON's usual integers; a count beyond is not a count


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -_INT_LIMIT < value < _INT_LIMIT else None
    if isinstance(value, float):
        return int(value) if -_INT_LIMIT < value < _INT_LIMIT else None  # and not NaN
    if isinstance(value, str):
        number = value.strip()
        digits = number.removeprefix("-")
        if digits.isascii() and digits.isdigit() and len(number) < 20:
            return _int(int(number))
    return None


def _epoch(value: object) -> datetime | None:
    seconds = _int(value)
    if not seconds:
        return None
    try:
        return _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: object) -> tuple[str, ...]:
    found: list[str] = []
    for item in _list(value):
        text = item if type(item) is str else _str(item)
        if text:
            found.append(text)
    return tuple(found)


# --- message parsing (shared with slack_api) ------------------------------------------


class WarningLog:
    """Collects warnings: every one is counted, the first `limit` are listed."""

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self.items: list[ImportWarning] = []
        self.count = 0

    def __call__(self, where: str, reason: str) -> None:
        self.count += 1
        if len(self.items) < self.limit:
            self.items.append(ImportWarning(where, reason))


@dataclass
class MessageParser:
    """Turns one raw Slack message dict into a `ParsedMessage` (or None, with a warning)."""

    users: Mapping[str, str]
    channels: Mapping[str, str]
    warn: Callable[[str, str], None]
    earliest: datetime = _EARLIEST
    latest: datetime | None = None

    def parse_ts(self, value: object, where: str) -> tuple[str, datetime] | None:
        if type(value) is str and (match := _TS.match(value)) is not None:  # the usual case
            seconds, micros = match.groups()
            try:
                moment = _EPOCH + timedelta(
                    0, int(seconds), int(micros.ljust(6, "0")) if micros else 0
                )
            except OverflowError:
                pass  # warned below
            else:
                if moment >= self.earliest and (self.latest is None or moment <= self.latest):
                    return value, moment
        if (
            type(value) is not str
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            self.warn(where, f"ts is a number ({value!r}), not a string; precision may be lost")
            value = f"{value:.6f}"
        if not isinstance(value, str) or (match := _TS.match(value)) is None:
            self.warn(where, f"skipped: missing or malformed ts {value!r}")
            return None
        micros = match.group(2)
        try:
            at: datetime | None = _EPOCH + timedelta(
                seconds=int(match.group(1)), microseconds=int(micros.ljust(6, "0")) if micros else 0
            )
        except OverflowError:
            at = None
        if at is None or at < self.earliest or (self.latest is not None and at > self.latest):
            self.warn(where, f"skipped: ts {value} is an implausible date (far past or future)")
            return None
        return value, at

    def parse(
        self, raw: Mapping[str, Any], *, channel_id: str, channel_name: str, where: str
    ) -> ParsedMessage | None:
        parsed_ts = self.parse_ts(raw.get("ts"), where)
        if parsed_ts is None:
            return None
        ts, at = parsed_ts
        if raw.keys() <= _PLAIN_KEYS:
            return self._plain(raw, channel_id, channel_name, ts, at, where)
        # Speed: one dict look-up per field and `_str` only for values that are present
        # (most fields of most messages are absent); warnings keep their order.
        get = raw.get
        subtype = _str(get("subtype"))
        body = _dict(get("message")) if subtype == "message_changed" else raw
        field = body.get
        text = self._text(body, where)
        attachments_text = _attachments_text(body)
        decoded = decode(text or attachments_text, self.users, self.channels)
        edited = field("edited")
        if edited is None:
            edited_by = edited_ts = None
        else:
            edited = _dict(edited)
            edited_by, edited_ts = _str(edited.get("user")), _str(edited.get("ts"))
        user_id = self._user(raw, body, subtype, where)
        edited_at = None if edited_ts is None else self._edited_at(edited_ts, where)
        reactions = field("reactions")
        blocks = field("blocks")
        if blocks:
            text, decoded = self._with_blocks(text, decoded, blocks)
        links = decoded.links
        return ParsedMessage(
            channel_id,
            channel_name,
            ts,
            at,
            user_id,
            text,
            decoded.plain,
            subtype,
            _opt_str(field("bot_id")),
            _opt_str(field("username")),
            _author_name(body),
            _opt_str(field("thread_ts")),
            _opt_str(field("parent_user_id")),
            _opt_int(field("reply_count")),
            edited_by,
            edited_ts,
            edited_at,
            _opt_str(get("inviter")),
            () if reactions is None else self._reactions(reactions, where),
            _file_links(body),
            attachments_text,
            decoded.mentions,
            decoded.channels,
            decoded.broadcasts,
            tuple(redact_tokens(u) for u in links) if links else (),
            _str(get("topic")) if subtype in _TOPIC else None,
            _str(get("purpose")) if subtype in _PURPOSE else None,
            _opt_str(get("old_name")),
            _str(get("name")) if subtype in _RENAME else None,
            None if subtype is None else _target_ts(raw, body, subtype),
            get("hidden") is True,
        )

    def parse_day(
        self,
        items: list[Any],
        rel: str,
        *,
        channel_id: str,
        channel_name: str,
        previous: Collection[str] = (),
    ) -> tuple[list[ParsedMessage], set[str]]:
        """The messages of one day file's items, in file order, and the set of their ts.

        The same messages and warnings as `parse` item by item, plus: a non-object item
        is skipped, a ts seen before in `items` or in `previous` (the day before) is a
        skipped duplicate, an unknown subtype is kept with a warning. Speed: the usual
        message (a user's text, no subtype, no edit, no blocks) is checked here and read
        by `_inline` without building its `where` text; every other item goes through
        `parse`. tests/adapters/test_slack_export.py holds both paths to the same output.
        """
        found: list[ParsedMessage] = []
        seen: set[str] = set()
        earliest, latest = self.earliest, self.latest
        for number, item in enumerate(items, start=1):
            message: ParsedMessage | None = None
            usual = usual_message(item, blocks=False)
            if usual is not None:
                ts, text, user, seconds, micros = usual
                try:
                    at: datetime | None = _EPOCH + timedelta(0, int(seconds), int(micros))
                except OverflowError:
                    at = None
                if at is not None and at >= earliest and (latest is None or at <= latest):
                    message = self._inline(
                        item, rel, number, channel_id, channel_name, ts, at, user, text
                    )
            if message is None:
                message = self.parse_item(
                    item, rel, number, channel_id, channel_name, seen, previous
                )
                if message is None:
                    continue
            elif message.ts in seen or message.ts in previous:
                self.warn(f"{rel}: message {number}", f"skipped: duplicate ts {message.ts}")
                continue
            seen.add(message.ts)
            found.append(message)
        return found, seen

    def parse_item(
        self,
        item: object,
        rel: str,
        number: int,
        channel_id: str,
        channel_name: str,
        seen: Collection[str],
        previous: Collection[str],
    ) -> ParsedMessage | None:
        """`parse_day` for an item that is not the usual message: None (with a warning)
        for a non-object, an unreadable message or a ts in `seen` or `previous`; an
        unknown subtype is kept with a warning."""
        where = f"{rel}: message {number}"
        if not isinstance(item, dict):
            self.warn(where, f"skipped: a {type(item).__name__}, not a message object")
            return None
        message = self.parse(item, channel_id=channel_id, channel_name=channel_name, where=where)
        if message is None:
            return None
        if message.ts in seen or message.ts in previous:
            self.warn(where, f"skipped: duplicate ts {message.ts}")
            return None
        if message.subtype is not None and message.subtype not in KNOWN_SUBTYPES:
            self.warn(where, f"unknown subtype {message.subtype!r} kept as data")
        return message

    def _inline(
        self,
        raw: dict[str, Any],
        rel: str,
        number: int,
        channel_id: str,
        channel_name: str,
        ts: str,
        at: datetime,
        user: str,
        text: str,
    ) -> ParsedMessage:
        """`_plain` for a message `parse_day` has checked: text and user are strings,
        no edit, no blocks."""
        if "xox" in text:
            text = redact_tokens(text)
        if "<" in text or "&" in text:
            decoded = decode(text, self.users, self.channels)
            plain, mentions, channels = decoded.plain, decoded.mentions, decoded.channels
            broadcasts, links = decoded.broadcasts, decoded.links
            if links:
                links = tuple(redact_tokens(u) for u in links)
        else:
            plain, mentions, channels, broadcasts, links = text, (), (), (), ()
        get = raw.get
        thread_ts = get("thread_ts")
        if thread_ts is not None:
            thread_ts = _opt_str(thread_ts)
        parent_user_id = get("parent_user_id")
        if parent_user_id is not None:
            parent_user_id = _opt_str(parent_user_id)
        reply_count = get("reply_count")
        reactions = get("reactions")
        return ParsedMessage(
            channel_id,
            channel_name,
            ts,
            at,
            user,
            text,
            plain,
            None,
            None,
            None,
            None,
            thread_ts,
            parent_user_id,
            0 if reply_count is None else _opt_int(reply_count),
            None,
            None,
            None,
            None,
            () if reactions is None else self._reactions(reactions, f"{rel}: message {number}"),
            (),
            "",
            mentions,
            channels,
            broadcasts,
            links,
        )

    def _plain(
        self,
        raw: Mapping[str, Any],
        channel_id: str,
        channel_name: str,
        ts: str,
        at: datetime,
        where: str,
    ) -> ParsedMessage:
        """`parse` for the common message whose fields are all in `_PLAIN_KEYS` (no
        subtype, attachments, files, profiles, bot fields...): the same result and the same
        warnings in the same order, with most helper calls answered inline."""
        get = raw.get
        text = get("text")
        if type(text) is not str:
            text = self._text(raw, where)
        elif "xox" in text:
            text = redact_tokens(text)
        user = get("user")
        user_id = (user or None) if type(user) is str else self._user(raw, raw, None, where)
        edited = get("edited")
        if edited is None:
            edited_by = edited_ts = edited_at = None
        else:
            edited = _dict(edited)
            edited_by, edited_ts = _str(edited.get("user")), _str(edited.get("ts"))
            edited_at = None if edited_ts is None else self._edited_at(edited_ts, where)
        if "<" in text or "&" in text:
            decoded = decode(text, self.users, self.channels)
            plain, mentions, channels = decoded.plain, decoded.mentions, decoded.channels
            broadcasts, links = decoded.broadcasts, decoded.links
            if links:
                links = tuple(redact_tokens(u) for u in links)
        else:
            plain, mentions, channels, broadcasts, links = text, (), (), (), ()
        blocks = get("blocks")
        if blocks:
            known = DecodedText(plain, mentions, channels, broadcasts, (), links)
            text, merged = self._with_blocks(text, known, blocks)
            plain, mentions, channels = merged.plain, merged.mentions, merged.channels
            broadcasts, links = merged.broadcasts, merged.links
        thread_ts = get("thread_ts")
        if thread_ts is not None:
            thread_ts = _opt_str(thread_ts)
        parent_user_id = get("parent_user_id")
        if parent_user_id is not None:
            parent_user_id = _opt_str(parent_user_id)
        reply_count = get("reply_count")
        reactions = get("reactions")
        return ParsedMessage(
            channel_id,
            channel_name,
            ts,
            at,
            user_id,
            text,
            plain,
            None,
            None,
            None,
            None,
            thread_ts,
            parent_user_id,
            0 if reply_count is None else _opt_int(reply_count),
            edited_by,
            edited_ts,
            edited_at,
            None,
            () if reactions is None else self._reactions(reactions, where),
            (),
            "",
            mentions,
            channels,
            broadcasts,
            links,
        )

    def _with_blocks(
        self, text: str, decoded: DecodedText, blocks: object
    ) -> tuple[str, DecodedText]:
        """Merge what a message's rich_text blocks say (formats.md §1.8): their exact
        mention targets join those found in the text, and a message whose text is empty
        takes its text from the blocks (escaped as mrkdwn, so it renders as written)."""
        if not isinstance(blocks, list):
            return text, decoded
        lines, found = walk_blocks(blocks, self.users, self.channels)
        if not lines and not found:
            return text, decoded
        if "link" in found:
            found["link"] = [redact_tokens(u) for u in found["link"]]
        if (
            decoded.plain
            and text.strip()
            and all(
                set(targets).issubset(getattr(decoded, BLOCK_TARGETS[kind]))
                for kind, targets in found.items()
            )
        ):
            return text, decoded  # the usual message: its blocks name what its text names
        facts = blocks_decoded(lines, found)
        merged = DecodedText(
            decoded.plain or facts.plain,
            tuple(dict.fromkeys((*decoded.mentions, *facts.mentions))),
            tuple(dict.fromkeys((*decoded.channels, *facts.channels))),
            tuple(dict.fromkeys((*decoded.broadcasts, *facts.broadcasts))),
            tuple(dict.fromkeys((*decoded.usergroups, *facts.usergroups))),
            tuple(dict.fromkeys((*decoded.links, *facts.links))),
        )
        if not text.strip() and facts.plain:
            text = redact_tokens(escape_mrkdwn(facts.plain))
        return text, merged

    def _text(self, body: Mapping[str, Any], where: str) -> str:
        text = body.get("text")
        if type(text) is str:
            return redact_tokens(text)
        if text is None or isinstance(text, str):
            return redact_tokens(text or "")
        self.warn(where, f"text is a {type(text).__name__}, not a string; read as text")
        return redact_tokens(str(text))

    def _user(
        self, raw: Mapping[str, Any], body: Mapping[str, Any], subtype: str | None, where: str
    ) -> str | None:
        user = body.get("user", raw.get("user"))
        if user is not None and not isinstance(user, str):
            self.warn(where, f"user is a {type(user).__name__}, not a string")
        found = _str(user)
        if found is None and subtype == "file_comment":
            found = _str(_dict(raw.get("comment")).get("user"))
        return found

    def _edited_at(self, edited_ts: str | None, where: str) -> datetime | None:
        if edited_ts is None:
            return None
        try:
            return ts_to_datetime(edited_ts)
        except (ValueError, OverflowError):
            self.warn(where, f"edited.ts {edited_ts!r} is not a Slack ts; edit time dropped")
            return None

    def _reactions(self, value: object, where: str) -> tuple[SlackReaction, ...]:
        found: list[SlackReaction] = []
        for item in _list(value):
            reaction = _dict(item)
            name = _str(reaction.get("name"))
            if name is None:
                self.warn(where, "reaction without a name skipped")
                continue
            users = _strings(reaction.get("users"))
            count = _int(reaction.get("count"))
            found.append(SlackReaction(name, count if count is not None else len(users), users))
        return tuple(found)


def usual_message(item: object, *, blocks: bool) -> tuple[str, str, str, str, str] | None:
    """(ts, text, user, whole seconds, six digits of microseconds) of the usual message —
    an object with only `_PLAIN_KEYS`, a string ts in Slack's form, a string text, a user,
    no edit, and (unless `blocks`) no blocks — or None for any other item. Whether its
    time is plausible is the caller's to check."""
    if type(item) is not dict or not item.keys() <= _PLAIN_KEYS:
        return None
    get = item.get
    ts, text, user = get("ts"), get("text"), get("user")
    if not (
        type(ts) is str
        and type(text) is str
        and type(user) is str
        and user
        and get("edited") is None
        and (blocks or not get("blocks"))
    ):
        return None
    # Slack's own form, "1767571451.044539", checked without the regular expression (a
    # third of the cost); anything else is left to `_TS`, which decides as before.
    seconds, _, micros = ts.partition(".")
    if (
        len(micros) == 6
        and 0 < len(seconds) <= 12
        and ts.isascii()
        and seconds.isdigit()
        and micros.isdigit()
    ):
        return ts, text, user, seconds, micros
    match = _TS.match(ts)
    if match is None:
        return None
    seconds, micros = match.groups()
    return ts, text, user, seconds, micros.ljust(6, "0") if micros else "000000"


# Fields `MessageParser._plain` handles; any other field sends a message the long way.
_PLAIN_KEYS = frozenset(
    {
        "type",
        "ts",
        "user",
        "text",
        "client_msg_id",
        "team",
        "user_team",
        "source_team",
        "blocks",
        "thread_ts",
        "parent_user_id",
        "reply_count",
        "reply_users_count",
        "reply_users",
        "latest_reply",
        "replies",
        "subscribed",
        "last_read",
        "is_locked",
        "reactions",
        "edited",
    }
)
_TOPIC = frozenset({"channel_topic", "group_topic"})
_PURPOSE = frozenset({"channel_purpose", "group_purpose"})
_RENAME = frozenset({"channel_name", "group_name"})


def _target_ts(raw: Mapping[str, Any], body: Mapping[str, Any], subtype: str | None) -> str | None:
    if subtype == "message_deleted":
        return _str(raw.get("deleted_ts"))
    if subtype == "message_changed":
        return _str(body.get("ts"))
    return None


def _opt_str(value: object) -> str | None:
    """`_str` with the common cases (absent, a non-empty string) answered inline."""
    if value is None:
        return None
    if type(value) is str:
        return value or None
    return _str(value)


def _opt_int(value: object) -> int:
    """`_int(value) or 0`."""
    if value is None:
        return 0
    return _int(value) or 0


def _author_name(body: Mapping[str, Any]) -> str | None:
    if "user_profile" not in body and "bot_profile" not in body and "username" not in body:
        return None
    profile = _dict(body.get("user_profile"))
    bot = _dict(body.get("bot_profile"))
    return (
        _str(profile.get("display_name"))
        or _str(profile.get("real_name"))
        or _str(body.get("username"))
        or _str(bot.get("name"))
    )


def _attachments_text(body: Mapping[str, Any]) -> str:
    if "attachments" not in body:
        return ""
    lines: list[str] = []
    for item in _list(body.get("attachments")):
        attachment = _dict(item)
        parts = [_str(attachment.get(k)) for k in ("pretext", "title", "text")]
        chosen = [p for p in parts if p] or [_str(attachment.get("fallback")) or ""]
        lines.extend(p for p in chosen if p)
    return redact_tokens("\n".join(lines))


def _file_links(body: Mapping[str, Any]) -> tuple[str, ...]:
    if "file" not in body and "files" not in body:
        return ()
    files = [_dict(body.get("file")), *(_dict(f) for f in _list(body.get("files")))]
    links: list[str] = []
    for item in files:
        for key in ("permalink", "url_private"):
            url = _str(item.get(key))
            if url and url.startswith(("https://", "http://")):
                links.append(redact_tokens(url))
                break
    return tuple(dict.fromkeys(links))


# --- containers: zip or folder --------------------------------------------------------


def _unsafe_name(name: str) -> str | None:
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return "absolute path"
    if ".." in norm.split("/"):
        return "path escapes the export folder"
    if "\x00" in norm:
        return "NUL byte in the name"
    return None


def _day_index(names: Iterator[tuple[str, str]]) -> dict[str, list[str]]:
    """folder -> sorted day-file names, from (folder, file name) pairs."""
    index: dict[str, list[str]] = {}
    for folder, name in names:
        if _DAY_FILE.match(name) and folder and not folder.startswith("__"):
            index.setdefault(folder, []).append(name)
    for names_ in index.values():
        names_.sort()
    return index


def _read_capped(stream: Any, where: str, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(MiB):
        total += len(chunk)
        if total > limit:
            raise ImportFailed(f"file is larger than the {limit:,}-byte limit", where=where)
        chunks.append(chunk)
    return b"".join(chunks)


class _ZipSource:
    def __init__(self, path: Path, limits: ExportLimits) -> None:
        self.limits = limits
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise ImportFailed(f"not a readable zip archive ({error})", where=path.name) from None
        try:
            self.infos = {info.filename: info for info in self._checked_members()}
        except ImportFailed:
            self.zip.close()
            raise
        self.root = _find_root(list(self.infos))
        self.days = _day_index(self._pairs())

    def _checked_members(self) -> Iterator[zipfile.ZipInfo]:
        infos = self.zip.infolist()
        if len(infos) > self.limits.max_members:
            raise ImportFailed(f"{len(infos):,} members, over the limit", where="archive")
        total = 0
        for info in infos:
            _check_member(info, self.limits)
            total += info.file_size
            if total > self.limits.max_total_bytes:
                raise ImportFailed(
                    f"uncompressed size over the {self.limits.max_total_bytes:,}-byte limit "
                    "(possible zip bomb)",
                    where=info.filename,
                )
            yield info

    def _pairs(self) -> Iterator[tuple[str, str]]:
        for name in self.infos:
            if name.startswith(self.root):
                parts = name[len(self.root) :].split("/")
                if len(parts) == 2:
                    yield parts[0], parts[1]

    def exists(self, rel: str) -> bool:
        return self.root + rel in self.infos

    def read(self, rel: str) -> bytes:
        info = self.infos[self.root + rel]
        if info.file_size > self.limits.max_file_bytes:
            raise ImportFailed(
                f"file is {info.file_size:,} bytes, over the "
                f"{self.limits.max_file_bytes:,}-byte limit",
                where=rel,
            )
        try:
            with self.zip.open(info) as stream:
                return _read_capped(stream, rel, self.limits.max_file_bytes)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
            raise ImportFailed(f"damaged zip member ({error})", where=rel) from None

    def size(self, rel: str) -> int:
        return self.infos[self.root + rel].file_size

    def close(self) -> None:
        self.zip.close()


def _check_member(info: zipfile.ZipInfo, limits: ExportLimits) -> None:
    reason = _unsafe_name(info.filename)
    if reason:
        raise ImportFailed(f"refusing archive: {reason}", where=info.filename)
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ImportFailed("refusing archive: symbolic link member", where=info.filename)
    if info.flag_bits & 0x1:
        raise ImportFailed("encrypted members are not supported", where=info.filename)
    if info.file_size > limits.ratio_min_bytes:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_ratio:
            raise ImportFailed(
                f"compression ratio {ratio:.0f}:1 over the {limits.max_ratio:.0f}:1 limit "
                "(possible zip bomb)",
                where=info.filename,
            )


def _find_root(names: list[str]) -> str:
    """The folder holding users.json/channels.json: the archive root or one wrapper folder."""
    roots = sorted(
        (name.count("/"), name.rsplit("/", 1)[0] + "/" if "/" in name else "")
        for name in names
        if name.rsplit("/", 1)[-1] in _META_FILES and not name.startswith("__MACOSX")
    )
    return roots[0][1] if roots else ""


class _DirSource:
    def __init__(self, path: Path, limits: ExportLimits) -> None:
        self.limits = limits
        self.base = path
        self.root = self._find_root(path)
        self.days = _day_index(self._pairs())

    @staticmethod
    def _find_root(path: Path) -> Path:
        if any((path / name).is_file() for name in _META_FILES):
            return path
        subdirs = [p for p in path.iterdir() if p.is_dir() and not p.is_symlink()]
        if len(subdirs) == 1 and any((subdirs[0] / n).is_file() for n in _META_FILES):
            return subdirs[0]
        return path

    def _pairs(self) -> Iterator[tuple[str, str]]:
        with os.scandir(self.root) as folders:
            for folder in folders:
                if folder.is_symlink() and not folder.name.startswith("."):
                    raise ImportFailed("refusing symbolic link in export", where=folder.name)
                if not folder.is_dir(follow_symlinks=False):
                    continue
                with os.scandir(folder.path) as files:
                    for entry in files:
                        if _DAY_FILE.match(entry.name):
                            yield folder.name, entry.name

    def _path(self, rel: str) -> Path:
        return self.root / rel

    def exists(self, rel: str) -> bool:
        return os.path.lexists(self._path(rel))

    def read(self, rel: str) -> bytes:
        path = self._path(rel)
        try:
            info = path.lstat()
        except OSError as error:
            raise ImportFailed(f"cannot read ({error.strerror})", where=rel) from None
        if stat.S_ISLNK(info.st_mode):
            raise ImportFailed("refusing symbolic link in export", where=rel)
        if info.st_size > self.limits.max_file_bytes:
            raise ImportFailed(
                f"file is {info.st_size:,} bytes, over the "
                f"{self.limits.max_file_bytes:,}-byte limit",
                where=rel,
            )
        with path.open("rb") as stream:
            return _read_capped(stream, rel, self.limits.max_file_bytes)

    def size(self, rel: str) -> int:
        try:
            return self._path(rel).lstat().st_size
        except OSError:
            return 0  # `read` says what is wrong with it

    def close(self) -> None:
        """Nothing to release for a folder."""


# --- JSON decoding --------------------------------------------------------------------


def _load_json(data: bytes, where: str, warn: Callable[[str, str], None]) -> object:
    if data.startswith(b"\xef\xbb\xbf"):
        warn(where, "UTF-8 byte order mark removed")
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        warn(where, "UTF-16 file converted to UTF-8")
        data = data.decode("utf-16").encode("utf-8")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise _json_error(data, error, where) from None


def _json_error(data: bytes, error: orjson.JSONDecodeError, where: str) -> ImportFailed:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        line = data.count(b"\n", 0, bad.start) + 1
        return ImportFailed(
            f"not valid UTF-8: byte 0x{data[bad.start]:02x} at offset {bad.start} (line {line})",
            where=where,
        )
    if not data.strip():
        return ImportFailed("empty file, expected JSON", where=where)
    return ImportFailed(
        f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno} "
        f"(byte {error.pos}); truncated file?",
        where=where,
    )


def _as_array(
    value: object, where: str, single_key: str, warn: Callable[[str, str], None]
) -> list[Any]:
    """The list of items; a lone object that looks like one item is accepted with a warning."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and single_key in value:
        warn(where, "a single object where an array was expected; read as a one-item array")
        return [value]
    found = "null" if value is None else type(value).__name__
    found = {"dict": "object", "str": "string", "list": "array"}.get(found, found)
    return _refuse(f"expected a JSON array at the top level, found {found}", where)


def _refuse(message: str, where: str) -> list[Any]:
    raise ImportFailed(message, where=where)


# --- the export -----------------------------------------------------------------------


def parse_user(raw: Mapping[str, Any]) -> SlackUser | None:
    """A `SlackUser` from a users.json / users.list member (None without an id)."""
    user_id = _str(raw.get("id"))
    if user_id is None:
        return None
    profile = _dict(raw.get("profile"))
    return SlackUser(
        id=user_id,
        name=_str(raw.get("name")) or "",
        real_name=_str(raw.get("real_name")) or _str(profile.get("real_name")) or "",
        display_name=_str(profile.get("display_name")) or "",
        email=_str(profile.get("email")),
        tz=_str(raw.get("tz")),
        title=_str(profile.get("title")) or "",
        is_bot=raw.get("is_bot") is True,
        deleted=raw.get("deleted") is True,
        bot_id=_str(profile.get("bot_id")),
    )


def parse_channel(raw: Mapping[str, Any], kind: str) -> SlackChannel | None:
    """A `SlackChannel` from a channels/groups/dms/mpims.json element (None without an id)."""
    channel_id = _str(raw.get("id"))
    if channel_id is None:
        return None
    if raw.get("is_mpim") is True:
        kind = "mpim"
    elif raw.get("is_im") is True:
        kind = "dm"
    return SlackChannel(
        id=channel_id,
        name=_str(raw.get("name")) or "",
        kind=kind,
        created=_epoch(raw.get("created")),
        creator=_str(raw.get("creator")),
        members=_strings(raw.get("members")),
        topic=_str(_dict(raw.get("topic")).get("value")) or "",
        purpose=_str(_dict(raw.get("purpose")).get("value")) or "",
        is_archived=raw.get("is_archived") is True,
    )


class SlackExport:
    """An opened export. Use as a context manager; read users, channels, then messages."""

    def __init__(self, source: _ZipSource | _DirSource, limits: ExportLimits) -> None:
        self._source = source
        self.limits = limits
        self._log = WarningLog(limits.max_warnings_listed)
        self._users: list[SlackUser] | None = None
        self._channels: list[SlackChannel] | None = None

    def __enter__(self) -> SlackExport:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._source.close()

    @property
    def warnings(self) -> list[ImportWarning]:
        """Listed warnings (the first `limits.max_warnings_listed`); see `warning_count`."""
        return self._log.items

    @property
    def warning_count(self) -> int:
        return self._log.count

    def add_warnings(self, items: list[ImportWarning], count: int) -> None:
        """Add warnings another reader of this export logged (`count` of them, `items`
        listed) after the ones logged so far."""
        for item in items:
            self._log(item.where, item.reason)
        self._log.count += count - len(items)

    def _array(self, rel: str, single_key: str) -> list[Any]:
        if not self._source.exists(rel):
            return []
        return _as_array(
            _load_json(self._source.read(rel), rel, self._log), rel, single_key, self._log
        )

    def _items(self, rel: str, single_key: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for number, item in enumerate(self._array(rel, single_key), start=1):
            where = f"{rel}: item {number}"
            if isinstance(item, dict):
                yield where, item
            else:
                self._log(where, f"skipped: a {type(item).__name__}, not an object")

    def users(self) -> list[SlackUser]:
        """Everyone in users.json and org_users.json (first record wins on duplicate ids)."""
        if self._users is None:
            if not any(self._source.exists(f) for f in ("users.json", "org_users.json")):
                self._log("users.json", "missing; mentions and authors stay as Slack ids")
            found: dict[str, SlackUser] = {}
            for rel in ("users.json", "org_users.json"):
                for where, item in self._items(rel, "id"):
                    self._keep(found, parse_user(item), where)
            self._users = list(found.values())
        return self._users

    def channels(self) -> list[SlackChannel]:
        """Public and private channels, DMs and group DMs (first record wins on duplicates)."""
        if self._channels is None:
            found: dict[str, SlackChannel] = {}
            for rel, kind in _KIND_BY_FILE.items():
                for where, item in self._items(rel, "id"):
                    self._keep(found, parse_channel(item, kind), where)
            self._channels = list(found.values())
        return self._channels

    def _keep(
        self, found: dict[str, Any], record: SlackUser | SlackChannel | None, where: str
    ) -> None:
        if record is None:
            self._log(where, "skipped: no id")
        elif record.id in found:
            self._log(where, f"skipped: duplicate id {record.id}")
        else:
            found[record.id] = record

    def integration_logs(self) -> list[IntegrationLogEntry]:
        """App and integration changes from integration_logs.json (empty when absent)."""
        entries: list[IntegrationLogEntry] = []
        for _where, item in self._items("integration_logs.json", "change_type"):
            entries.append(
                IntegrationLogEntry(
                    user_id=_str(item.get("user_id")),
                    user_name=_str(item.get("user_name")) or "",
                    at=_epoch(item.get("date")),
                    change_type=_str(item.get("change_type")) or "",
                    service=_str(item.get("service_type")) or _str(item.get("app_type")) or "",
                    scope=_str(item.get("scope")) or "",
                    channel=_str(item.get("channel")) or "",
                    reason=_str(item.get("reason")) or "",
                )
            )
        return entries

    def folders(self) -> list[str]:
        """Conversation folders that hold day files."""
        return sorted(self._source.days)

    def days_of(self, folder: str) -> list[str]:
        """The names of a folder's day files (`YYYY-MM-DD.json`), in order."""
        return list(self._source.days.get(folder, ()))

    def day_bytes(self, folder: str) -> int:
        """How many bytes the day files of a folder hold (uncompressed)."""
        return sum(self._source.size(f"{folder}/{name}") for name in self._source.days[folder])

    def day_size(self, rel: str) -> int:
        """How many bytes one day file (`folder/name`, as `folder_days` names it) holds."""
        return self._source.size(rel)

    def message_parser(self) -> MessageParser:
        """The parser `iter_messages` uses: user and channel names from this export,
        warnings into this export's log."""
        latest = datetime.now(UTC) + self.limits.future_margin
        return MessageParser(
            users={u.id: u.label for u in self.users()},
            channels={c.id: c.name or c.id for c in self.channels()},
            warn=self._log,
            earliest=self.limits.earliest,
            latest=latest,
        )

    def selected(self, wanted: Collection[str] | None) -> list[tuple[str, SlackChannel]]:
        """(folder, channel) of the chosen channels (ids, names or folders; None: all), in
        folder order; NotFound names any wanted channel the export lacks."""
        by_folder = {c.folder: c for c in self.channels()}
        chosen: list[tuple[str, SlackChannel]] = []
        matched: set[str] = set()
        for folder in self.folders():
            channel = by_folder.get(folder)
            if channel is None:
                self._log(folder, "folder not listed in any conversation list; id = folder name")
                channel = SlackChannel(id=folder, name=folder, kind="unknown")
            keys = {folder, channel.id, channel.name}
            if wanted is None or keys & set(wanted):
                matched |= keys
                chosen.append((folder, channel))
        missing = sorted(set(wanted or ()) - matched)
        if missing:
            raise NotFound("channel", ", ".join(missing))
        return chosen

    def iter_messages(
        self,
        channels: Collection[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[ParsedMessage]:
        """Messages of the chosen channels (ids, names or folders), `since` <= at < `until`.

        Streams one day file at a time: channels in folder order, day files in name order,
        messages in (seconds, microseconds) order within a file. Day files more than two days
        outside the window are not opened (file names are a hint only; times come from ts).
        """
        for label, moment in (("since", since), ("until", until)):
            if moment is not None and moment.tzinfo is None:
                raise ValidationError(f"{label} must be timezone-aware", field=label)
        parser = self.message_parser()
        for folder, channel in self.selected(channels):
            yield from self.folder_messages(parser, folder, channel, since, until)

    def folder_days(
        self,
        folder: str,
        since: datetime | None,
        until: datetime | None,
        warn: Callable[[str, str], None],
    ) -> Iterator[tuple[str, list[Any]]]:
        """(relative path, items) of a folder's day files in name order, skipping those
        more than two days outside the window; a file's problems go to `warn` or raise."""
        for name in self._source.days[folder]:
            if _day_may_overlap(name, since, until):
                rel = f"{folder}/{name}"
                yield rel, self.day_items(rel, warn)

    def skipped_days(
        self, folder: str, since: datetime | None, until: datetime | None
    ) -> list[str]:
        """The day files (`folder/name`) of a folder that `folder_days` skips for the window."""
        return [
            f"{folder}/{name}"
            for name in self._source.days[folder]
            if not _day_may_overlap(name, since, until)
        ]

    def day_items(self, rel: str, warn: Callable[[str, str], None]) -> list[Any]:
        """The items of one day file (`folder/name`); its problems go to `warn` or raise."""
        return _as_array(_load_json(self._source.read(rel), rel, warn), rel, "ts", warn)

    def folder_messages(
        self,
        parser: MessageParser,
        folder: str,
        channel: SlackChannel,
        since: datetime | None,
        until: datetime | None,
        tally: ChannelTally | None = None,
    ) -> Iterator[ParsedMessage]:
        """One chosen channel's part of `iter_messages` (`selected` gives the pairs); its
        warnings go to `parser.warn`, how many of its messages fell inside and outside
        the window to `tally` (of the day files read)."""
        previous = set[str]()
        for rel, items in self.folder_days(folder, since, until, parser.warn):
            batch, previous = parser.parse_day(
                items,
                rel,
                channel_id=channel.id,
                channel_name=channel.name or channel.id,
                previous=previous,
            )
            del items
            batch.sort(key=_at)  # same order as `sort_key`: `at` is exact to the microsecond
            if since is not None or until is not None:
                kept = [m for m in batch if in_window(m.at, since, until)]
                if tally is not None and batch:
                    outside = len(batch) - len(kept)
                    tally.see(batch[0].at, batch[-1].at, inside=len(kept), outside=outside)
                batch = kept
            elif tally is not None and batch:
                tally.see(batch[0].at, batch[-1].at, inside=len(batch), outside=0)
            yield from batch


KNOWN_SUBTYPES = frozenset(
    {
        "bot_message",
        "me_message",
        "file_share",
        "file_comment",
        "file_mention",
        "pinned_item",
        "unpinned_item",
        "thread_broadcast",
        "tombstone",
        "message_changed",
        "message_deleted",
        "message_replied",
        "bot_add",
        "bot_remove",
        "bot_enable",
        "bot_disable",
        "reminder_add",
        "slackbot_response",
        "joiner_notification",
        "channel_posting_permissions",
        "ekm_access_denied",
        "huddle_thread",
        "app_conversation_leave",
        "channel_canvas_updated",
        "sh_room_created",
        "reply_broadcast",
        "document_mention",
        "assistant_app_thread",
    }
    | {
        f"{prefix}_{event}"
        for prefix in ("channel", "group")
        for event in ("join", "leave", "topic", "purpose", "name", "archive", "unarchive")
    }
)


def _day_may_overlap(name: str, since: datetime | None, until: datetime | None) -> bool:
    match = _DAY_FILE.match(name)
    if match is None:  # pragma: no cover - the index only holds day files
        return True
    try:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return True
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if since is not None and start + timedelta(days=3) < since:
        return False
    return not (until is not None and start - timedelta(days=2) >= until)


_at = attrgetter("at")


def in_window(at: datetime, since: datetime | None, until: datetime | None) -> bool:
    """Whether `at` falls in the window: `since` <= at < `until` (None: unbounded)."""
    return (since is None or at >= since) and (until is None or at < until)


def open_export(path: Path, *, limits: ExportLimits = ExportLimits()) -> SlackExport:
    """Open a Slack export zip or unpacked folder (use as a context manager)."""
    path = Path(path)
    if path.is_dir():
        return SlackExport(_DirSource(path, limits), limits)
    if not path.is_file():
        raise ImportFailed("no such export file or folder", where=str(path))
    return SlackExport(_ZipSource(path, limits), limits)
