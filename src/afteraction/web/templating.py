"""Jinja2 environment for pages: filters for times, durations and safe text, and the
globals every page needs (CSRF token, current user, version).

Autoescaping is on; user- or chat-derived HTML is only ever inserted after nh3 sanitising.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from afteraction import __version__
from afteraction.adapters.markdown import render_markdown
from afteraction.core import times
from afteraction.core.incidents import format_duration
from afteraction.web.csrf import csrf_token


def format_time(value: datetime | None, fmt: str = times.DISPLAY_FORMAT) -> str:
    """The `time` filter: `core.times.display` (UTC; "—" when unknown)."""
    return times.display(value, fmt=fmt)


def duration_between(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "—"
    return format_duration(end - start)


def build(directory: Path) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(directory))
    env = templates.env
    env.filters["markdown"] = render_markdown
    env.filters["time"] = format_time
    env.filters["iso"] = times.iso_utc
    env.filters["local_input"] = times.local_input
    env.filters["in_zone"] = times.in_zone
    env.globals["duration_between"] = duration_between
    env.globals["version"] = __version__
    env.trim_blocks = True
    env.lstrip_blocks = True
    return templates


def render(
    request: Any,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    user: Any = None,
    status_code: int = 200,
) -> Response:
    """Render page `name` with the common globals (current user, CSRF token) added."""
    values = dict(context or {})
    values.setdefault("user", user)
    values.setdefault("csrf_token", csrf_token(request))
    if "notice" not in values and "session" in request.scope:
        values["notice"] = request.session.pop("notice", None)
    templates: Jinja2Templates = request.app.state.templates
    response: Response = templates.TemplateResponse(request, name, values, status_code=status_code)
    return response
