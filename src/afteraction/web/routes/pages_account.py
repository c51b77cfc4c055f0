"""Your account (API tokens: create, revoke, the secret shown once) and user administration
(admins only: create users, change roles; everyone else gets the 403 page).
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
from afteraction.services import users
from afteraction.storage.tables import ApiToken, Person, User
from afteraction.web.deps import CurrentUser, DbSession
from afteraction.web.routes.pages_forms import Form, errors_of, render_page, see_other, writing_as
from afteraction.web.routes.pages_incidents import FormDep

router = APIRouter(include_in_schema=False)


@dataclass(slots=True)
class AccountPage:
    account: User
    tokens: list[ApiToken]
    new_secret: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def account_page(db: Session, user: User, **extra: Any) -> AccountPage:
    return AccountPage(user, users.list_tokens(db, user.id), **extra)


@router.get("/account")
def account(request: Request, db: DbSession, user: CurrentUser) -> Response:
    return render_page(request, "account.html", account_page(db, user), user=user)


@router.post("/account/tokens")
def issue_token(request: Request, db: DbSession, user: CurrentUser, form: FormDep) -> Response:
    """The secret is rendered in this response only (never stored, never redirected)."""
    actor = users.actor_for(user)
    try:
        with writing_as(db, user):
            name = form.text("name", limit=200, required=True)
            secret = users.issue_token(db, actor, user_id=actor.user_id or 0, name=name).secret
    except ValidationError as error:
        page = account_page(db, user, values=form.raw(), errors=errors_of(error))
        return render_page(request, "account.html", page, user=user, status_code=422)
    page = account_page(db, user, new_secret=secret)
    response = render_page(request, "account.html", page, user=user, status_code=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    token_id: int,
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
    user_id: int, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    def write(actor: Actor, form: Form) -> str:
        changed = users.set_role(db, actor, user_id, form.text("role", limit=20, required=True))
        return f"{changed.email} is now {changed.role}."

    return _admin_write(request, db, user, form, write)


@router.post("/admin/users/{user_id}/active")
def set_active(
    user_id: int, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    """Disable a user's logins and tokens (`active=no`), or enable them again."""

    def write(actor: Actor, form: Form) -> str:
        active = form.text("active", limit=5, required=True) == "yes"
        changed = users.update_user(db, actor, user_id, active=active)
        return f"{changed.email} is now {'enabled' if changed.is_active else 'disabled'}."

    return _admin_write(request, db, user, form, write)
