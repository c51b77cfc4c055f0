"""The one Slack message parser: a message dict (from an export's day file or the Web API) to
the one message record, `ParsedMessage` (`core.slack_record`), with warnings for what it
skipped (`WarningLog`). It is the only code that reads a Slack message item: the export
import (in process or in parser processes), the live history fetch and the preview all
call it, and the message sinks (`storage.message_sinks`) store what it makes.

Speed: `parse_day` reads the usual message (a person's text, no subtype or edit;
`usual_message` checks it) without building its `where` text or a datetime: its time is
the `ts` digits as whole microseconds. Formats: formats.md §1. No I/O here:
`slack_export` reads the files, `slack_api` calls Slack."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from afteraction.adapters.mrkdwn import (
    BLOCK_TARGETS,
    ControlSequence,
    DecodedText,
    blocks_decoded,
    decode,
    decode_parts,
    escape_mrkdwn,
    walk_blocks,
)
from afteraction.adapters.slack_records import (
    _EARLIEST,
    _TS,
    KNOWN_SUBTYPES,
    ImportWarning,
    ParsedMessage,
    SlackReaction,
    _dict,
    _int,
    _list,
    _opt_int,
    _opt_str,
    _str,
    _strings,
    redact_tokens,
    ts_to_datetime,
)
from afteraction.core.slack_record import datetime_to_micros

# The latest time a record may hold when the parser is given none: `at` stays a datetime.
_LAST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)

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
    # the bounds as whole microseconds since 1970, and the control sequences decoded so far
    # (see `decode_parts`)
    _first: int = field(init=False, repr=False)
    _last: int = field(init=False, repr=False)
    _sequences: dict[str, ControlSequence] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._first = datetime_to_micros(self.earliest)
        self._last = datetime_to_micros(self.latest or _LAST)
        self._sequences = {}

    def parse_ts(self, value: object, where: str) -> tuple[str, int] | None:
        """(ts, whole microseconds since 1970) of a plausible ts, else None with a warning."""
        if type(value) is str and (match := _TS.match(value)) is not None:  # the usual case
            seconds, micros = match.groups()
            moment = int(seconds) * 1_000_000 + (int(micros.ljust(6, "0")) if micros else 0)
            if self._first <= moment <= self._last:
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
        at = int(match.group(1)) * 1_000_000 + (int(micros.ljust(6, "0")) if micros else 0)
        if not self._first <= at <= self._last:
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
        if attachments_text:  # bots put everything there: it is part of what the post says
            text = f"{text}\n{attachments_text}" if text else attachments_text
        decoded = decode(text, self.users, self.channels)
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
        message (a user's text, no subtype, no edit) is checked here and read by `_usual`
        without building its `where` text; every other item goes through `parse`.
        tests/adapters/test_slack_export.py holds both paths to the same output.
        """
        found: list[ParsedMessage] = []
        seen: set[str] = set()
        first, last = self._first, self._last
        for number, item in enumerate(items, start=1):
            message: ParsedMessage | None = None
            usual = usual_message(item, blocks=True)
            if usual is not None:
                ts, text, user, seconds, micros = usual
                at = int(seconds) * 1_000_000 + int(micros)
                if first <= at <= last:
                    # text and user are strings, no edit; `where` is made only if a
                    # reaction needs it
                    message = self._usual(
                        item, channel_id, channel_name, ts, at, user, text, None, (rel, number)
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

    def _plain(
        self,
        raw: Mapping[str, Any],
        channel_id: str,
        channel_name: str,
        ts: str,
        at: int,
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
            edit = None
        else:
            edited = _dict(edited)
            edited_by, edited_ts = _str(edited.get("user")), _str(edited.get("ts"))
            edit = edited_by, edited_ts, self._edited_at(edited_ts, where)
        return self._usual(raw, channel_id, channel_name, ts, at, user_id, text, edit, where)

    def _usual(
        self,
        raw: Mapping[str, Any],
        channel_id: str,
        channel_name: str,
        ts: str,
        at: int,
        user_id: str | None,
        text: str,
        edit: tuple[str | None, str | None, datetime | None] | None,
        where: str | tuple[str, int],
    ) -> ParsedMessage:
        """The record of a message with only `_PLAIN_KEYS` once its text (tokens
        redacted), user and edit (by, ts, time) are read; `where` may be (day file,
        number), made into text only for a reaction's warning. Control sequences are
        decoded through the parser's memo."""
        if "xox" in text:
            text = redact_tokens(text)
        if "<" in text or "&" in text:
            plain, mentions, channels, broadcasts, _, links = decode_parts(
                text, self.users, self.channels, self._sequences
            )
            if links:
                links = tuple(redact_tokens(u) for u in links)
        else:
            plain, mentions, channels, broadcasts, links = text, (), (), (), ()
        get = raw.get
        blocks = get("blocks")
        if blocks:  # the blocks' exact mentions join the text's
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
        if reactions is not None:
            if not isinstance(where, str):
                where = f"{where[0]}: message {where[1]}"
            reactions = self._reactions(reactions, where)
        edited_by, edited_ts, edited_at = edit or (None, None, None)
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
            reactions or (),
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
    """What a post's legacy attachments say (Alertmanager, Grafana, PagerDuty bots put
    everything there): each one's pretext, title, text and fields ("title: value"), or its
    fallback when it has none of them; one line each, as mrkdwn."""
    if "attachments" not in body:
        return ""
    lines: list[str] = []
    for item in _list(body.get("attachments")):
        attachment = _dict(item)
        parts = [_str(attachment.get(k)) for k in ("pretext", "title", "text")]
        for entry in _list(attachment.get("fields")):
            pair = _dict(entry)
            title, value = _str(pair.get("title")), _str(pair.get("value"))
            if value:
                parts.append(f"{title}: {value}" if title else value)
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
