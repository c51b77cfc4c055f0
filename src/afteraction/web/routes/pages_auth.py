"""Login and logout pages. Anonymous users see nothing but the login page.

Two ways in, both ending in a server-side session whose secret the signed cookie carries:
email and password (unless `password_login` is off; throttled per account and per client
address, with the same answers whether the account exists or not) and, when an OpenID
Connect provider is configured, single sign-on through `/login/oidc` and its callback (see
`afteraction.web.oidc`). An SSO identity is linked to an account by its issuer and
subject; a signed-in user links one from their account page (`POST /account/sso/link`),
the only way for an account with a password (`services.users.sso_login`). Logging out (a
POST with the CSRF token) ends the session on the server.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import urlparse

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from afteraction.config import Settings
from afteraction.core.errors import Throttled
from afteraction.services import sessions, users
from afteraction.services.users import SsoRefused
from afteraction.storage.db import writing
from afteraction.storage.tables import User
from afteraction.web import oidc
from afteraction.web.csrf import csrf_token
from afteraction.web.deps import (
    SESSION_KEY,
    CurrentUser,
    DbSession,
    OptionalUser,
    SettingsDep,
    check_csrf,
    client_address,
    load_form_csrf,
    now_of,
    session_secret,
    session_user,
)
from afteraction.web.routes.pages_forms import see_other
from afteraction.web.templating import render

try:  # Authlib 1.6+ validates ID tokens with joserfc; earlier releases with authlib.jose
    from joserfc.errors import JoseError
except ImportError:  # pragma: no cover - depends on the installed Authlib
    from authlib.jose.errors import JoseError  # type: ignore[no-redef]

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

NEXT_KEY = "oidc_next"
LINK_KEY = "oidc_link"  # the id of the signed-in user linking SSO to their account


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else goes to the incident list."""
    if not target:
        return "/incidents"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/incidents"
    return target


def _login_page(request: Request, status_code: int = 200, **context: Any) -> Response:
    settings = request.app.state.settings
    values = {
        "next": "/incidents",
        "error": None,
        "sso": settings.oidc.enabled,
        "password_login": settings.password_login,
    } | context
    return render(request, "login.html", values, status_code=status_code)


def _open_session(request: Request, db: Session, user: User) -> str:
    """Open a server-side session for `user` (inside the caller's write transaction)."""
    return sessions.start(
        db,
        user,
        now=now_of(request),
        user_agent=request.headers.get("user-agent", ""),
        client_address=client_address(request),
    )


def _start_session(request: Request, secret: str) -> None:
    """A fresh cookie (new CSRF token too) carrying only the session's secret."""
    request.session.clear()
    request.session[SESSION_KEY] = secret
    csrf_token(request)


@router.get("/login")
def login_page(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next=_safe_next(next))


@router.post("/login")
def login(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    csrf: Annotated[str, Form(alias="csrf_token")] = "",
    next: Annotated[str, Form()] = "/incidents",
) -> Response:
    if not settings.password_login:
        return _login_page(
            request,
            403,
            next=_safe_next(next),
            error="Password login is turned off here; sign in with SSO.",
        )
    if not csrf or csrf != request.session.get("csrf"):
        return _login_page(
            request, 400, next=_safe_next(next), error="Your session expired; please try again."
        )
    try:
        with writing(db):
            user = users.authenticate(
                db, email, password, now=now_of(request), client_address=client_address(request)
            )
            secret = _open_session(request, db, user) if user else None
            must_change = bool(user and user.must_change_password)
    except Throttled as error:
        page = _login_page(
            request, 429, next=_safe_next(next), email=email, error=_sentence(error.message)
        )
        page.headers["Retry-After"] = str(error.retry_after)
        return page
    if secret is None:
        return _login_page(
            request, 401, next=_safe_next(next), email=email, error="Wrong email or password."
        )
    _start_session(request, secret)
    target = "/account#password" if must_change else _safe_next(next)
    return RedirectResponse(target, status_code=303)


def _sso_client(request: Request) -> Any:
    client = oidc.client_for(request)
    if client is None:
        raise HTTPException(404, "single sign-on is not configured")
    return client


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:].rstrip(".") + "."


def _sso_failed(request: Request, status_code: int, message: str) -> Response:
    return _login_page(request, status_code, error=f"SSO sign-in failed: {message}")


@router.get("/login/oidc")
async def oidc_start(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    """Send the browser to the identity provider (state, nonce and PKCE verifier are kept
    in the session cookie until the callback)."""
    response, sent = await _to_provider(request, settings)
    if sent:
        request.session[NEXT_KEY] = _safe_next(next)
    return response


async def _to_provider(request: Request, settings: Settings) -> tuple[Response, bool]:
    """(the redirect to the identity provider, True), or (the login page saying why not,
    False)."""
    client = _sso_client(request)
    try:
        await oidc.check_issuer(client, settings)
        response: Response = await client.authorize_redirect(request, oidc.redirect_uri(settings))
    except SsoRefused as error:
        log.warning("OIDC discovery refused: %s", error.message)
        return _sso_failed(request, 403, _sentence(error.message)), False
    except oidc.DISCOVERY_ERRORS as error:
        log.warning("OIDC discovery at %s failed: %s", settings.oidc.issuer, error)
        return _sso_failed(request, 502, "the identity provider could not be reached."), False
    return response, True


@router.get("/login/oidc/callback")
async def oidc_callback(request: Request, settings: SettingsDep) -> Response:
    """Exchange the code, validate the ID token, then log the matching user in."""
    client = _sso_client(request)
    target = _safe_next(request.session.pop(NEXT_KEY, None))
    link_to = request.session.pop(LINK_KEY, None)  # one attempt only, whatever happens
    try:
        await oidc.check_issuer(client, settings)
        token = await client.authorize_access_token(request)
        identity = oidc.identity_from(token, settings)
    except SsoRefused as error:
        log.info("SSO sign-in refused: %s", error.message)
        return _sso_failed(request, 403, _sentence(error.message))
    except MismatchingStateError:
        return _sso_failed(
            request,
            400,
            "the sign-in attempt expired or was started in another browser; please try again.",
        )
    except OAuthError as error:
        log.warning("OIDC provider returned an error: %s %s", error.error, error.description)
        detail = error.description or error.error or "unknown error"
        return _sso_failed(request, 400, f"the identity provider refused ({detail}).")
    except oidc.HTTP_ERRORS as error:
        log.warning("OIDC provider unreachable or failing: %s", error)
        return _sso_failed(request, 502, "the identity provider could not be reached.")
    except (JoseError, AuthlibBaseError, ValueError, KeyError, TypeError, RuntimeError) as error:
        log.warning("OIDC ID token rejected: %r", error)
        return _sso_failed(request, 400, "the identity provider's answer could not be verified.")
    try:
        secret = await run_in_threadpool(_sso_user, request, identity, link_to)
    except SsoRefused as error:
        log.info("SSO sign-in refused: %s", error.message)
        return _sso_failed(request, 403, _sentence(error.message))
    if secret is None:  # linked to the signed-in account, whose session goes on
        return see_other(request, "/account", "Single sign-on is linked to your account")
    _start_session(request, secret)
    return RedirectResponse(target, status_code=303)


def _sso_user(request: Request, identity: oidc.Identity, link_to: object) -> str | None:
    """Log the identity's user in and return the new session's secret; or, when the
    signed-in user asked to link it (`link_to`, their id), link it and return None."""
    settings = request.app.state.settings
    with request.app.state.session_factory() as db:
        if link_to is not None:
            current = session_user(request, db)
            if current is None or current.id != link_to:
                raise SsoRefused("sign in again before linking single sign-on to your account")
        with writing(db):
            user = users.sso_login(
                db,
                email=identity.email,
                email_verified=identity.email_verified,
                name=identity.name,
                issuer=identity.issuer,
                subject=identity.subject,
                default_role=settings.oidc.default_role.strip() or None,
                password_login=settings.password_login,
                link_to=link_to if isinstance(link_to, int) else None,
            )
            return None if link_to is not None else _open_session(request, db, user)


@router.post("/account/sso/link")
async def sso_link(request: Request, user: CurrentUser, settings: SettingsDep) -> Response:
    """Link the provider's identity to the signed-in account (the way for an account with
    a password: an email never takes one over). Needs the CSRF token; the callback checks
    that the same user is still signed in."""
    response, sent = await _to_provider(request, settings)
    if sent:
        request.session[LINK_KEY] = user.id
        request.session[NEXT_KEY] = "/account"
    return response


@router.post("/logout")
def logout(
    request: Request, db: DbSession, _form: Annotated[None, Depends(load_form_csrf)]
) -> Response:
    """End the session on the server (a copied cookie stops working), then the cookie.
    Needs the CSRF token, so another site cannot log people out."""
    secret = session_secret(request)
    if secret is not None:
        check_csrf(request)
        with writing(db):
            sessions.end(db, secret, now=now_of(request))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
