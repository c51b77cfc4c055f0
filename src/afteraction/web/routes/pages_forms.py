"""Helpers shared by the page routers: rendering a page-context dataclass, one-shot notices
after redirect-after-post, and reading HTML form fields so that bad input becomes a
`ValidationError` naming the field (never a 500).

Times typed into `<input type="datetime-local">` are naive; they become aware datetimes with
the time zone chosen beside them (UTC by default). No routes and no queries live here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from afteraction.core.access import Actor, require_write
from afteraction.core.errors import AfteractionError, PermissionDenied, ValidationError
from afteraction.storage.db import writing
from afteraction.storage.tables import User
from afteraction.web.templating import render

TIME_ZONES: tuple[str, ...] = (
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Helsinki",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)
OFFSET_RE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"
MAX_FIELD = 20_000
# storage names a field by its singular; forms use the plural input name
FIELD_ALIASES = {"service": "services", "team": "teams", "tag": "tags", "incident": "incident"}


@contextmanager
def writing_as(db: Session, user: User) -> Iterator[Session]:
    """`writing(db)` that keeps the current user readable after a rollback, because error
    pages (404, 403) render after the request's session has closed."""
    try:
        with writing(db):
            yield db
    except Exception:
        db.refresh(user)
        raise


def can_write(actor: Actor) -> bool:
    """Whether the actor may change incidents (viewers may not): decides which forms show."""
    try:
        require_write(actor)
    except PermissionDenied:
        return False
    return True


def render_page(
    request: Request, template: str, page: object, *, user: Any, status_code: int = 200
) -> Response:
    """Render `template` with the page dataclass as `page` and any one-shot notice."""
    notice = request.session.pop("notice", None)
    context = {"page": page, "notice": notice}
    return render(request, template, context, user=user, status_code=status_code)


def see_other(request: Request, url: str, notice: str | None = None) -> Response:
    """Redirect-after-post (303), leaving a short notice for the next page."""
    if notice:
        request.session["notice"] = notice[:300]
    return RedirectResponse(url, status_code=303)


def errors_of(error: AfteractionError) -> dict[str, str]:
    """{form field: message} for a domain error; unplaced messages go under `_form`."""
    field = error.details.get("field")
    name = FIELD_ALIASES.get(str(field), str(field)) if field else "_form"
    return {name: error.message}


class Form:
    """Typed access to submitted form fields; every problem names the field it came from."""

    def __init__(self, data: FormData) -> None:
        self.data = data

    def raw(self) -> dict[str, Any]:
        """The submitted values (lists for repeated names), to re-fill a form after an error."""
        values: dict[str, Any] = {}
        for key in self.data:
            items = [v for v in self.data.getlist(key) if isinstance(v, str)]
            values[key] = items if len(items) > 1 else (items[0] if items else "")
        return values

    def text(self, name: str, *, limit: int = MAX_FIELD, required: bool = False) -> str:
        value = self.data.get(name, "")
        if not isinstance(value, str):
            raise ValidationError(f"{name} must be text", field=name)
        value = value.strip()
        if len(value) > limit:
            raise ValidationError(
                f"{name} is {len(value)} characters; the limit is {limit}", field=name
            )
        if required and not value:
            raise ValidationError(f"{name} is required", field=name)
        return value

    def flag(self, name: str) -> bool:
        return self.data.get(name) in ("on", "true", "1", "yes")

    def many(self, name: str, *, limit: int = 100) -> list[str]:
        values = [v.strip() for v in self.data.getlist(name) if isinstance(v, str) and v.strip()]
        if len(values) > limit:
            raise ValidationError(f"choose at most {limit} {name}", field=name)
        return values

    def csv(self, name: str) -> list[str]:
        """A comma-separated text field as a list (used for tags)."""
        return [part.strip() for part in self.text(name, limit=2_000).split(",") if part.strip()]

    def integer(self, name: str) -> int | None:
        value = self.text(name, limit=20)
        if not value:
            return None
        if not re.fullmatch(r"-?\d{1,12}", value):
            raise ValidationError(f"{name} must be a whole number, not {value!r}", field=name)
        return int(value)

    def day(self, name: str) -> date | None:
        return parse_day(self.text(name, limit=20), name)

    def moment(self, name: str, zone: tzinfo) -> datetime | None:
        """A datetime-local value in `zone`; an explicit offset in the value wins."""
        return parse_local(self.text(name, limit=40), zone, name)


def parse_zone(value: str, field: str = "time_zone") -> tzinfo:
    """'UTC', an IANA name such as 'Europe/Paris', or a fixed offset such as '+05:30'."""
    value = (value or "UTC").strip()
    if value.upper() in ("UTC", "Z", "GMT"):
        return UTC
    match = OFFSET_RE.match(value)
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        if delta >= timedelta(hours=24):
            raise ValidationError(f"time zone offset {value!r} is out of range", field=field)
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            f"unknown time zone {value!r}; use UTC, a name like Europe/Paris or an offset "
            "like +05:30",
            field=field,
        ) from error


def parse_day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise ValidationError(
            f"{field} must be a date like 2026-01-31, not {value!r}", field=field
        ) from error


def parse_local(value: str, zone: tzinfo, field: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise ValidationError(
            f"{field} must be a date and time like 2026-01-31T14:05, not {value!r}", field=field
        ) from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def local_input(value: datetime | None) -> str:
    """A stored (UTC) time as a datetime-local input value in UTC."""
    return value.astimezone(UTC).strftime(LOCAL_INPUT_FORMAT) if value else ""


def day_range(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Dates → [start 00:00 UTC, day after end 00:00 UTC): the end date is inclusive."""
    low = datetime.combine(start, datetime.min.time(), tzinfo=UTC) if start else None
    high = (
        datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC) if end else None
    )
    return low, high


def query_list(params: Mapping[str, Any], name: str) -> list[str]:
    getter = getattr(params, "getlist", None)
    values = getter(name) if getter else [params.get(name)]
    return [str(v).strip() for v in values if v is not None and str(v).strip()]
