"""The session's CSRF token: created on first use and kept in the signed session cookie.

Pages put it in every form (`templating.render`); `deps` checks it on every write made with a
session. Nothing else lives here.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)
