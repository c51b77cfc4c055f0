"""Your account (password change, your login sessions with "sign out" each or everywhere,
API tokens: create, revoke, the secret shown once) and user administration (admins only:
create users, change roles, disable, force a password reset, end a sign-in lock; everyone
else gets the 403 page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import ROLES, Actor, require_admin
from afteraction.core.errors import Conflict, ValidationError
from afteraction.core.passwords import MAX_PASSWORD, MIN_PASSWORD
from afteraction.services import passwords, sessions, throttle, users
from afteraction.storage.auth_tables import UserSession
from afteraction.storage.tables import ApiToken, Person, User
from afteraction.web.deps import (
    SESSION_KEY,
    CurrentUser,
    DbSession,
    current_session_id,
    lifetimes,
    now_of,
)
from afteraction.web.routes.pages_forms import Form, errors_of, render_page, see_other, writing_as
from afteraction.web.routes.pages_incidents import FormDep
from afteraction.web.schemas.common import RowId

router = APIRouter(include_in_schema=False)


@dataclass(slots=True)
class AccountPage:
    account: User
    tokens: list[ApiToken]
    sessions: list[UserSession]
    current_session: str | None
    new_secret: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    password_errors: dict[str, str] = field(default_factory=dict)
    min_password: int = MIN_PASSWORD
    sso: bool = False  # single sign-on is configured: the page offers to link it


def account_page(request: Request, db: Session, user: User, **extra: Any) -> AccountPage:
    settings = request.app.state.settings
    open_sessions = sessions.list_open(
        db, user.id, now=now_of(request), lifetimes=lifetimes(settings)
    )
    extra.setdefault("sso", settings.oidc.enabled)
    return AccountPage(
        user, users.list_tokens(db, user.id), open_sessions, current_session_id(request), **extra
    )


@router.get("/account")
def account(request: Request, db: DbSession, user: CurrentUser) -> Response:
    return render_page(request, "account.html", account_page(request, db, user), user=user)


def _secret(form: Form, name: str) -> str:
    """A password field as typed (not stripped: spaces count)."""
    value = form.data.get(name)
    if not isinstance(value, str) or not value:
        raise ValidationError("this field is required", field=name)
    if len(value) > MAX_PASSWORD:
        raise ValidationError(f"at most {MAX_PASSWORD} characters", field=name)
    return value


@router.post("/account/password")
def change_password(request: Request, db: DbSession, user: CurrentUser, form: FormDep) -> Response:
    """Change your own password (current one required); your other sessions end."""
    try:
        with writing_as(db, user):
            new = _secret(form, "password")
            if new != form.data.get("password_confirm"):
                raise ValidationError("the two new passwords differ", field="password_confirm")
            passwords.change_own(
                db,
                users.actor_for(user),
                current=_secret(form, "current_password"),
                new=new,
                now=now_of(request),
                keep_session=current_session_id(request),
            )
    except ValidationError as error:
        page = account_page(request, db, user, password_errors=errors_of(error))
        return render_page(request, "account.html", page, user=user, status_code=422)
    return see_other(request, "/account", "Password changed; your other sessions were signed out.")


@router.post("/account/sessions/{session_id}/end")
def end_session(
    session_id: str,
    request: Request,
    db: DbSession,
    user: CurrentUser,
    form: FormDep,  # noqa: ARG001
) -> Response:
    with writing_as(db, user):
        sessions.end_one(db, users.actor_for(user), session_id, now=now_of(request))
    if session_id == current_session_id(request):
        request.session.pop(SESSION_KEY, None)
        return see_other(request, "/login")
    return see_other(request, "/account", "Session signed out.")


@router.post("/account/sessions/end-all")
def end_all_sessions(
    request: Request,
    db: DbSession,
    user: CurrentUser,
    form: FormDep,  # noqa: ARG001
) -> Response:
    """Sign out everywhere, this browser included."""
    with writing_as(db, user):
        sessions.end_all(
            db, users.actor_for(user), user.id, now=now_of(request), reason="signed out everywhere"
        )
    request.session.pop(SESSION_KEY, None)
    return see_other(request, "/login")


@router.post("/account/tokens")
def issue_token(request: Request, db: DbSession, user: CurrentUser, form: FormDep) -> Response:
    """The secret is rendered in this response only (never stored, never redirected)."""
    actor = users.actor_for(user)
    try:
        with writing_as(db, user):
            name = form.text("name", limit=200, required=True)
            secret = users.issue_token(db, actor, user_id=actor.user_id or 0, name=name).secret
    except ValidationError as error:
        page = account_page(request, db, user, values=form.raw(), errors=errors_of(error))
        return render_page(request, "account.html", page, user=user, status_code=422)
    page = account_page(request, db, user, new_secret=secret)
    response = render_page(request, "account.html", page, user=user, status_code=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    token_id: RowId,
    request: Request,
    db: DbSession,
    user: CurrentUser,
    form: FormDep,  # noqa: ARG001
) -> Response:
    with writing_as(db, user):
        users.revoke_token(db, users.actor_for(user), token_id)
    return see_other(request, "/account", "Token revoked.")


@dataclass(slots=True)
class AdminUsersPage:
    accounts: list[User]
    people: list[Person]
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    roles: tuple[str, ...] = ROLES


def admin_page(db: Session, actor: Actor, **extra: Any) -> AdminUsersPage:
    require_admin(actor)
    people = list(db.scalars(select(Person).order_by(Person.name).limit(2000)))
    return AdminUsersPage(users.list_users(db), people, **extra)


@router.get("/admin/users")
def admin_users(request: Request, db: DbSession, user: CurrentUser) -> Response:
    page = admin_page(db, users.actor_for(user), values={"role": "responder"})
    return render_page(request, "admin_users.html", page, user=user)


def _admin_write(request: Request, db: Session, user: User, form: Form, write: Any) -> Response:
    actor = users.actor_for(user)
    require_admin(actor)
    try:
        with writing_as(db, user):
            notice = write(actor, form)
    except (ValidationError, Conflict) as error:
        page = admin_page(db, actor, values=form.raw(), errors=errors_of(error))
        status = 409 if isinstance(error, Conflict) else 422
        return render_page(request, "admin_users.html", page, user=user, status_code=status)
    return see_other(request, "/admin/users", notice)


@router.post("/admin/users")
def create_user(request: Request, db: DbSession, user: CurrentUser, form: FormDep) -> Response:
    def write(actor: Actor, form: Form) -> str:
        created = users.create_user(
            db,
            actor,
            email=form.text("email", limit=320, required=True),
            password=form.text("password", limit=1_000, required=True),
            role=form.text("role", limit=20, required=True),
            name=form.text("name", limit=200),
            person_id=form.integer("person_id"),
        )
        return f"Created {created.email}."

    return _admin_write(request, db, user, form, write)


@router.post("/admin/users/{user_id}/role")
def change_role(
    user_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    def write(actor: Actor, form: Form) -> str:
        changed = users.set_role(db, actor, user_id, form.text("role", limit=20, required=True))
        return f"{changed.email} is now {changed.role}."

    return _admin_write(request, db, user, form, write)


@router.post("/admin/users/{user_id}/active")
def set_active(
    user_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    """Disable a user's logins and tokens (`active=no`), or enable them again."""

    def write(actor: Actor, form: Form) -> str:
        active = form.text("active", limit=5, required=True) == "yes"
        changed = users.update_user(db, actor, user_id, active=active)
        return f"{changed.email} is now {'enabled' if changed.is_active else 'disabled'}."

    return _admin_write(request, db, user, form, write)


@router.post("/admin/users/{user_id}/force-reset")
def force_reset(
    user_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    """The user must choose a new password at their next login; their sessions end now."""

    def write(actor: Actor, form: Form) -> str:  # noqa: ARG001
        target = users.user_named_by_admin(db, user_id)
        passwords.force_reset(db, actor, target, now=now_of(request))
        return f"{target.email} must choose a new password at their next login."

    return _admin_write(request, db, user, form, write)


@router.post("/admin/users/{user_id}/unlock")
def unlock(
    user_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    """End a sign-in lock on this account at once (it also ends by itself)."""

    def write(actor: Actor, form: Form) -> str:  # noqa: ARG001
        target = users.user_named_by_admin(db, user_id)
        throttle.clear_account(db, actor, target.email)
        return f"{target.email} may try to sign in again."

    return _admin_write(request, db, user, form, write)
