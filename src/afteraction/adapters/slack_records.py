"""The plain records a Slack export or the Web API yields (users, channels, integration log
entries; the message record itself, `ParsedMessage`, is `core.slack_record`'s and is
named here for the adapters' users), the export's safety limits, and the small coercions of
Slack's loosely typed JSON (ts to datetime and back, tokens redacted, ints and strings
checked), decoding a member's JSON with its errors placed, and the message subtypes Slack
is known to write. Formats: formats.md §1. No I/O here."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from afteraction.core.errors import ImportFailed, ValidationError
from afteraction.core.evidence import PersonRecord
from afteraction.core.slack_record import ParsedMessage as ParsedMessage  # the one record
from afteraction.core.slack_record import SlackReaction as SlackReaction

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
