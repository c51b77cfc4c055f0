"""Cross-incident and directory pages: action items, problems, services, teams and people.

Anything reached through an incident (action items, a problem's incidents, the roles a
person held) is filtered through `visibility_clause`, so private incidents never show to
people who may not see them. Create forms re-render with the message beside the field on
bad input (422, or 409 on a duplicate) and redirect (303) on success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from afteraction.core import incidents as rules
from afteraction.core.access import Actor
from afteraction.core.errors import Conflict, ValidationError
from afteraction.services import directory, users
from afteraction.services import directory_reads as reads
from afteraction.storage.tables import (
    ActionItem,
    Incident,
    Person,
    Problem,
    RoleAssignment,
    Service,
    Team,
    TeamMembership,
    User,
)
from afteraction.web.deps import CurrentUser, DbSession
from afteraction.web.routes.pages_forms import (
    TIME_ZONES,
    Form,
    can_write,
    errors_of,
    render_page,
    see_other,
    writing_as,
)
from afteraction.web.routes.pages_incidents import FormDep
from afteraction.web.schemas.common import RowId

router = APIRouter(include_in_schema=False)


@dataclass(slots=True)
class FormState:
    """A create form's typed values and its messages (empty when nothing was refused)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


Build = Callable[[Session, Actor, FormState], object]
Write = Callable[[Actor, Form], str]


def create(
    request: Request,
    db: Session,
    user: User,
    form: Form,
    write: Write,
    page: tuple[str, Build],
) -> Response:
    """Run a create form's write; redirect to the URL it returns, or re-render the page."""
    actor = users.actor_for(user)
    try:
        with writing_as(db, user):
            target = write(actor, form)
    except (ValidationError, Conflict) as error:
        state = FormState(form.raw(), errors_of(error))
        status = 409 if isinstance(error, Conflict) else 422
        template, build = page
        context = build(db, actor, state)
        return render_page(request, template, context, user=user, status_code=status)
    return see_other(request, target, "Saved.")


# -- action items ----------------------------------------------------------------------------


@dataclass(slots=True)
class ActionItemsPage:
    items: list[ActionItem]
    status: str
    owner: str
    people: list[Person]
    errors: dict[str, str]
    can_write: bool
    today: date
    statuses: tuple[str, ...] = rules.ACTION_ITEM_STATUSES

    def is_overdue(self, item: ActionItem) -> bool:
        return rules.action_item_overdue(item.status, item.due, self.today)

    @property
    def return_to(self) -> str:
        params = {k: v for k, v in (("status", self.status), ("owner", self.owner)) if v}
        return "/action-items" + ("?" + urlencode(params) if params else "")


@router.get("/action-items")
def action_items(request: Request, db: DbSession, user: CurrentUser) -> Response:
    actor = users.actor_for(user)
    status = (request.query_params.get("status") or "").strip()
    owner = (request.query_params.get("owner") or "").strip()
    errors: dict[str, str] = {}
    if status and status != "unfinished" and status not in rules.ACTION_ITEM_STATUSES:
        errors["status"] = f"unknown status {status[:40]!r}"
    if owner and not owner.isdigit():
        errors["owner"] = "owner must be chosen from the list"
    items = reads.action_items(
        db,
        actor,
        status=None if "status" in errors else status or None,
        owner_id=int(owner) if owner.isdigit() else None,
    )
    people = directory.list_people(db, limit=2000)
    page = ActionItemsPage(
        items, status, owner, people, errors, can_write(actor), datetime.now(UTC).date()
    )
    status_code = 422 if errors else 200
    return render_page(request, "action_items.html", page, user=user, status_code=status_code)


# -- problems ----------------------------------------------------------------------------------


@dataclass(slots=True)
class ProblemsPage:
    problems: list[tuple[Problem, int]]
    form: FormState
    can_write: bool
    statuses: tuple[str, ...] = rules.PROBLEM_STATUSES


def problems_page(db: Session, actor: Actor, form: FormState) -> ProblemsPage:
    return ProblemsPage(reads.problems_with_counts(db, actor), form, can_write(actor))


@router.get("/problems")
def problems(request: Request, db: DbSession, user: CurrentUser) -> Response:
    page = problems_page(db, users.actor_for(user), FormState({"status": "open"}))
    return render_page(request, "problems.html", page, user=user)


@router.post("/problems")
def create_problem(request: Request, db: DbSession, user: CurrentUser, form: FormDep) -> Response:
    def write(actor: Actor, form: Form) -> str:
        problem = directory.create_problem(
            db,
            actor,
            title=form.text("title", limit=200, required=True),
            key=form.text("key", limit=80) or None,
            description=form.text("description"),
            status=form.text("status", limit=20) or "open",
            workaround=form.text("workaround"),
        )
        return f"/problems/{problem.key}"

    return create(request, db, user, form, write, ("problems.html", problems_page))


@dataclass(slots=True)
class ProblemPage:
    problem: Problem
    incidents: list[Incident]
    can_write: bool = False


@router.get("/problems/{key}")
def problem(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    actor = users.actor_for(user)
    found = directory.problem_by_key(db, key)
    page = ProblemPage(found, list(reads.problem_incidents(db, actor, found)), can_write(actor))
    return render_page(request, "problem.html", page, user=user)


# -- services and teams -------------------------------------------------------------------------


@dataclass(slots=True)
class ServicesPage:
    services: list[Service]
    teams: list[Team]
    form: FormState
    can_write: bool


def services_page(db: Session, actor: Actor, form: FormState) -> ServicesPage:
    return ServicesPage(
        directory.list_services(db), directory.list_teams(db), form, can_write(actor)
    )


@router.get("/services")
def services(request: Request, db: DbSession, user: CurrentUser) -> Response:
    page = services_page(db, users.actor_for(user), FormState({"tier": "2"}))
    return render_page(request, "services.html", page, user=user)


@router.post("/services")
def create_service(request: Request, db: DbSession, user: CurrentUser, form: FormDep) -> Response:
    def write(actor: Actor, form: Form) -> str:
        directory.create_service(
            db,
            actor,
            name=form.text("name", limit=200, required=True),
            slug=form.text("slug", limit=80) or None,
            team_slug=form.text("team", limit=80) or None,
            tier=form.integer("tier") or 2,
            description=form.text("description", limit=5_000),
        )
        return "/services"

    return create(request, db, user, form, write, ("services.html", services_page))


@dataclass(slots=True)
class TeamsPage:
    teams: list[Team]
    services_by_team: dict[int, list[Service]]
    members_by_team: dict[int, int]
    form: FormState
    can_write: bool


def teams_page(db: Session, actor: Actor, form: FormState) -> TeamsPage:
    services_by_team: dict[int, list[Service]] = {}
    for service in directory.list_services(db):
        if service.team_id is not None:
            services_by_team.setdefault(service.team_id, []).append(service)
    members = reads.current_team_sizes(db, datetime.now(UTC).date())
    return TeamsPage(directory.list_teams(db), services_by_team, members, form, can_write(actor))


@router.get("/teams")
def teams(request: Request, db: DbSession, user: CurrentUser) -> Response:
    page = teams_page(db, users.actor_for(user), FormState())
    return render_page(request, "teams.html", page, user=user)


@router.post("/teams")
def create_team(request: Request, db: DbSession, user: CurrentUser, form: FormDep) -> Response:
    def write(actor: Actor, form: Form) -> str:
        directory.create_team(
            db,
            actor,
            name=form.text("name", limit=200, required=True),
            slug=form.text("slug", limit=80) or None,
            description=form.text("description", limit=5_000),
        )
        return "/teams"

    return create(request, db, user, form, write, ("teams.html", teams_page))


# -- people ----------------------------------------------------------------------------------


@dataclass(slots=True)
class PeoplePage:
    people: list[Person]
    q: str
    form: FormState
    can_write: bool
    time_zones: tuple[str, ...] = TIME_ZONES


def people_page(db: Session, actor: Actor, form: FormState, q: str = "") -> PeoplePage:
    return PeoplePage(directory.list_people(db, text=q or None), q, form, can_write(actor))


@router.get("/people")
def people(request: Request, db: DbSession, user: CurrentUser) -> Response:
    q = (request.query_params.get("q") or "").strip()[:200]
    page = people_page(db, users.actor_for(user), FormState(), q)
    return render_page(request, "people.html", page, user=user)


@router.post("/people")
def create_person(request: Request, db: DbSession, user: CurrentUser, form: FormDep) -> Response:
    def write(actor: Actor, form: Form) -> str:
        data = directory.PersonInput(
            name=form.text("name", limit=200, required=True),
            email=form.text("email", limit=320) or None,
            title=form.text("title", limit=200) or None,
            department=form.text("department", limit=200) or None,
            time_zone=form.text("time_zone", limit=64) or None,
        )
        return f"/people/{directory.create_person(db, actor, data).id}"

    return create(request, db, user, form, write, ("people.html", people_page))


@dataclass(slots=True)
class PersonPage:
    person: Person
    memberships: list[TeamMembership]
    roles: list[tuple[RoleAssignment, Incident]]
    action_items: list[ActionItem]
    teams: list[Team]
    form: FormState
    can_write: bool


def person_page(db: Session, actor: Actor, person_id: RowId, form: FormState) -> PersonPage:
    person = directory.get_person(db, person_id)
    return PersonPage(
        person=person,
        memberships=sorted(person.memberships, key=lambda m: m.start or date.min, reverse=True),
        roles=reads.person_roles(db, actor, person),
        action_items=reads.person_action_items(db, actor, person),
        teams=directory.list_teams(db),
        form=form,
        can_write=can_write(actor),
    )


@router.get("/people/{person_id}")
def person(person_id: RowId, request: Request, db: DbSession, user: CurrentUser) -> Response:
    page = person_page(db, users.actor_for(user), person_id, FormState())
    return render_page(request, "person.html", page, user=user)


@router.post("/people/{person_id}/memberships")
def add_membership(
    person_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    def write(actor: Actor, form: Form) -> str:
        directory.add_membership(
            db,
            actor,
            person_id=person_id,
            team_slug=form.text("team", limit=80, required=True),
            start=form.day("start"),
            end=form.day("end"),
        )
        return f"/people/{person_id}"

    def build(db: Session, actor: Actor, state: FormState) -> PersonPage:
        return person_page(db, actor, person_id, state)

    return create(request, db, user, form, write, ("person.html", build))
