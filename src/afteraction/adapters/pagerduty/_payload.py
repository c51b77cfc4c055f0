"""Reading saved PagerDuty JSON and the small helpers every PagerDuty parser shares:
size-capped file reads, decoding, unwrapping a response body to its list, time fields and
user references. No parsing of any one entity lives here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from afteraction.core.errors import ImportFailed

PERSON_PREFIX = "pagerduty:"

JsonInput = Any
"""Decoded JSON (dict or list), JSON text or bytes, or a Path to a saved response."""

MAX_JSON_BYTES = 64 * 1024 * 1024
"""Default cap on one JSON file read whole (the importers pass the configured one)."""


def read_limited(path: Path, max_bytes: int = MAX_JSON_BYTES) -> bytes:
    """A file's bytes, refusing it with a clear error once it passes `max_bytes` — checked
    before reading, and again while reading (a pipe or device has no size; a file may grow),
    so at most `max_bytes + 1` bytes are ever held."""
    try:
        with path.open("rb") as stream:
            size = path.stat().st_size
            if size > max_bytes:
                raise ImportFailed(_too_large(size, max_bytes), where=path.name)
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        raise ImportFailed(f"cannot read file ({exc.strerror})", where=path.name) from exc
    if len(data) > max_bytes:
        raise ImportFailed(_too_large(None, max_bytes), where=path.name)
    return data


def _too_large(size: int | None, limit: int) -> str:
    found = f"{size:,} bytes" if size is not None else "more than that"
    return (
        f"file is too large to read whole: {found}; the limit is {limit:,} bytes "
        "(AFTERACTION_MAX_JSON_FILE_BYTES)"
    )


def load_json(data: JsonInput, *, source: str) -> tuple[Any, str]:
    """Decode `data` if it is text, bytes or a path; return (value, source name)."""
    if isinstance(data, Path):
        source = data.name
        data = read_limited(data)
    if isinstance(data, str | bytes | bytearray | memoryview):
        try:
            return orjson.loads(data), source
        except orjson.JSONDecodeError as exc:
            where = f"{source}: line {exc.lineno} column {exc.colno}"
            raise ImportFailed(f"not valid JSON ({exc.msg})", where=where) from exc
    return data, source


def unwrap_list(data: JsonInput, key: str, *, source: str | None = None) -> tuple[list[Any], str]:
    """Return the list under `key` from a response body, a single entity, or a bare list."""
    value, src = load_json(data, source=source or f"{key}.json")
    if isinstance(value, list):
        return value, src
    if isinstance(value, dict):
        if key in value:
            items = value[key]
            if not isinstance(items, list):
                raise ImportFailed(f"{key!r} is not a list", where=src)
            return items, src
        singular = key[:-3] + "y" if key.endswith("ies") else key.removesuffix("s")
        if isinstance(value.get(singular), dict):
            return [value[singular]], src
        if key == "log_entries" and isinstance(value.get("messages"), list):
            return _v2_webhook_log_entries(value["messages"], src), src
    raise ImportFailed(
        f"expected a list or an object with {key!r}, got {_type_name(value)}", where=src
    )


def _v2_webhook_log_entries(messages: list[Any], src: str) -> list[Any]:
    entries: list[Any] = []
    for index, message in enumerate(messages, start=1):
        if not isinstance(message, dict) or not isinstance(message.get("log_entries"), list):
            raise ImportFailed(
                "webhook message without log_entries", where=f"{src}: message {index}"
            )
        entries.extend(message["log_entries"])
    return entries


_TYPE_NAMES = {"dict": "an object", "list": "a list", "str": "a string"}


def _type_name(value: Any) -> str:
    name = type(value).__name__
    return _TYPE_NAMES.get(name, name)


def _obj(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty dict."""
    return value if isinstance(value, dict) else {}


def parse_time(value: Any, *, where: str, field_name: str) -> datetime:
    """Parse an ISO 8601 timestamp that carries an offset (`Z` or `±hh:mm`)."""
    if not isinstance(value, str):
        raise ImportFailed(f"{field_name} missing or not a string", where=where)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ImportFailed(f"{field_name} {value!r} is not an ISO 8601 time", where=where) from exc
    if parsed.tzinfo is None:
        raise ImportFailed(f"{field_name} {value!r} has no time zone offset", where=where)
    return parsed


def _optional_time(value: Any, *, where: str, field_name: str) -> datetime | None:
    return None if value is None else parse_time(value, where=where, field_name=field_name)


def _ref_id(ref: Any) -> str | None:
    return ref.get("id") if isinstance(ref, dict) and isinstance(ref.get("id"), str) else None


def _ref_summary(ref: Any) -> str | None:
    if isinstance(ref, dict):
        return ref.get("summary") or ref.get("name") or None
    return None


def user_key(ref: Any) -> str | None:
    """ "pagerduty:<id>" for a user reference (not bots, services or integrations)."""
    if not isinstance(ref, dict) or ref.get("type") not in ("user_reference", "user"):
        return None
    ident = _ref_id(ref)
    return PERSON_PREFIX + ident if ident else None


def _require_object(item: Any, where: str, keys: Iterable[str]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ImportFailed(f"expected an object, got {_type_name(item)}", where=where)
    for key in keys:
        if not isinstance(item.get(key), str) or not item[key]:
            raise ImportFailed(f"missing {key!r}", where=where)
    return item
