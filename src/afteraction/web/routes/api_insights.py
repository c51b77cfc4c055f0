"""REST endpoints for reliability insights: metrics, on-call load, silos, response cost,
SLOs (with count import), SLAs (with compliance), search and similar incidents.

Filters are query parameters (see `afteraction.web.insights.filters_from`). Every table is
JSON by default and CSV with `?format=csv`; lists are paginated with `limit` and `offset`
and return `total` and `next_offset`. Handlers stay thin: storage and core do the work.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from afteraction.core.errors import ValidationError
from afteraction.services import insights as ins
from afteraction.services import search as finder
from afteraction.services import service_levels as levels
from afteraction.storage.db import writing
from afteraction.web import insights as view
from afteraction.web import schemas as s
from afteraction.web.deps import CurrentActor, DbSession
from afteraction.web.routes.pages_incidents import incident_key
from afteraction.web.routes.pages_insights import export, thresholds_from, write_counts
from afteraction.web.schemas.common import ROW_ID_MAX, RowId
from afteraction.web.similarity import request_embed
from afteraction.web.uploads import CallerDep, read_body, read_form

router = APIRouter(tags=["insights"])
Limit = Annotated[int, Query(ge=1, le=1000)]
OnCallGroup = Annotated[str, Query(pattern="^(people|teams|warnings|involvements)$")]
Offset = Annotated[int, Query(ge=0, le=ROW_ID_MAX)]
Format = Annotated[str, Query(pattern="^(json|csv)$")]


def _json(data: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(data, default=str), status_code=status_code,
                    media_type="application/json")  # fmt: skip


def table(
    rows: list[dict[str, Any]], fmt: str, name: str, limit: int, offset: int
) -> Response | s.TablePage:
    """One page of `rows` ({items, total, next_offset}, validated as the route's response
    model) or all of them as CSV."""
    if fmt == "csv":
        exported = export(rows, "csv", name)
        assert exported is not None
        return exported
    items = rows[offset : offset + limit]
    following = offset + limit if offset + limit < len(rows) else None
    return s.TablePage(items=items, total=len(rows), next_offset=following)


@router.get("/insights/metrics", response_model=s.MetricsRead, responses=s.CSV)
def metrics(request: Request, db: DbSession, actor: CurrentActor, format: Format = "json",
            mean: bool = False) -> Response:  # fmt: skip
    """Per metric: definition, count, count missing, median, p90, max (seconds), per severity;
    `impact` gives the same for the impact duration (sum of customer-impact intervals).

    Filters: since, until, severity, service, team, type, tag, problem, include_excluded.
    Served from the read cache while the database is unchanged (any commit empties it).
    """

    def compute() -> Response:
        filters = view.filters_from(request.query_params)
        figures = ins.dashboard_metrics(db, actor, filters, with_mean=mean)
        summaries = figures.summaries
        if format == "csv":
            exported = export(view.metric_rows([*summaries, figures.impact]), "csv", "metrics")
            assert exported is not None
            return exported
        read = s.MetricsRead(incidents=figures.measured,
                             excluded_by_type=dict(figures.excluded_by_type),
                             metrics=summaries, impact=figures.impact)  # fmt: skip
        return _json(read.model_dump())

    body, media_type, headers = view.cached_read(request, actor, lambda: _frozen(compute()))
    return Response(body, media_type=media_type, headers=headers)


def _frozen(response: Response) -> tuple[bytes, str | None, dict[str, str]]:
    """What a cached response needs: body, media type and the download name, if any."""
    disposition = response.headers.get("content-disposition")
    return (
        bytes(response.body),
        response.media_type,
        ({"Content-Disposition": disposition} if disposition else {}),
    )


@router.get("/insights/oncall", response_model=s.TablePage, responses=s.CSV)
def oncall(request: Request, db: DbSession, actor: CurrentActor, format: Format = "json",
           group: OnCallGroup = "people",
           limit: Limit = 100, offset: Offset = 0) -> Response | s.TablePage:  # fmt: skip
    """On-call load per person (or team), fatigue warnings (thresholds: th_<name>), or each
    person's first involvement in each incident of the window (`group=involvements`)."""
    report = ins.oncall(db, actor, view.filters_from(request.query_params),
                        thresholds_from(request.query_params))  # fmt: skip
    rows = {
        "people": view.oncall_rows(report),
        "teams": view.oncall_rows(report, teams=True),
        "warnings": view.warning_rows(report),
        "involvements": view.involvement_rows(report),
    }[group]
    return table(rows, format, f"oncall-{group}", limit, offset)


@router.get("/insights/silos", response_model=s.TablePage, responses=s.CSV)
def silos(request: Request, db: DbSession, actor: CurrentActor, format: Format = "json",
          group: Annotated[str, Query(pattern="^(services|helpers|former)$")] = "services",
          limit: Limit = 100, offset: Offset = 0) -> Response | s.TablePage:  # fmt: skip
    """Knowledge-silo signals per service: a systems signal, never a performance score."""
    report = ins.silos(db, actor, view.filters_from(request.query_params))
    rows = {"services": view.silo_rows, "helpers": view.helper_rows,
            "former": view.former_rows}[group](report)  # fmt: skip
    return table(rows, format, f"silos-{group}", limit, offset)


@router.get("/insights/response", response_model=s.TablePage, responses=s.CSV)
def response(request: Request, db: DbSession, actor: CurrentActor, format: Format = "json",
             limit: Limit = 100, offset: Offset = 0) -> Response | s.TablePage:  # fmt: skip
    """People, teams, services, handoffs and person-hours per incident."""
    report = ins.response(db, actor, view.filters_from(request.query_params))
    return table(view.response_rows(report), format, "response", limit, offset)


# -- SLOs ------------------------------------------------------------------------------------


class SLOBody(BaseModel):
    service: str = Field(max_length=80)
    name: str = Field(max_length=200)
    objective: float = Field(description="e.g. 0.999")
    window_days: int = 30
    kind: str = "availability"
    latency_threshold_ms: float | None = None
    description: str = Field(default="", max_length=5000)


@router.get("/slos", response_model=s.TablePage, responses=s.CSV)
def list_slos(db: DbSession, actor: CurrentActor, service: str | None = None,
              format: Format = "json", limit: Limit = 100,
              offset: Offset = 0) -> Response | s.TablePage:  # fmt: skip
    rows = [view.slo_row(levels.slo_status(db, actor, r.id)) for r in levels.list_slos(db, service)]
    return table(rows, format, "slos", limit, offset)


@router.post("/slos", status_code=201, response_model=s.SLORead)
def create_slo(body: SLOBody, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    with writing(db):
        row = levels.create_slo(db, actor, levels.SLOInput(**body.model_dump()))
        return levels.slo_snapshot(row)


@router.get("/slos/{slo_id}", response_model=s.SLODetail)
def get_slo(slo_id: RowId, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """The SLO with its budget, burn rates (1h/6h/3d...), alerts and budget per incident."""
    status = levels.slo_status(db, actor, slo_id)
    data = view.slo_row(status)
    data["incidents"] = [
        {"incident": b.public_id, "end_milestone": b.end_milestone, "budget_consumed": b.fraction}
        for b in status.incidents
    ]
    return data


@router.delete("/slos/{slo_id}", status_code=204, responses=s.NO_CONTENT)
def delete_slo(slo_id: RowId, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        levels.delete_slo(db, actor, slo_id)
    return Response(status_code=204)


@router.post(
    "/slos/{slo_id}/counts",
    status_code=201,
    response_model=s.CountsWritten,
    responses=s.TOO_LARGE,
    openapi_extra=s.COUNTS_BODY,
)
async def add_counts(
    slo_id: RowId, request: Request, db: DbSession, caller: CallerDep
) -> s.CountsWritten:
    """Good/total counts as JSON (`{"rows": [{"at", "good", "total"}]}` or a list) or as a
    CSV body / `file` upload with the header at,good,total. Every row is checked first; a
    bad row is refused with its number and nothing is written. The caller and their right
    to import are checked before the body is read."""
    content_type = request.headers.get("content-type", "")
    first_row = 1
    if content_type.startswith("multipart/form-data"):
        form = await read_form(request, caller)
        try:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise ValidationError("attach the CSV as the 'file' field", field="file")
            rows: Any = levels.parse_counts_csv(await upload.read())
        finally:
            await form.close()
        first_row = 2
    elif content_type.startswith("text/csv"):
        rows = levels.parse_counts_csv(await read_body(request, caller))
        first_row = 2
    else:
        try:
            payload = orjson.loads(await read_body(request, caller))
        except orjson.JSONDecodeError:
            raise ValidationError("the body is not valid JSON", field="rows") from None
        rows = payload.get("rows") if isinstance(payload, dict) else payload
        if not isinstance(rows, list):
            raise ValidationError("send a list of rows (or {'rows': [...]})", field="rows")
    written = await run_in_threadpool(
        write_counts, request, db, caller.actor, slo_id, rows, first_row
    )
    return s.CountsWritten(written=written)


# -- SLAs ------------------------------------------------------------------------------------


class SLABody(BaseModel):
    name: str = Field(max_length=200)
    milestone: str
    within_seconds: int
    severity: str | None = None
    tier: str | None = None
    measured_from: str = "started"


@router.get("/slas", response_model=s.TablePage, responses=s.CSV)
def list_slas(request: Request, db: DbSession, actor: CurrentActor, format: Format = "json",
              limit: Limit = 100, offset: Offset = 0) -> Response | s.TablePage:  # fmt: skip
    """Every SLA with its compliance over the incidents matching the filters."""
    results = ins.sla_results(db, actor, view.filters_from(request.query_params))
    return table(view.sla_rows(results), format, "slas", limit, offset)


@router.post("/slas", status_code=201, response_model=s.SLARead)
def create_sla(body: SLABody, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    with writing(db):
        row = levels.create_sla(db, actor, levels.SLAInput(**body.model_dump()))
        return levels.sla_snapshot(row)


@router.get("/slas/{sla_id}", response_model=s.SLADetail)
def get_sla(sla_id: RowId, request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """The SLA, its compliance rate and the breaches (incidents that missed the target)."""
    row = levels.get_sla(db, sla_id)
    results = ins.sla_results(db, actor, view.filters_from(request.query_params), [row])
    data = view.sla_rows(results)[0]
    data["breaches"] = view.breach_rows(results)
    data["missing"] = list(results[0][1].missing)
    return data


@router.delete("/slas/{sla_id}", status_code=204, responses=s.NO_CONTENT)
def delete_sla(sla_id: RowId, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        levels.delete_sla(db, actor, sla_id)
    return Response(status_code=204)


@router.get("/slas/{sla_id}/breaches", response_model=s.TablePage, responses=s.CSV)
def sla_breaches(sla_id: RowId, request: Request, db: DbSession, actor: CurrentActor,
                 format: Format = "json", limit: Limit = 100,
                 offset: Offset = 0) -> Response | s.TablePage:  # fmt: skip
    row = levels.get_sla(db, sla_id)
    results = ins.sla_results(db, actor, view.filters_from(request.query_params), [row])
    return table(view.breach_rows(results), format, "sla-breaches", limit, offset)


# -- search ----------------------------------------------------------------------------------


@router.get("/search", response_model=s.TablePage, responses=s.CSV)
def search(db: DbSession, actor: CurrentActor, q: Annotated[str, Query(max_length=200)],
           kind: Annotated[list[str] | None, Query()] = None, format: Format = "json",
           limit: Annotated[int, Query(ge=1, le=100)] = 20) -> Response | s.TablePage:  # fmt: skip
    """Incidents, messages and action items matching every word of `q` that you may see."""
    found = finder.search(db, actor, q, kinds=kind, limit=limit)
    rows = [h.as_dict() for h in found.hits]
    return table(rows, format, "search", max(len(rows), 1), 0)


@router.get("/incidents/{key}/similar", response_model=s.SimilarList)
def similar(key: str, request: Request, db: DbSession, actor: CurrentActor,
            limit: Annotated[int, Query(ge=1, le=50)] = 5) -> dict[str, Any]:  # fmt: skip
    """Past incidents most like this one: shared words in title, summary and report, shared
    services and tags; also by meaning when semantic ranking is on (`ranking` says which;
    `semantic` is each incident's cosine similarity of meaning, or null)."""
    embed = request_embed(request)
    _, found = finder.similar_to(db, actor, incident_key(key), limit, embed=embed)
    return {"ranking": "lexical" if embed is None else "lexical+semantic", "items": [
        {"incident": x.public_id, "title": x.title, "severity": x.severity,
         "started": x.started, "score": x.score, "shared": list(x.shared),
         "semantic": x.semantic}
        for x in found
    ]}  # fmt: skip


__all__ = ["router"]
