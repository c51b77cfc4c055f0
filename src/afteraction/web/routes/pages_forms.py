"""Helpers shared by the page routers: rendering a page-context dataclass, one-shot notices
after redirect-after-post (`write_then_back` runs one write and redirects with its notice or
its refusal), and reading HTML form fields so that bad input becomes a
`ValidationError` naming the field (never a 500).

Times typed into `<input type="datetime-local">` are naive; they become aware datetimes with
the time zone chosen beside them (`Form.zone`), parsed by `core.times`. No routes and no
queries live here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, tzinfo
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from afteraction.core import times
from afteraction.core.access import Actor, require_write
from afteraction.core.errors import AfteractionError, Conflict, PermissionDenied, ValidationError
from afteraction.core.incidents import format_public_id
from afteraction.services import users
from afteraction.storage.db import writing
from afteraction.storage.tables import User
from afteraction.web.schemas.common import ROW_ID_MAX
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


def incident_url(number: int, tail: str = "") -> str:
    """`/incidents/INC-<number><tail>`."""
    return f"/incidents/{format_public_id(number)}{tail}"


def write_then_back(
    request: Request,
    db: Session,
    user: User,
    back: str,
    write: Callable[[Actor], str],
    raise_as_is: tuple[type[AfteractionError], ...] = (),
) -> Response:
    """Run `write(actor)` in one transaction, then redirect to `back` with the notice it
    returns, or with the reason it was refused (a `ValidationError` or `Conflict`).
    Errors of the `raise_as_is` types go up to the caller, which shows its own page."""
    try:
        with writing_as(db, user):
            notice = write(users.actor_for(user))
    except raise_as_is:
        raise
    except (ValidationError, Conflict) as error:
        return see_other(request, back, f"Not saved: {error.message}")
    return see_other(request, back, notice)


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
        if abs(int(value)) > ROW_ID_MAX:
            raise ValidationError(f"{name} must be at most {ROW_ID_MAX}, not {value}", field=name)
        return int(value)

    def day(self, name: str) -> date | None:
        return times.parse_date(self.text(name, limit=20), name)

    def zone(self, name: str = "time_zone") -> tzinfo | None:
        """The time zone chosen beside a form's `datetime-local` inputs; None when the form
        has no such field, so a time without an offset is refused rather than guessed."""
        if name not in self.data:
            return None
        return times.parse_zone(self.text(name, limit=64), name)

    def moment(self, name: str, zone: tzinfo | None) -> datetime | None:
        """A datetime-local value in `zone`; an explicit offset in the value wins, and
        without a zone the value must carry one (`core.times.parse_time`)."""
        return times.parse_time(self.text(name, limit=40), name, zone=zone)


def query_list(params: Mapping[str, Any], name: str) -> list[str]:
    getter = getattr(params, "getlist", None)
    values = getter(name) if getter else [params.get(name)]
    return [str(v).strip() for v in values if v is not None and str(v).strip()]
