"""The one parser of user-given times and the one formatter for showing them.

Every time a person types (CLI options, API bodies, form fields, import options, dashboard
filters) goes through `parse_time`, `parse_date` or `parse_bound`: aware only, so a naive
value is refused with the same `ValidationError` everywhere, naming the field, saying a time
zone is needed and giving an example. A form that lets the person choose a zone beside a
`datetime-local` input passes that zone explicitly (`zone=`); nothing is ever assumed.
Parsed times come back in UTC, the zone everything is stored in.

Showing a time: `iso_utc` (machine-readable, `2026-05-01T10:00:00+00:00`), `display`
(`2026-05-01 10:00 UTC`, the pages' form), and `local_input` (the value of a
`datetime-local` input, in UTC). They take stored times, which are UTC and come back naive
from SQLite (`from_storage`).

Times read from imported files (Slack `ts`, PagerDuty payloads, transcripts) are parsed by
their adapters, which report problems as `ImportFailed` with the place in the file; they
are not user input and do not belong here. Pure: standard library only.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from afteraction.core.errors import ValidationError

EXAMPLE = "2026-05-01T10:00:00Z"
"""The example every time error gives."""
DATE_EXAMPLE = "2026-01-31"
DISPLAY_FORMAT = "%Y-%m-%d %H:%M UTC"
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_UTC_NAMES = ("UTC", "Z", "GMT")


def naive_message(field: str) -> str:
    """The message of every refusal of a time without a zone."""
    return f"{field} needs a time zone offset: add Z or one such as +02:00, for example {EXAMPLE}"


def require_aware(value: datetime, field: str) -> datetime:
    """`value` if it carries a time zone, else the one naive-time `ValidationError`."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(naive_message(field), field=field)
    return value


def as_utc(value: datetime | None, field: str) -> datetime | None:
    """An aware datetime (or None) converted to UTC; a naive one is refused."""
    return None if value is None else require_aware(value, field).astimezone(UTC)


def parse_time(value: str | None, field: str, *, zone: tzinfo | None = None) -> datetime | None:
    """An ISO 8601 date and time typed by a person, in UTC; None for an empty value.

    The value must carry its zone (`Z`, `z` or an offset such as `+02:00`) unless `zone`
    is given: that is the zone a form chose beside a `datetime-local` input, and an offset
    written in the value still wins over it.
    """
    text = (value or "").strip()
    if not text:
        return None
    parsed = _read(text)
    if parsed is None:
        raise ValidationError(
            f"{field} must be an ISO 8601 date and time like {EXAMPLE}, not {value!r}",
            field=field,
        )
    if parsed.tzinfo is None and zone is not None:
        parsed = parsed.replace(tzinfo=zone)
    return require_aware(parsed, field).astimezone(UTC)


def parse_date(value: str | None, field: str) -> date | None:
    """A calendar date (`2026-01-31`); None for an empty value."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{field} must be a date like {DATE_EXAMPLE}, not {value!r}", field=field
        ) from None


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of `day`."""
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def day_range(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Dates → [start 00:00 UTC, the day after end 00:00 UTC): the end date is inclusive."""
    low = day_start(start) if start else None
    high = day_start(end + timedelta(days=1)) if end else None
    return low, high


def parse_bound(value: str | None, field: str, *, end: bool) -> datetime | None:
    """One end of a period: a date `2026-01-31` (a whole day, so an end date is inclusive)
    or an aware date and time; None for an empty value."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) == len(DATE_EXAMPLE):
        day = parse_date(text, field)
        return day_range(None, day)[1] if end else day_range(day, None)[0]
    parsed = _read(text)
    if parsed is None:
        raise ValidationError(
            f"{field} must be a date like {DATE_EXAMPLE} or a date and time like {EXAMPLE}, "
            f"not {value!r}",
            field=field,
        )
    return require_aware(parsed, field).astimezone(UTC)


def _read(text: str) -> datetime | None:
    """ISO 8601 as Python reads it, with a lower-case `z` taken as `Z`; None if unreadable."""
    if text[-1] == "z":
        text = text[:-1] + "Z"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_zone(value: str | None, field: str = "time_zone") -> tzinfo:
    """'UTC' (the default for an empty value), an IANA name such as 'Europe/Paris', or a
    fixed offset such as '+05:30'."""
    text = (value or "UTC").strip()
    if text.upper() in _UTC_NAMES:
        return UTC
    match = _OFFSET.match(text)
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        if delta >= timedelta(hours=24):
            raise ValidationError(f"time zone offset {text!r} is out of range", field=field)
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"unknown time zone {text!r}; use UTC, a name like Europe/Paris or an offset "
            "like +05:30",
            field=field,
        ) from None


# -- showing times -----------------------------------------------------------------------------


def iso_utc(value: datetime | None) -> str | None:
    """The machine-readable form: ISO 8601 in UTC (`2026-05-01T10:00:00+00:00`)."""
    return None if value is None else from_storage(value).isoformat()


def display(value: datetime | None, missing: str = "—", fmt: str = DISPLAY_FORMAT) -> str:
    """The form pages and reports show: `2026-05-01 10:00 UTC`; `missing` for None."""
    return missing if value is None else from_storage(value).strftime(fmt)


def local_input(value: datetime | None) -> str:
    """A time as the value of a `datetime-local` input, in UTC; empty for None."""
    return "" if value is None else from_storage(value).strftime(LOCAL_INPUT_FORMAT)


@overload
def from_storage(value: datetime) -> datetime: ...
@overload
def from_storage(value: None) -> None: ...
@overload
def from_storage(value: datetime | None) -> datetime | None: ...
def from_storage(value: datetime | None) -> datetime | None:
    """A time read back from the database, in UTC: everything is stored in UTC, and SQLite
    hands it back naive. Never use this on input: `parse_time` and `as_utc` refuse naive."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ZONE_ABBREVIATIONS: dict[str, float] = {
    "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3,
    "EST": -5, "EDT": -4, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10, "SGT": 8, "HKT": 8, "JST": 9, "KST": 9,
    "AWST": 8, "ACST": 9.5, "ACDT": 10.5, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
}  # fmt: skip
"""Zone abbreviations people write after a time, as the fixed UTC offset (hours) each one
names. Ambiguous ones (IST: India, Ireland or Israel; CST: US Central or China) are left
out on purpose: a time written with one of them cannot be placed."""
AMBIGUOUS_ZONES = frozenset({"IST", "CST", "AST", "GST"})
_UTC_OFFSET = re.compile(r"^(?:UTC|GMT)([+-])(\d{1,2})(?::?(\d{2}))?$")


def zone_word(word: str) -> tzinfo | None:
    """The zone a word written after a time names: UTC/GMT/Z, an abbreviation such as CEST
    or PDT (`ZONE_ABBREVIATIONS`), `UTC+2`, an offset such as `+05:30`, or an IANA name;
    None when the word names no zone or an ambiguous one (`AMBIGUOUS_ZONES`)."""
    text = word.strip()
    upper = text.upper()
    if upper in AMBIGUOUS_ZONES:
        return None
    if upper in ZONE_ABBREVIATIONS:
        return timezone(timedelta(hours=ZONE_ABBREVIATIONS[upper]), upper)
    match = _UTC_OFFSET.match(upper)
    if match:
        sign, hours, minutes = match.groups()
        text = f"{sign}{int(hours):02d}:{minutes or '00'}"
    if not (upper in _UTC_NAMES or _OFFSET.match(text) or "/" in text):
        return None
    try:
        return parse_zone(text)
    except ValidationError:
        return None


@lru_cache(maxsize=512)
def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The IANA zone called `name` (a person's zone), or None when it is empty or unknown
    (never guessed). Cached: the analyses ask for the same few names per person."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def zone_named(name: str | None) -> tzinfo:
    """The IANA zone `name` (a person's display zone), or UTC when it is empty or unknown."""
    return zone_or_none(name) or UTC


def check_zone_name(name: str | None, field: str = "time_zone") -> str | None:
    """A person's zone as given (an IANA name such as 'Europe/Paris'), None when empty, or
    a ValidationError naming it when no such zone exists."""
    if not name:
        return None
    if zone_or_none(name) is None:
        raise ValidationError(f"unknown time zone {name!r}", field=field)
    return name


def in_zone(value: datetime, zone: tzinfo, fmt: str = "%Y-%m-%d %H:%M:%S %Z") -> str:
    """A stored time shown in `zone` (`2026-05-01 12:00:00 CEST`)."""
    return from_storage(value).astimezone(zone).strftime(fmt)
