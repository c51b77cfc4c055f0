"""Login and logout pages. Anonymous users see nothing but the login page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from afteraction.storage import users
from afteraction.storage.db import writing
from afteraction.web.deps import DbSession, OptionalUser, csrf_token
from afteraction.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else goes to the incident list."""
    if not target:
        return "/incidents"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/incidents"
    return target


@router.get("/login")
def login_page(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request,
    db: DbSession,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    csrf: Annotated[str, Form(alias="csrf_token")] = "",
    next: Annotated[str, Form()] = "/incidents",
) -> Response:
    if not csrf or csrf != request.session.get("csrf"):
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "error": "Your session expired; please try again."},
            status_code=400,
        )
    with writing(db):
        user = users.authenticate(db, email, password)
        user_id = user.id if user else None
    if user_id is None:
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "email": email, "error": "Wrong email or password."},
            status_code=401,
        )
    request.session.clear()
    request.session["user_id"] = user_id
    csrf_token(request)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
