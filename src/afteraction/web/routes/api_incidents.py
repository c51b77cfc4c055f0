"""REST endpoints for incidents and everything that hangs off one: status, milestones,
roles, updates, action items, references and the activity feed. Handlers stay thin and
delegate to `afteraction.services.incidents`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool

from afteraction.core.access import Actor
from afteraction.core.incidents import DEFAULT_LIFECYCLE, MILESTONE_DEFINITIONS
from afteraction.core.metrics.definitions import DEFINITIONS
from afteraction.services import impact
from afteraction.services import incidents as repo
from afteraction.storage import audit
from afteraction.storage.db import writing
from afteraction.storage.tables import SeverityLevel
from afteraction.web import schemas as s
from afteraction.web.deps import CurrentActor, DbSession, cached_actor
from afteraction.web.fastpath import body_key
from afteraction.web.readcache import ReadCache

router = APIRouter(tags=["incidents"])
IncidentKey = Annotated[str, "INC-42 or 42"]


def json_response(data: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status_code, media_type="application/json")


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
) -> repo.IncidentFilters:
    return repo.IncidentFilters(
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
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Visible incidents, newest first by default. Filters combine with AND.

    Pages are served from a per-process cache while the database is unchanged; any commit
    empties it (see `afteraction.web.readcache`)."""
    cache: ReadCache = request.app.state.read_cache
    token = cache.token()
    actor = await cached_actor(request, token)
    key = body_key(
        request.url.path, actor, request.scope.get("query_string", b"").decode("latin-1")
    )
    body: bytes | None = cache.get(key, token)
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
    body = await run_in_threadpool(_incident_page, request, actor, filters)
    cache.put(key, token, body)
    return Response(body, media_type="application/json")


def _incident_page(request: Request, actor: Actor, filters: repo.IncidentFilters) -> bytes:
    with request.app.state.session_factory() as db:
        rows, total = repo.list_incident_summaries(db, actor, filters)
    end = filters.offset + filters.limit
    return orjson.dumps(
        {
            "items": [s.incident_summary_dict(row) for row in rows],
            "total": total,
            "limit": filters.limit,
            "offset": filters.offset,
            "next_offset": end if end < total else None,
        }
    )


@router.post("/incidents", status_code=201, response_model=s.IncidentRead)
def create_incident(body: s.IncidentCreate, db: DbSession, actor: CurrentActor) -> Response:
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
        result = s.incident_dict(incident) | {"warnings": warnings}
    return json_response(result, 201)


@router.get("/incidents/{key}", response_model=s.IncidentRead)
def get_incident(key: IncidentKey, db: DbSession, actor: CurrentActor) -> Response:
    return json_response(s.incident_dict(repo.get_incident(db, actor, key)))


@router.patch("/incidents/{key}", response_model=s.IncidentRead)
def update_incident(
    key: IncidentKey, body: s.IncidentUpdate, db: DbSession, actor: CurrentActor
) -> Response:
    """Edit fields; send `version` to be told (409) when someone else edited first."""
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    with writing(db):
        incident = repo.update(db, actor, key, changes, expected_version=body.version)
        result = s.incident_dict(incident)
    return json_response(result)


@router.post("/incidents/{key}/status", response_model=s.IncidentRead)
def change_status(
    key: IncidentKey, body: s.StatusChange, db: DbSession, actor: CurrentActor
) -> Response:
    """Move along the lifecycle; the matching milestone is set unless already set."""
    with writing(db):
        incident = repo.change_status(db, actor, key, body.status, at=body.at, note=body.note)
        result = s.incident_dict(incident)
    return json_response(result)


@router.put("/incidents/{key}/milestones", response_model=s.IncidentRead)
def set_milestones(
    key: IncidentKey, body: s.MilestonesUpdate, db: DbSession, actor: CurrentActor
) -> Response:
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
        result = s.incident_dict(incident) | {"warnings": warnings}
    return json_response(result)


@router.get("/incidents/{key}/milestones/history")
def milestone_history(key: IncidentKey, db: DbSession, actor: CurrentActor) -> Response:
    incident = repo.get_incident(db, actor, key)
    edits = repo.milestone_history(db, incident)
    return json_response(
        {
            "items": [s.milestone_edit_dict(e) for e in edits],
            "definitions": dict(MILESTONE_DEFINITIONS),
        }
    )


@router.get("/incidents/{key}/roles")
def list_roles(key: IncidentKey, db: DbSession, actor: CurrentActor) -> Response:
    incident = repo.get_incident(db, actor, key)
    return json_response({"items": [s.role_dict(r) for r in repo.roles_of(db, incident)]})


@router.post("/incidents/{key}/roles", status_code=201)
def assign_role(
    key: IncidentKey, body: s.RoleCreate, db: DbSession, actor: CurrentActor
) -> Response:
    with writing(db):
        role = repo.assign_role(
            db, actor, key, role=body.role, person_id=body.person_id, start=body.start
        )
        result = s.role_dict(role)
    return json_response(result, 201)


@router.post("/incidents/{key}/roles/{role_id}/end")
def end_role(
    key: IncidentKey, role_id: int, body: s.RoleEnd, db: DbSession, actor: CurrentActor
) -> Response:
    with writing(db):
        role = repo.end_role(db, actor, key, role_id, end=body.end)
        result = s.role_dict(role)
    return json_response(result)


@router.get("/incidents/{key}/updates")
def list_updates(key: IncidentKey, db: DbSession, actor: CurrentActor) -> Response:
    incident = repo.get_incident(db, actor, key)
    return json_response({"items": [s.update_dict(u) for u in repo.updates_of(db, incident)]})


@router.post("/incidents/{key}/updates", status_code=201)
def post_update(
    key: IncidentKey, body: s.UpdateCreate, db: DbSession, actor: CurrentActor
) -> Response:
    with writing(db):
        update = repo.post_update(db, actor, key, body=body.body, at=body.at)
        result = s.update_dict(update)
    return json_response(result, 201)


def _impact_list(db: DbSession, actor: Actor, key: IncidentKey) -> dict[str, Any]:
    rows = impact.impacts_of(db, repo.get_incident(db, actor, key))
    return {
        "items": [s.impact_dict(r) for r in rows],
        "impact_duration_seconds": impact.impact_duration(rows),
        "definition": DEFINITIONS["impact_duration"].definition,
    }


@router.get("/incidents/{key}/impact")
def list_impact(key: IncidentKey, db: DbSession, actor: CurrentActor) -> Response:
    """Customer-impact intervals and the incident's impact duration (overlaps once; null
    when none is recorded or one is still open)."""
    return json_response(_impact_list(db, actor, key))


@router.post("/incidents/{key}/impact", status_code=201)
def add_impact(
    key: IncidentKey, body: s.ImpactCreate, db: DbSession, actor: CurrentActor
) -> Response:
    with writing(db):
        row = impact.add_impact(db, actor, key, **body.model_dump())
        result = s.impact_dict(row)
    return json_response(result, 201)


@router.patch("/incidents/{key}/impact/{impact_id}")
def update_impact(
    key: IncidentKey, impact_id: int, body: s.ImpactUpdate, db: DbSession, actor: CurrentActor
) -> Response:
    """Change start, end (an explicit null reopens the interval) or description."""
    with writing(db):
        row = impact.update_impact(db, actor, key, impact_id, body.model_dump(exclude_unset=True))
        result = s.impact_dict(row)
    return json_response(result)


@router.delete("/incidents/{key}/impact/{impact_id}")
def remove_impact(key: IncidentKey, impact_id: int, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        impact.remove_impact(db, actor, key, impact_id)
    return json_response(_impact_list(db, actor, key))


@router.get("/incidents/{key}/action-items")
def list_action_items(key: IncidentKey, db: DbSession, actor: CurrentActor) -> Response:
    incident = repo.get_incident(db, actor, key)
    items = repo.action_items_of(db, incident)
    return json_response({"items": [s.action_item_dict(i) for i in items]})


@router.post("/incidents/{key}/action-items", status_code=201)
def add_action_item(
    key: IncidentKey, body: s.ActionItemCreate, db: DbSession, actor: CurrentActor
) -> Response:
    with writing(db):
        item = repo.add_action_item(db, actor, key, **body.model_dump())
        result = s.action_item_dict(item)
    return json_response(result, 201)


@router.patch("/action-items/{item_id}")
def update_action_item(
    item_id: int, body: s.ActionItemUpdate, db: DbSession, actor: CurrentActor
) -> Response:
    with writing(db):
        item = repo.update_action_item(db, actor, item_id, body.model_dump(exclude_unset=True))
        result = s.action_item_dict(item)
    return json_response(result)


@router.get("/incidents/{key}/references")
def list_references(key: IncidentKey, db: DbSession, actor: CurrentActor) -> Response:
    incident = repo.get_incident(db, actor, key)
    refs = repo.references_of(db, incident)
    return json_response({"items": [s.reference_dict(r) for r in refs]})


@router.post("/incidents/{key}/references", status_code=201)
def add_reference(
    key: IncidentKey, body: s.ReferenceCreate, db: DbSession, actor: CurrentActor
) -> Response:
    with writing(db):
        reference = repo.add_reference(
            db, actor, key, url=body.url, kind=body.kind, title=body.title
        )
        result = s.reference_dict(reference)
    return json_response(result, 201)


@router.get("/incidents/{key}/activity")
def activity(key: IncidentKey, db: DbSession, actor: CurrentActor) -> Response:
    """The incident's audit feed, newest first."""
    incident = repo.get_incident(db, actor, key)
    rows = audit.incident_feed(db, incident.id)
    return json_response(
        {
            "items": [
                {
                    "at": r.at.isoformat(),
                    "actor": r.actor_label,
                    "action": r.action,
                    "before": r.before,
                    "after": r.after,
                }
                for r in rows
            ]
        }
    )


@router.get("/severities", tags=["configuration"])
def severities(db: DbSession, actor: CurrentActor) -> Response:  # noqa: ARG001
    from sqlalchemy import select

    rows = db.scalars(select(SeverityLevel).order_by(SeverityLevel.rank))
    return json_response(
        {"items": [{"name": r.name, "rank": r.rank, "description": r.description} for r in rows]}
    )


@router.get("/lifecycle", tags=["configuration"])
def lifecycle(actor: CurrentActor) -> Response:  # noqa: ARG001
    lc = DEFAULT_LIFECYCLE
    return json_response(
        {
            "initial": lc.initial,
            "statuses": list(lc.statuses),
            "transitions": {k: list(v) for k, v in lc.transitions.items()},
            "sets_milestone": dict(lc.sets_milestone),
            "milestone_definitions": dict(MILESTONE_DEFINITIONS),
        }
    )
