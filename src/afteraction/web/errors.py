"""Map exceptions to responses with one MRO lookup: JSON under `/api`, `error.html` elsewhere.

Every API error has the shape `{"error": {"code", "message", "details"}}`; bad input is a
4xx that names the field, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import inspect
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from afteraction.core.errors import (
    AfteractionError,
    Conflict,
    ImportFailed,
    NotFound,
    PermissionDenied,
    Throttled,
    TooLarge,
    Unavailable,
    ValidationError,
)
from afteraction.storage.db import explain
from afteraction.web.schemas.common import USER_TIME_ERROR
from afteraction.web.templating import render

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[AfteractionError], int] = {
    NotFound: 404,
    PermissionDenied: 403,
    TooLarge: 413,
    ValidationError: 422,
    Conflict: 409,
    ImportFailed: 422,
    Unavailable: 503,
    Throttled: 429,
    AfteractionError: 400,
}


class LoginRequired(Exception):
    """Raised by dependencies when no valid session or token accompanies a request."""


class PasswordChangeRequired(Exception):
    """An admin reset this user's password: pages send them to choose a new one first."""


def status_for(error: AfteractionError) -> int:
    for klass in type(error).__mro__:
        if klass in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[klass]
    return 400


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _page_user(request: Request) -> Any:
    """The signed-in user for the error page's header, or None when the failed write's
    rollback expired the row after its session closed (reading it then would be a 500)."""
    user = getattr(request.state, "user", None)
    if user is None:
        return None
    state = inspect(user, raiseerr=False)
    if state is not None and state.detached and state.expired_attributes:
        return None
    return user


def _render(request: Request, status: int, code: str, message: str, details: Any) -> Response:
    if is_api(request):
        return JSONResponse(error_body(code, message, details), status_code=status)
    return render(
        request,
        "error.html",
        {"status": status, "code": code, "message": message, "details": details or {}},
        user=_page_user(request),
        status_code=status,
    )


async def _domain(request: Request, error: Exception) -> Response:
    assert isinstance(error, AfteractionError)
    if isinstance(error, Unavailable):  # its message names a server path: the log has it
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, error)
        return _render(request, 503, error.code, "the database cannot be used now", {})
    response = _render(request, status_for(error), error.code, error.message, error.details)
    if isinstance(error, Throttled):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


WHERE = ("body", "query", "path")
"""Where a request value came from: not part of the field's name in an error."""


async def _validation(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems, named = [], []
    for item in error.errors():
        location = [
            str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")
        ]
        problems.append({"field": ".".join(location) or None, "message": item.get("msg", "")})
        named.append(item.get("type") == USER_TIME_ERROR)  # says its field already
    first = problems[0] if problems else {"field": None, "message": "invalid input"}
    message = str(first["message"])
    if first["field"] and not (named and named[0]):
        message = f"{first['field']}: {message}"
    return _render(
        request, 422, "validation_error", message, {"field": first["field"], "problems": problems}
    )


async def _http(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
        error.status_code, "http_error"
    )
    response = _render(request, error.status_code, str(code), str(error.detail), {})
    if error.headers:
        response.headers.update(error.headers)
    return response


async def _login_required(request: Request, _error: Exception) -> Response:
    if is_api(request):
        return JSONResponse(
            error_body("unauthorized", "log in or send 'Authorization: Bearer <token>'"),
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


async def _password_change(request: Request, _error: Exception) -> Response:
    message = "an admin reset your password; choose a new one on your account page first"
    if is_api(request):
        return JSONResponse(error_body("password_change_required", message), status_code=403)
    return RedirectResponse("/account#password", status_code=303)


async def _integrity(request: Request, error: Exception) -> Response:
    # the driver's text names tables and constraints: it goes to the log, not the response
    log.warning("integrity error on %s %s: %s", request.method, request.url.path, error)
    return _render(request, 409, "conflict", "that would duplicate or orphan a record", {})


async def _database(request: Request, error: Exception) -> Response:
    """A database the server cannot use now (locked, read-only, disk full, server down):
    503 with what an operator can do. Any other database error is a bug: a plain 500,
    with the driver's text in the log only."""
    settings = request.app.state.settings
    explained = explain(error, settings.database_url)
    log.error("database error on %s %s: %s", request.method, request.url.path, error)
    if explained is None:
        return _render(request, 500, "internal_error", "the server could not finish this", {})
    return _render(request, 503, explained.code, "the database cannot be used now", {})


async def _out_of_range(request: Request, error: Exception) -> Response:
    """A value no column can hold that got past the request models (a number past the
    driver's integer range, text too long for PostgreSQL or holding a NUL character): bad
    input, not a server fault.
    The shared id and body types refuse these naming the field; this is the net below."""
    log.warning("value out of range on %s %s: %s", request.method, request.url.path, error)
    message = "a value in this request cannot be stored: out of range, too long or holding NUL"
    return _render(request, 422, "validation_error", message, {"field": None, "problems": []})


def install(app: FastAPI) -> None:
    app.add_exception_handler(AfteractionError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(PasswordChangeRequired, _password_change)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(DataError, _out_of_range)
    app.add_exception_handler(OverflowError, _out_of_range)
