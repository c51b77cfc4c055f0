"""Edit and delete forms for directory rows: people, teams, services and problems.

Each row has one page, `…/edit`, holding its edit form and a delete form. A refused edit
re-renders the page with the message beside the field and the typed values kept (422, or
409 when a slug, key or email is taken); a refused removal re-renders it with the reason
beside the delete button. Success redirects (303) with a notice. Viewers get 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core import incidents as rules
from afteraction.core.access import Actor, require_write
from afteraction.core.errors import AfteractionError, Conflict, ValidationError
from afteraction.services import directory, directory_edit, users
from afteraction.storage.tables import Person, User
from afteraction.web.deps import CurrentUser, DbSession
from afteraction.web.routes.pages_directory import FormState
from afteraction.web.routes.pages_forms import (
    TIME_ZONES,
    Form,
    render_page,
    see_other,
    writing_as,
)
from afteraction.web.routes.pages_incidents import FormDep
from afteraction.web.schemas.common import RowId

router = APIRouter(include_in_schema=False)
TEMPLATE = "directory_edit.html"
DELETE_ERROR = "_delete"


@dataclass(frozen=True, slots=True)
class EditField:
    """One input of an edit form. `kind` is text, email, date, textarea or select."""

    name: str
    label: str
    kind: str = "text"
    limit: int = 200
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""


@dataclass(slots=True)
class EditPage:
    """A directory row's edit form and delete form."""

    noun: str
    title: str
    section: tuple[str, str]
    url: str
    action: str
    delete_action: str
    fields: list[EditField]
    form: FormState
    consequence: str
    delete_errors: dict[str, str] = field(default_factory=dict)


Build = Callable[[Session, FormState], EditPage]
Save = Callable[[Actor, Form], tuple[str, str]]


def _errors(error: AfteractionError) -> dict[str, str]:
    """{form field: message}; the edit form's inputs carry the storage field names."""
    name = error.details.get("field")
    return {str(name) if name else "_form": error.message}


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _show(request: Request, db: Session, user: User, build: Build) -> Response:
    require_write(users.actor_for(user))
    return render_page(request, TEMPLATE, build(db, FormState()), user=user)


def _save(
    request: Request, db: Session, user: User, form: Form, save: Save, build: Build
) -> Response:
    """Run an edit's write; redirect with a notice, or re-render with the messages."""
    actor = users.actor_for(user)
    require_write(actor)
    try:
        with writing_as(db, user):
            target, notice = save(actor, form)
    except (ValidationError, Conflict) as error:
        status = 409 if isinstance(error, Conflict) else 422
        page = build(db, FormState(form.raw(), _errors(error)))
        return render_page(request, TEMPLATE, page, user=user, status_code=status)
    return see_other(request, target, notice)


def _delete(
    request: Request,
    db: Session,
    user: User,
    form: Form,
    remove: Callable[[Actor], tuple[str, str]],
    build: Build,
) -> Response:
    """Remove the row once the box is ticked; else re-render with the reason."""
    actor = users.actor_for(user)
    require_write(actor)
    try:
        if not form.flag("confirm"):
            raise ValidationError("tick the box to confirm the deletion", field="confirm")
        with writing_as(db, user):
            target, notice = remove(actor)
    except (ValidationError, Conflict) as error:
        status = 409 if isinstance(error, Conflict) else 422
        page = build(db, FormState())
        field_name = error.details.get("field")
        page.delete_errors = {"confirm" if field_name == "confirm" else DELETE_ERROR: error.message}
        return render_page(request, TEMPLATE, page, user=user, status_code=status)
    return see_other(request, target, notice)


# -- people ----------------------------------------------------------------------------------


def _person_page(db: Session, person_id: RowId, state: FormState) -> EditPage:
    person = directory.get_person(db, person_id)
    others = db.scalars(select(Person).where(Person.id != person.id).order_by(Person.name))
    managers = (("", "None"), *((str(p.id), p.name) for p in others))
    zones = (("", "Not set"), *((z, z) for z in TIME_ZONES))
    if person.time_zone and person.time_zone not in TIME_ZONES:
        zones = (*zones, (person.time_zone, person.time_zone))
    values = state.values or {
        name: _text(getattr(person, name)) for name in directory_edit.PERSON_FIELDS
    }
    return EditPage(
        noun="person",
        title=person.name,
        section=("/people", "People"),
        url=f"/people/{person.id}",
        action=f"/people/{person.id}/edit",
        delete_action=f"/people/{person.id}/delete",
        fields=[
            EditField("name", "Name"),
            EditField("email", "Email", "email", 320),
            EditField("title", "Title"),
            EditField("department", "Department"),
            EditField("location", "Location"),
            EditField("time_zone", "Time zone", "select", options=zones),
            EditField("manager_id", "Manager", "select", options=managers),
            EditField("github_login", "GitHub login", limit=100),
            EditField("start_date", "Started", "date"),
            EditField("end_date", "Left", "date"),
        ],
        form=FormState(values, state.errors),
        consequence=(
            "Deleting removes the person with their team memberships and external "
            "identities. It is refused while an incident role, action item, update, "
            "message, page, on-call shift, interview or user account refers to them."
        ),
    )


def _person_builder(person_id: RowId) -> Build:
    def build(db: Session, state: FormState) -> EditPage:
        return _person_page(db, person_id, state)

    return build


@router.get("/people/{person_id}/edit")
def edit_person(person_id: RowId, request: Request, db: DbSession, user: CurrentUser) -> Response:
    return _show(request, db, user, _person_builder(person_id))


@router.post("/people/{person_id}/edit")
def update_person(
    person_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    def save(actor: Actor, form: Form) -> tuple[str, str]:
        changes: dict[str, Any] = {
            "name": form.text("name", limit=200, required=True),
            "email": form.text("email", limit=320) or None,
            "time_zone": form.text("time_zone", limit=64) or None,
            "manager_id": form.integer("manager_id"),
            "start_date": form.day("start_date"),
            "end_date": form.day("end_date"),
        }
        for name, limit in (("title", 200), ("department", 200), ("location", 200)):
            changes[name] = form.text(name, limit=limit) or None
        changes["github_login"] = form.text("github_login", limit=100) or None
        person = directory_edit.update_person(db, actor, person_id, changes)
        return f"/people/{person.id}", f"Saved {person.name}."

    return _save(request, db, user, form, save, _person_builder(person_id))


@router.post("/people/{person_id}/delete")
def delete_person(
    person_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    def remove(actor: Actor) -> tuple[str, str]:
        name = directory.get_person(db, person_id).name
        directory_edit.delete_person(db, actor, person_id)
        return "/people", f"Deleted {name}."

    return _delete(request, db, user, form, remove, _person_builder(person_id))


# -- teams -----------------------------------------------------------------------------------


def _team_builder(ref: str) -> Build:
    def build(db: Session, state: FormState) -> EditPage:
        team = directory_edit.team_by_ref(db, ref)
        values = state.values or {
            name: _text(getattr(team, name)) for name in directory_edit.TEAM_FIELDS
        }
        return EditPage(
            noun="team",
            title=team.name,
            section=("/teams", "Teams"),
            url="/teams",
            action=f"/teams/{team.slug}/edit",
            delete_action=f"/teams/{team.slug}/delete",
            fields=[
                EditField("name", "Name"),
                EditField("slug", "Slug", limit=80, hint="lowercase letters, digits, dashes"),
                EditField("description", "Description", "textarea", 5_000),
            ],
            form=FormState(values, state.errors),
            consequence=(
                "Deleting is refused while the team owns services, has members (past or "
                "present) or is named on incidents."
            ),
        )

    return build


@router.get("/teams/{ref}/edit")
def edit_team(ref: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    return _show(request, db, user, _team_builder(ref))


@router.post("/teams/{ref}/edit")
def update_team(
    ref: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    def save(actor: Actor, form: Form) -> tuple[str, str]:
        changes = {
            "name": form.text("name", limit=200, required=True),
            "slug": form.text("slug", limit=80, required=True),
            "description": form.text("description", limit=5_000),
        }
        team = directory_edit.update_team(db, actor, ref, changes)
        return "/teams", f"Saved team {team.name}."

    return _save(request, db, user, form, save, _team_builder(ref))


@router.post("/teams/{ref}/delete")
def delete_team(
    ref: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    def remove(actor: Actor) -> tuple[str, str]:
        name = directory_edit.team_by_ref(db, ref).name
        directory_edit.delete_team(db, actor, ref)
        return "/teams", f"Deleted team {name}."

    return _delete(request, db, user, form, remove, _team_builder(ref))


# -- services --------------------------------------------------------------------------------


def _service_builder(ref: str) -> Build:
    def build(db: Session, state: FormState) -> EditPage:
        service = directory_edit.service_by_ref(db, ref)
        teams = (("", "None"), *((t.slug, t.name) for t in directory.list_teams(db)))
        values = state.values or {
            name: _text(value) for name, value in directory_edit.service_values(service).items()
        }
        return EditPage(
            noun="service",
            title=service.name,
            section=("/services", "Services"),
            url="/services",
            action=f"/services/{service.slug}/edit",
            delete_action=f"/services/{service.slug}/delete",
            fields=[
                EditField("name", "Name"),
                EditField("slug", "Slug", limit=80, hint="lowercase letters, digits, dashes"),
                EditField("team", "Owning team", "select", options=teams),
                EditField("tier", "Tier", "select", options=(("1", "1"), ("2", "2"), ("3", "3"))),
                EditField("description", "Description", "textarea", 5_000),
            ],
            form=FormState(values, state.errors),
            consequence=(
                "Deleting is refused while incidents name the service or it has service "
                "level objectives."
            ),
        )

    return build


@router.get("/services/{ref}/edit")
def edit_service(ref: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    return _show(request, db, user, _service_builder(ref))


@router.post("/services/{ref}/edit")
def update_service(
    ref: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    def save(actor: Actor, form: Form) -> tuple[str, str]:
        changes = {
            "name": form.text("name", limit=200, required=True),
            "slug": form.text("slug", limit=80, required=True),
            "team": form.text("team", limit=80) or None,
            "tier": form.integer("tier") or 2,
            "description": form.text("description", limit=5_000),
        }
        service = directory_edit.update_service(db, actor, ref, changes)
        return "/services", f"Saved service {service.name}."

    return _save(request, db, user, form, save, _service_builder(ref))


@router.post("/services/{ref}/delete")
def delete_service(
    ref: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    def remove(actor: Actor) -> tuple[str, str]:
        name = directory_edit.service_by_ref(db, ref).name
        directory_edit.delete_service(db, actor, ref)
        return "/services", f"Deleted service {name}."

    return _delete(request, db, user, form, remove, _service_builder(ref))


# -- problems --------------------------------------------------------------------------------


def _problem_builder(key: str) -> Build:
    def build(db: Session, state: FormState) -> EditPage:
        problem = directory.problem_by_key(db, key)
        values = state.values or {
            name: _text(getattr(problem, name)) for name in directory_edit.PROBLEM_FIELDS
        }
        return EditPage(
            noun="problem",
            title=problem.title,
            section=("/problems", "Problems"),
            url=f"/problems/{problem.key}",
            action=f"/problems/{problem.key}/edit",
            delete_action=f"/problems/{problem.key}/delete",
            fields=[
                EditField("title", "Title"),
                EditField("key", "Key", limit=80, hint="lowercase letters, digits, dashes"),
                EditField(
                    "status",
                    "Status",
                    "select",
                    options=tuple((s, s) for s in rules.PROBLEM_STATUSES),
                ),
                EditField("description", "Description", "textarea", 20_000),
                EditField("workaround", "Workaround", "textarea", 20_000),
            ],
            form=FormState(values, state.errors),
            consequence="Deleting is refused while incidents are linked to the problem.",
        )

    return build


@router.get("/problems/{key}/edit")
def edit_problem(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    return _show(request, db, user, _problem_builder(key))


@router.post("/problems/{key}/edit")
def update_problem(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    def save(actor: Actor, form: Form) -> tuple[str, str]:
        changes = {
            "title": form.text("title", limit=200, required=True),
            "key": form.text("key", limit=80, required=True),
            "status": form.text("status", limit=20, required=True),
            "description": form.text("description"),
            "workaround": form.text("workaround"),
        }
        problem = directory_edit.update_problem(db, actor, key, changes)
        return f"/problems/{problem.key}", f"Saved problem {problem.key}."

    return _save(request, db, user, form, save, _problem_builder(key))


@router.post("/problems/{key}/delete")
def delete_problem(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    def remove(actor: Actor) -> tuple[str, str]:
        directory_edit.delete_problem(db, actor, key)
        return "/problems", f"Deleted problem {key}."

    return _delete(request, db, user, form, remove, _problem_builder(key))
