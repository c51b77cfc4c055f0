"""REST endpoints for incidents and everything that hangs off one: status, milestones,
roles, updates, action items, references and the activity feed. Handlers stay thin and
delegate to `afteraction.services.incidents`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from afteraction.core.access import Actor
from afteraction.core.incidents import DEFAULT_LIFECYCLE, MILESTONE_DEFINITIONS
from afteraction.core.metrics.definitions import DEFINITIONS
from afteraction.services import action_items, impact, incident_lists, incident_roles
from afteraction.services import activity as activity_feed
from afteraction.services import incidents as repo
from afteraction.storage.db import writing
from afteraction.storage.tables import SeverityLevel
from afteraction.web import schemas as s
from afteraction.web.deps import CurrentActor, DbSession, known_actor, load_actor
from afteraction.web.fastpath import body_key
from afteraction.web.readcache import ReadCache
from afteraction.web.schemas.common import ROW_ID_MAX, RowId

router = APIRouter(tags=["incidents"])
IncidentKey = Annotated[str, "INC-42 or 42"]


def _filters(
    status: list[str] | None,
    severity: list[str] | None,
    service: list[str] | None,
    team: list[str] | None,
    type_: list[str] | None,
    tag: list[str] | None,
    problem: str | None,
    started_from: datetime | None,
    started_to: datetime | None,
    q: str | None,
    sort: str,
    limit: int,
    offset: int,
) -> incident_lists.IncidentFilters:
    return incident_lists.IncidentFilters(
        status=status or (),
        severity=severity or (),
        service=service or (),
        team=team or (),
        type=type_ or (),
        tag=tag or (),
        problem=problem,
        started_from=started_from,
        started_to=started_to,
        text=q,
        sort=sort,
        limit=limit,
        offset=offset,
    )


@router.get("/incidents", response_model=s.IncidentPage)
async def list_incidents(
    request: Request,
    status: Annotated[list[str] | None, Query()] = None,
    severity: Annotated[list[str] | None, Query()] = None,
    service: Annotated[list[str] | None, Query()] = None,
    team: Annotated[list[str] | None, Query()] = None,
    type: Annotated[list[str] | None, Query()] = None,
    tag: Annotated[list[str] | None, Query()] = None,
    problem: str | None = None,
    started_from: AwareDatetime | None = None,
    started_to: AwareDatetime | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: str = "-number",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=ROW_ID_MAX)] = 0,
) -> Response:
    """Visible incidents, newest first by default. Filters combine with AND.

    Pages are served from a per-process cache while the database is unchanged; any commit
    empties it (see `afteraction.web.readcache`)."""
    cache: ReadCache = request.app.state.read_cache
    waits = cache.detector.waits  # a query on PostgreSQL: not on the event loop
    scope = request.scope
    token = (
        await run_in_threadpool(cache.request_token, scope) if waits else cache.request_token(scope)
    )
    actor = known_actor(request, token)
    query = request.scope.get("query_string", b"").decode("latin-1")
    if actor is not None:
        body: bytes | None = cache.get(body_key(request.url.path, actor, query), token)
        if body is not None:
            return Response(body, media_type="application/json")
    filters = _filters(
        status,
        severity,
        service,
        team,
        type,
        tag,
        problem,
        started_from,
        started_to,
        q,
        sort,
        limit,
        offset,
    )
    caller, page = await run_in_threadpool(_incident_page, request, token, actor, filters)
    cache.put(body_key(request.url.path, caller, query), token, page)
    return Response(page, media_type="application/json")


def _incident_page(
    request: Request, token: str, actor: Actor | None, filters: incident_lists.IncidentFilters
) -> tuple[Actor, bytes]:
    """The caller (looked up here, in the same session, unless known) and the page as
    `IncidentPage` JSON bytes: once per cache fill, in one worker call."""
    with request.app.state.session_factory() as db:
        if actor is None:
            actor = load_actor(request, db, token)
        return actor, incident_lists.page_json(incident_lists.list_page(db, actor, filters))


@router.post("/incidents", status_code=201, response_model=s.IncidentRead)
def create_incident(body: s.IncidentCreate, db: DbSession, actor: CurrentActor) -> s.IncidentRead:
    """Declare an incident. Milestones out of order need `allow_out_of_order` (then warned)."""
    data = repo.IncidentInput(
        title=body.title,
        severity=body.severity,
        summary=body.summary,
        type=body.type,
        status=body.status,
        private=body.private,
        customer_impact=body.customer_impact,
        services=body.services,
        teams=body.teams,
        tags=body.tags,
        problem=body.problem,
        milestones=s.milestone_values(body.milestones),
        allow_out_of_order=body.allow_out_of_order,
    )
    with writing(db):
        incident, warnings = repo.declare(db, actor, data)
        return s.incident_read(incident, warnings)


@router.get("/incidents/{key}", response_model=s.IncidentRead)
def get_incident(key: IncidentKey, db: DbSession, actor: CurrentActor) -> s.IncidentRead:
    return s.incident_read(repo.get_incident(db, actor, key))


@router.patch("/incidents/{key}", response_model=s.IncidentRead)
def update_incident(
    key: IncidentKey, body: s.IncidentUpdate, db: DbSession, actor: CurrentActor
) -> s.IncidentRead:
    """Edit fields; send `version` to be told (409) when someone else edited first."""
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    with writing(db):
        incident = repo.update(db, actor, key, changes, expected_version=body.version)
        return s.incident_read(incident)


@router.post("/incidents/{key}/status", response_model=s.IncidentRead)
def change_status(
    key: IncidentKey, body: s.StatusChange, db: DbSession, actor: CurrentActor
) -> s.IncidentRead:
    """Move along the lifecycle; the matching milestone is set unless already set."""
    with writing(db):
        incident = repo.change_status(db, actor, key, body.status, at=body.at, note=body.note)
        return s.incident_read(incident)


@router.put("/incidents/{key}/milestones", response_model=s.IncidentRead)
def set_milestones(
    key: IncidentKey, body: s.MilestonesUpdate, db: DbSession, actor: CurrentActor
) -> s.IncidentRead:
    """Set milestone timestamps (null clears one); every edit is kept in the history."""
    with writing(db):
        incident, warnings = repo.set_milestones(
            db,
            actor,
            key,
            s.milestone_values(body.milestones),
            allow_out_of_order=body.allow_out_of_order,
            reason=body.reason,
        )
        return s.incident_read(incident, warnings)


@router.get("/incidents/{key}/milestones/history", response_model=s.MilestoneHistory)
def milestone_history(key: IncidentKey, db: DbSession, actor: CurrentActor) -> s.MilestoneHistory:
    incident = repo.get_incident(db, actor, key)
    edits = repo.milestone_history(db, incident)
    return s.MilestoneHistory(
        items=[s.milestone_edit_read(e) for e in edits],
        definitions=dict(MILESTONE_DEFINITIONS),
    )


@router.get("/incidents/{key}/roles", response_model=s.RoleList)
def list_roles(key: IncidentKey, db: DbSession, actor: CurrentActor) -> s.RoleList:
    incident = repo.get_incident(db, actor, key)
    return s.RoleList(items=[s.role_read(r) for r in incident_roles.roles_of(db, incident)])


@router.post("/incidents/{key}/roles", status_code=201, response_model=s.RoleRead)
def assign_role(
    key: IncidentKey, body: s.RoleCreate, db: DbSession, actor: CurrentActor
) -> s.RoleRead:
    with writing(db):
        role = incident_roles.assign_role(
            db, actor, key, role=body.role, person_id=body.person_id, start=body.start
        )
        return s.role_read(role)


@router.post("/incidents/{key}/roles/{role_id}/end", response_model=s.RoleRead)
def end_role(
    key: IncidentKey, role_id: RowId, body: s.RoleEnd, db: DbSession, actor: CurrentActor
) -> s.RoleRead:
    with writing(db):
        return s.role_read(incident_roles.end_role(db, actor, key, role_id, end=body.end))


@router.get("/incidents/{key}/updates", response_model=s.UpdateList)
def list_updates(key: IncidentKey, db: DbSession, actor: CurrentActor) -> s.UpdateList:
    incident = repo.get_incident(db, actor, key)
    return s.UpdateList(items=[s.update_read(u) for u in repo.updates_of(db, incident)])


@router.post("/incidents/{key}/updates", status_code=201, response_model=s.UpdateRead)
def post_update(
    key: IncidentKey, body: s.UpdateCreate, db: DbSession, actor: CurrentActor
) -> s.UpdateRead:
    with writing(db):
        return s.update_read(repo.post_update(db, actor, key, body=body.body, at=body.at))


def _impact_list(db: DbSession, actor: Actor, key: IncidentKey) -> s.ImpactList:
    rows = impact.impacts_of(db, repo.get_incident(db, actor, key))
    return s.ImpactList(
        items=[s.impact_read(r) for r in rows],
        impact_duration_seconds=impact.impact_duration(rows),
        definition=DEFINITIONS["impact_duration"].definition,
    )


@router.get("/incidents/{key}/impact", response_model=s.ImpactList)
def list_impact(key: IncidentKey, db: DbSession, actor: CurrentActor) -> s.ImpactList:
    """Customer-impact intervals and the incident's impact duration (overlaps once; null
    when none is recorded or one is still open)."""
    return _impact_list(db, actor, key)


@router.post("/incidents/{key}/impact", status_code=201, response_model=s.ImpactRead)
def add_impact(
    key: IncidentKey, body: s.ImpactCreate, db: DbSession, actor: CurrentActor
) -> s.ImpactRead:
    with writing(db):
        return s.impact_read(impact.add_impact(db, actor, key, **body.model_dump()))


@router.patch("/incidents/{key}/impact/{impact_id}", response_model=s.ImpactRead)
def update_impact(
    key: IncidentKey, impact_id: RowId, body: s.ImpactUpdate, db: DbSession, actor: CurrentActor
) -> s.ImpactRead:
    """Change start, end (an explicit null reopens the interval) or description."""
    with writing(db):
        row = impact.update_impact(db, actor, key, impact_id, body.model_dump(exclude_unset=True))
        return s.impact_read(row)


@router.delete("/incidents/{key}/impact/{impact_id}", response_model=s.ImpactList)
def remove_impact(
    key: IncidentKey, impact_id: RowId, db: DbSession, actor: CurrentActor
) -> s.ImpactList:
    """Remove an interval; the answer is the incident's remaining intervals."""
    with writing(db):
        impact.remove_impact(db, actor, key, impact_id)
    return _impact_list(db, actor, key)


@router.get("/incidents/{key}/action-items", response_model=s.ActionItemList)
def list_action_items(key: IncidentKey, db: DbSession, actor: CurrentActor) -> s.ActionItemList:
    incident = repo.get_incident(db, actor, key)
    items = action_items.action_items_of(db, incident)
    return s.ActionItemList(items=[s.action_item_read(i) for i in items])


@router.post("/incidents/{key}/action-items", status_code=201, response_model=s.ActionItemRead)
def add_action_item(
    key: IncidentKey, body: s.ActionItemCreate, db: DbSession, actor: CurrentActor
) -> s.ActionItemRead:
    with writing(db):
        return s.action_item_read(action_items.add_action_item(db, actor, key, **body.model_dump()))


@router.patch("/action-items/{item_id}", response_model=s.ActionItemRead)
def update_action_item(
    item_id: RowId, body: s.ActionItemUpdate, db: DbSession, actor: CurrentActor
) -> s.ActionItemRead:
    with writing(db):
        item = action_items.update_action_item(
            db, actor, item_id, body.model_dump(exclude_unset=True)
        )
        return s.action_item_read(item)


@router.get("/incidents/{key}/references", response_model=s.ReferenceList)
def list_references(key: IncidentKey, db: DbSession, actor: CurrentActor) -> s.ReferenceList:
    incident = repo.get_incident(db, actor, key)
    refs = action_items.references_of(db, incident)
    return s.ReferenceList(items=[s.reference_read(r) for r in refs])


@router.post("/incidents/{key}/references", status_code=201, response_model=s.ReferenceRead)
def add_reference(
    key: IncidentKey, body: s.ReferenceCreate, db: DbSession, actor: CurrentActor
) -> s.ReferenceRead:
    with writing(db):
        reference = action_items.add_reference(
            db, actor, key, url=body.url, kind=body.kind, title=body.title
        )
        return s.reference_read(reference)


@router.get("/incidents/{key}/activity", response_model=s.ActivityFeed)
def activity(key: IncidentKey, db: DbSession, actor: CurrentActor) -> s.ActivityFeed:
    """The incident's audit feed, newest first (interview entries only for their readers)."""
    incident = repo.get_incident(db, actor, key)
    rows = activity_feed.feed(db, actor, incident)
    return s.ActivityFeed(
        items=[
            s.ActivityItem(
                at=r.at, actor=r.actor_label, action=r.action, before=r.before, after=r.after
            )
            for r in rows
        ]
    )


@router.get("/severities", tags=["configuration"], response_model=s.SeverityList)
def severities(db: DbSession, actor: CurrentActor) -> s.SeverityList:  # noqa: ARG001
    rows = db.scalars(select(SeverityLevel).order_by(SeverityLevel.rank))
    return s.SeverityList(
        items=[s.SeverityRead(name=r.name, rank=r.rank, description=r.description) for r in rows]
    )


@router.get("/lifecycle", tags=["configuration"], response_model=s.LifecycleRead)
def lifecycle(actor: CurrentActor) -> s.LifecycleRead:  # noqa: ARG001
    lc = DEFAULT_LIFECYCLE
    return s.LifecycleRead(
        initial=lc.initial,
        statuses=list(lc.statuses),
        transitions={k: list(v) for k, v in lc.transitions.items()},
        sets_milestone=dict(lc.sets_milestone),
        milestone_definitions=dict(MILESTONE_DEFINITIONS),
    )
