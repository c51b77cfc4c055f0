"""Incident pages: the filtered list, the declare form, the edit form, and the incident page.

Each page renders one template with one context dataclass (`page`). Writes go through
`afteraction.services.incidents` inside one transaction (`writing_as`), so a refused form
leaves nothing half-written; bad input re-renders the form with the user's values and
the message beside the field (422; a stale edit is 409). The single incident page and its
forms live in `pages_incident`. No SQL beyond small lookups for select options lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core import incidents as rules
from afteraction.core import times
from afteraction.core.access import require_write
from afteraction.core.errors import Conflict, NotFound, ValidationError
from afteraction.services import incident_lists, users
from afteraction.services import incidents as repo
from afteraction.storage.incident_lists import SORTS, IncidentSummary
from afteraction.storage.tables import Incident, Problem, Service, SeverityLevel, Team, User
from afteraction.web.deps import CurrentUser, DbSession
from afteraction.web.routes.pages_forms import (
    TIME_ZONES,
    Form,
    can_write,
    errors_of,
    query_list,
    render_page,
    see_other,
    writing_as,
)

router = APIRouter(include_in_schema=False)
DEFAULT_DESCENDING = frozenset({"number", "started", "updated"})
SORT_LABELS = {
    "number": "ID",
    "title": "Title",
    "severity": "Severity",
    "status": "Status",
    "started": "Started",
    "updated": "Updated",
}


async def read_form(request: Request) -> Form:
    """The submitted form (already parsed, and CSRF-checked, by the user dependency)."""
    return Form(await request.form())


FormDep = Annotated[Form, Depends(read_form)]


def incident_key(key: str) -> int:
    """'INC-42' or '42' from a URL; anything else is a 404, not a validation error."""
    try:
        return rules.parse_public_id(key)
    except ValidationError as error:
        raise NotFound("incident", key) from error


@dataclass(slots=True)
class Choices:
    """Options for incident selects, read once per page."""

    severities: list[SeverityLevel]
    services: list[Service]
    teams: list[Team]
    problems: list[Problem]
    types: tuple[str, ...] = rules.INCIDENT_TYPES
    statuses: tuple[str, ...] = rules.DEFAULT_LIFECYCLE.statuses
    time_zones: tuple[str, ...] = TIME_ZONES
    milestones: tuple[str, ...] = rules.MILESTONES
    definitions: dict[str, str] = field(default_factory=lambda: dict(rules.MILESTONE_DEFINITIONS))


def load_choices(db: Session) -> Choices:
    return Choices(
        severities=list(db.scalars(select(SeverityLevel).order_by(SeverityLevel.rank))),
        services=list(db.scalars(select(Service).order_by(Service.name))),
        teams=list(db.scalars(select(Team).order_by(Team.name))),
        problems=list(db.scalars(select(Problem).order_by(Problem.key))),
    )


# -- the list ------------------------------------------------------------------------------


@dataclass(slots=True)
class IncidentListPage:
    rows: list[IncidentSummary]
    total: int
    values: dict[str, Any]
    errors: dict[str, str]
    sort: str
    page_number: int
    page_size: int
    choices: Choices
    can_write: bool

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def first_shown(self) -> int:
        return 0 if not self.rows else (self.page_number - 1) * self.page_size + 1

    @property
    def last_shown(self) -> int:
        return (self.page_number - 1) * self.page_size + len(self.rows)

    def url(self, **changes: Any) -> str:
        params = {**self.values, **changes}
        params = {k: v for k, v in params.items() if v not in ("", [], None)}
        if params.get("page") == 1:
            params.pop("page")
        return "/incidents" + ("?" + urlencode(params, doseq=True) if params else "")

    def sort_url(self, column: str) -> str:
        if self.sort == column:
            wanted = "-" + column
        elif self.sort == "-" + column:
            wanted = column
        else:
            wanted = ("-" if column in DEFAULT_DESCENDING else "") + column
        return self.url(sort=wanted, page=1)

    def aria_sort(self, column: str) -> str:
        if self.sort == column:
            return "ascending"
        if self.sort == "-" + column:
            return "descending"
        return "none"

    def service_names(self, row: IncidentSummary) -> list[str]:
        """The names of a row's services (rows carry slugs; the choices know every name)."""
        names = {service.slug: service.name for service in self.choices.services}
        return [names.get(slug, slug) for slug in row.services]


def _list_request(params: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Raw filter values from the query string, and the problems found in them."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        name: query_list(params, name)
        for name in ("status", "severity", "service", "team", "type", "tag")
    }
    for name in ("started_from", "started_to", "q", "sort", "page", "problem"):
        values[name] = (params.get(name) or "").strip()
    if len(values["q"]) > 200:
        errors["q"] = "search text is limited to 200 characters"
        values["q"] = values["q"][:200]
    if values["sort"] and values["sort"].lstrip("-") not in SORTS:
        errors["sort"] = f"unknown sort {values['sort']!r}; sorted by newest instead"
        values["sort"] = ""
    if values["page"] and not (values["page"].isdigit() and 0 < int(values["page"]) < 10**6):
        errors["page"] = f"page must be a positive number, not {values['page']!r}"
        values["page"] = ""
    return values, errors


def _dates(values: dict[str, Any], errors: dict[str, str]) -> tuple[Any, Any]:
    days = []
    for name in ("started_from", "started_to"):
        try:
            days.append(times.parse_date(values[name], name))
        except ValidationError as error:
            errors[name] = error.message
            days.append(None)
    return times.day_range(days[0], days[1])


@router.get("/incidents")
def incident_list(request: Request, db: DbSession, user: CurrentUser) -> Response:
    actor = users.actor_for(user)
    values, errors = _list_request(request.query_params)
    started_from, started_to = _dates(values, errors)
    page_size: int = request.app.state.settings.page_size
    page_number = int(values["page"] or 1)
    filters = incident_lists.IncidentFilters(
        status=values["status"],
        severity=values["severity"],
        service=values["service"],
        team=values["team"],
        type=values["type"],
        tag=values["tag"],
        problem=values["problem"] or None,
        started_from=started_from,
        started_to=started_to,
        text=values["q"] or None,
        sort=values["sort"] or "-number",
        limit=page_size,
        offset=(page_number - 1) * page_size,
    )
    listing = incident_lists.list_page(db, actor, filters)
    page = IncidentListPage(
        listing.rows, listing.total, values, errors, filters.sort, page_number, page_size,
        load_choices(db), can_write(actor),
    )  # fmt: skip
    return render_page(request, "incidents.html", page, user=user, status_code=_code(errors))


def _code(errors: dict[str, str], conflict: bool = False) -> int:
    if conflict:
        return 409
    return 422 if errors else 200


# -- declare and edit --------------------------------------------------------------------------


@dataclass(slots=True)
class IncidentFormPage:
    """The declare form (incident None) or the edit form of `incident`."""

    values: dict[str, Any]
    errors: dict[str, str]
    choices: Choices
    incident: Incident | None = None
    conflict: str | None = None

    @property
    def action(self) -> str:
        if self.incident is None:
            return "/incidents/new"
        return f"/incidents/{self.incident.public_id}/edit"


NEW_DEFAULTS: dict[str, Any] = {"severity": "SEV3", "type": "default", "time_zone": "UTC"}


@router.get("/incidents/new")
def new_incident(request: Request, db: DbSession, user: CurrentUser) -> Response:
    require_write(users.actor_for(user))  # a form only writers can send: 403, as for edits
    page = IncidentFormPage(dict(NEW_DEFAULTS), {}, load_choices(db))
    return render_page(request, "incident_new.html", page, user=user)


def _incident_input(form: Form) -> repo.IncidentInput:
    zone = times.parse_zone(form.text("time_zone", limit=64))
    milestones = {name: form.moment(name, zone) for name in rules.MILESTONES}
    return repo.IncidentInput(
        title=form.text("title", limit=300, required=True),
        severity=form.text("severity", limit=20, required=True),
        summary=form.text("summary"),
        type=form.text("type", limit=40) or "default",
        private=form.flag("private"),
        customer_impact=form.text("customer_impact"),
        services=form.many("services"),
        teams=form.many("teams"),
        tags=form.csv("tags"),
        problem=form.text("problem", limit=80) or None,
        milestones={k: v for k, v in milestones.items() if v is not None},
        allow_out_of_order=form.flag("allow_out_of_order"),
    )


@router.post("/incidents/new")
def declare_incident(request: Request, db: DbSession, user: CurrentUser, form: FormDep) -> Response:
    actor = users.actor_for(user)
    require_write(actor)  # refused before the form is read
    try:
        with writing_as(db, user):
            incident, warnings = repo.declare(db, actor, _incident_input(form))
            public_id = incident.public_id
    except ValidationError as error:
        page = IncidentFormPage(form.raw(), errors_of(error), load_choices(db))
        return render_page(request, "incident_new.html", page, user=user, status_code=422)
    notice = f"Declared {public_id}."
    if warnings:
        notice += " Milestones recorded out of order: " + "; ".join(warnings)
    return see_other(request, f"/incidents/{public_id}", notice)


def edit_values(incident: Incident) -> dict[str, Any]:
    return {
        "title": incident.title,
        "severity": incident.severity,
        "type": incident.type,
        "private": "on" if incident.private else "",
        "services": [s.slug for s in incident.services],
        "teams": [t.slug for t in incident.teams],
        "tags": ", ".join(incident.tags),
        "problem": incident.problem.key if incident.problem else "",
        "summary": incident.summary,
        "customer_impact": incident.customer_impact,
        "version": str(incident.version),
    }


@router.get("/incidents/{key}/edit")
def edit_incident(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    actor = users.actor_for(user)
    incident = repo.get_incident(db, actor, incident_key(key))
    require_write(actor)
    page = IncidentFormPage(edit_values(incident), {}, load_choices(db), incident)
    return render_page(request, "incident_edit.html", page, user=user)


def _changes(form: Form) -> dict[str, Any]:
    return {
        "title": form.text("title", limit=300, required=True),
        "severity": form.text("severity", limit=20, required=True),
        "type": form.text("type", limit=40) or "default",
        "private": form.flag("private"),
        "services": form.many("services"),
        "teams": form.many("teams"),
        "tags": form.csv("tags"),
        "problem": form.text("problem", limit=80) or None,
        "summary": form.text("summary"),
        "customer_impact": form.text("customer_impact"),
    }


@router.post("/incidents/{key}/edit")
def save_incident(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    actor = users.actor_for(user)
    number = incident_key(key)
    require_write(actor)  # refused before the form is read
    repo.get_incident(db, actor, number)
    try:
        with writing_as(db, user):
            version = form.integer("version")
            incident = repo.update(db, actor, number, _changes(form), expected_version=version)
            public_id = incident.public_id
    except (ValidationError, Conflict) as error:
        return _edit_refused(request, db, user, number, form, error)
    return see_other(request, f"/incidents/{public_id}", f"Saved {public_id}.")


def _edit_refused(
    request: Request,
    db: Session,
    user: User,
    number: int,
    form: Form,
    error: ValidationError | Conflict,
) -> Response:
    incident = repo.get_incident(db, users.actor_for(user), number)
    conflict = isinstance(error, Conflict)
    errors = {} if conflict else errors_of(error)
    values = form.raw()
    if conflict:
        values["version"] = str(incident.version)
    page = IncidentFormPage(
        values, errors, load_choices(db), incident, error.message if conflict else None
    )
    status = _code(errors, conflict)
    return render_page(request, "incident_edit.html", page, user=user, status_code=status)
