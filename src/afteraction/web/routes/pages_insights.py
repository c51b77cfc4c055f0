"""Insight pages: the dashboard, on-call load, knowledge silos, response cost, SLOs, SLAs,
global search and the similar-incidents panel. Every table also downloads as CSV or JSON
(`?format=csv|json`). Filters that match nothing give an empty state; bad filters (an
inverted range, an unknown service) re-render the page with the message (422).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from afteraction.core import metrics as m
from afteraction.core.access import Actor
from afteraction.core.errors import Conflict, ValidationError
from afteraction.core.incidents import INCIDENT_TYPES, MILESTONES
from afteraction.core.metrics import InsightFilters
from afteraction.services import insights as ins
from afteraction.services import search as finder
from afteraction.services import service_levels as levels
from afteraction.services import users
from afteraction.storage import insight_queries
from afteraction.storage.db import writing
from afteraction.web import insight_charts
from afteraction.web import insights as view
from afteraction.web.deps import CurrentUser, DbSession, queue_of
from afteraction.web.routes.pages_forms import see_other
from afteraction.web.routes.pages_incidents import FormDep, incident_key
from afteraction.web.schemas.common import RowId
from afteraction.web.similarity import request_embed
from afteraction.web.templating import render
from afteraction.web.uploads import UploadDep

router = APIRouter(include_in_schema=False)
Rows = list[dict[str, Any]]


@dataclass(slots=True)
class InsightPage:
    """What every filtered insight page shows: the filter form (values, choices, path), the
    error of a bad filter, definitions, and the page's tables (also its CSV/JSON exports)."""

    values: dict[str, Any]
    choices: dict[str, Any]
    path: str
    definitions: Any
    metrics: Any
    human: Callable[[float | None], str]
    error: str | None = None
    filters: InsightFilters | None = None
    tables: Mapping[str, Rows] = field(default_factory=dict)
    default_table: str = ""


@dataclass(slots=True)
class DashboardPage(InsightPage):
    d: ins.Dashboard | None = None
    summaries: list[dict[str, Any]] = field(default_factory=list)
    list_url: Callable[..., str] | None = None


@dataclass(slots=True)
class ChartsPage(InsightPage):
    d: ins.Dashboard | None = None
    charts: list[tuple[str, str, Any, str]] = field(default_factory=list)
    single: bool = False


@dataclass(slots=True)
class OnCallPage(InsightPage):
    report: ins.OnCallReport | None = None
    heatmaps: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class SilosPage(InsightPage):
    report: ins.SiloReport | None = None


@dataclass(slots=True)
class ResponsePage(InsightPage):
    report: ins.ResponseReport | None = None


@dataclass(slots=True)
class SLOsPage(InsightPage):
    statuses: list[levels.SLOStatus] | None = None
    notes: list[Any] = field(default_factory=list)
    can_write: bool = False


BREACHES_SHOWN = 100
"""Per SLA, the page lists its newest breaches; the CSV and JSON exports list them all."""


@dataclass(slots=True)
class SLAsPage(InsightPage):
    results: list[tuple[Any, m.SLAResult]] | None = None
    breaches: list[dict[str, Any]] | None = None
    can_write: bool = False

    def breach_count(self) -> int:
        return sum(len(r.breached) for _, r in self.results or ())


@dataclass(slots=True)
class SearchPage:
    q: str
    kinds: list[tuple[str, str]]
    results: finder.SearchResults | None = None
    error: str | None = None


def export(rows: Rows, fmt: str, name: str) -> Response | None:
    """A CSV or JSON download of `rows` when `fmt` asks for one, else None."""
    if fmt == "csv":
        return Response(
            view.to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt == "json":
        return Response(orjson.dumps(rows, default=str), media_type="application/json")
    if fmt:
        raise ValidationError(f"format must be csv or json, not {fmt!r}", field="format")
    return None


def _choices(db: Any) -> dict[str, Any]:
    return {
        **insight_queries.filter_names(db),
        "types": INCIDENT_TYPES,
        "metrics": [(k, m.METRICS[k].label) for k in ins.DASHBOARD_METRICS],
        "milestones": MILESTONES,
    }


def _page(
    request: Request,
    db: Any,
    user: Any,
    template: str,
    build: Callable[[Any, InsightFilters], dict[str, Any]],
    page: type[InsightPage],
) -> Response:
    """Read filters, build the page's context (or its export), render errors as 422."""
    actor = users.actor_for(user)
    context: dict[str, Any] = {
        "values": view.filter_values(request.query_params),
        "choices": _choices(db),
        "error": None,
        "path": request.url.path,
        "definitions": m.DEFINITIONS,
        "metrics": m.METRICS,
        "human": view.human,
    }
    fmt = request.query_params.get("format", "")
    try:
        filters = view.filters_from(request.query_params)
        context["filters"] = filters
        context.update(build(actor, filters))
        table = request.query_params.get("table") or context.get("default_table", "")
        if fmt:
            exported = export(context["tables"][table], fmt, table or "export")
            if exported is not None:
                return exported
    except (ValidationError, KeyError) as error:
        if fmt:
            raise ValidationError(
                getattr(error, "message", f"unknown table {error}"), field="table"
            ) from error
        context["error"] = getattr(error, "message", str(error))
        return render(request, template, {"page": page(**context)}, user=user, status_code=422)
    return render(request, template, {"page": page(**context)}, user=user)


def _dashboard_figures(
    db: Any, actor: Any, filters: InsightFilters, metric: str, with_mean: bool
) -> dict[str, Any]:
    d = ins.dashboard(db, actor, filters, metric=metric, with_mean=with_mean)
    summaries = d.summaries()
    return {
        "d": d,
        "summaries": summaries,
        "list_url": lambda **kw: view.list_url(filters, **kw),
        "tables": {"metrics": view.metric_rows([*summaries, d.impact])},
        "default_table": "metrics",
    }


def _metric_choice(request: Request) -> tuple[str, bool]:
    metric = request.query_params.get("metric") or "time_to_resolve"
    return metric, request.query_params.get("mean") in ("1", "true", "yes")


@router.get("/insights")
def insights_page(request: Request, db: DbSession, user: CurrentUser) -> Response:
    """The figures; the charts follow from /insights/charts (loaded by the page), so the
    page does not wait for chart drawing."""
    metric, with_mean = _metric_choice(request)

    def build(actor: Any, filters: InsightFilters) -> dict[str, Any]:
        return view.cached_read(
            request, actor, lambda: _dashboard_figures(db, actor, filters, metric, with_mean)
        )

    return _page(request, db, user, "insights.html", build, DashboardPage)


@router.get("/insights/charts")
def insights_charts(request: Request, db: DbSession, user: CurrentUser) -> Response:
    """The dashboard's charts for the same query string as /insights: as a page, or when
    htmx asks, as out-of-band fragments (each replaces its placeholder on the page). With
    `chart=<element id>` only that chart, as the fragment replacing its placeholder: the
    page asks for each chart as it scrolls into view, so each request draws one chart
    (about 0.1 s with vl-convert) instead of all ten. The figures come from the read cache
    when /insights computed them."""
    metric, with_mean = _metric_choice(request)
    only = request.query_params.get("chart") or None

    def build(actor: Any, filters: InsightFilters) -> dict[str, Any]:
        def charts() -> dict[str, Any]:
            figures = view.cached_read(
                request, actor, lambda: _dashboard_figures(db, actor, filters, metric, with_mean),
                path="/insights", ignore=("chart",),
            )  # fmt: skip
            d = figures["d"]
            drawn = insight_charts.dashboard_charts(d, only) if d.measured or only else []
            return {"d": d, "charts": drawn, "single": only is not None}

        return view.cached_read(request, actor, charts)

    if request.headers.get("HX-Request") == "true":
        actor = users.actor_for(user)
        try:
            context = build(actor, view.filters_from(request.query_params))
        except ValidationError as error:
            return render(request, "_insights_charts.html", {"charts": [], "error": error.message},
                          user=user, status_code=422)  # fmt: skip
        return render(request, "_insights_charts.html", context, user=user)
    return _page(request, db, user, "insights_charts.html", build, ChartsPage)


@router.get("/insights/oncall")
def oncall_page(request: Request, db: DbSession, user: CurrentUser) -> Response:
    def build(actor: Any, filters: InsightFilters) -> dict[str, Any]:
        thresholds = thresholds_from(request.query_params)
        report = ins.oncall(db, actor, filters, thresholds)
        return {
            "report": report,
            "heatmaps": {k: insight_charts.heatmap_chart(v) for k, v in report.people.items()},
            "tables": {
                "people": view.oncall_rows(report),
                "teams": view.oncall_rows(report, teams=True),
                "warnings": view.warning_rows(report),
                "involvements": view.involvement_rows(report),
            },
            "default_table": "people",
        }

    return _page(request, db, user, "insights_oncall.html", build, OnCallPage)


def thresholds_from(params: Any) -> m.Thresholds:
    """Fatigue thresholds from `th_<name>` query parameters (whole numbers ≥ 0)."""
    values: dict[str, int] = {}
    for name in m.Thresholds.__dataclass_fields__:
        raw = params.get(f"th_{name}")
        if raw in (None, ""):
            continue
        if not str(raw).isdigit():
            raise ValidationError(f"threshold {name} must be a whole number ≥ 0", field=name)
        values[name] = int(raw)
    return m.Thresholds(**values)


@router.get("/insights/silos")
def silos_page(request: Request, db: DbSession, user: CurrentUser) -> Response:
    def build(actor: Any, filters: InsightFilters) -> dict[str, Any]:
        report = ins.silos(db, actor, filters)
        return {
            "report": report,
            "tables": {
                "services": view.silo_rows(report),
                "helpers": view.helper_rows(report),
                "former": view.former_rows(report),
            },
            "default_table": "services",
        }

    return _page(request, db, user, "insights_silos.html", build, SilosPage)


@router.get("/insights/response")
def response_page(request: Request, db: DbSession, user: CurrentUser) -> Response:
    def build(actor: Any, filters: InsightFilters) -> dict[str, Any]:
        report = ins.response(db, actor, filters)
        return {
            "report": report,
            "tables": {
                "incidents": view.response_rows(report),
                "person_time": view.person_time_rows(report),
            },
            "default_table": "incidents",
        }

    return _page(request, db, user, "insights_response.html", build, ResponsePage)


# -- SLOs and SLAs -----------------------------------------------------------------------------


@router.get("/slos")
def slos_page(request: Request, db: DbSession, user: CurrentUser) -> Response:
    def build(actor: Any, _filters: InsightFilters) -> dict[str, Any]:
        service = request.query_params.get("service") or None
        statuses = [levels.slo_status(db, actor, row.id) for row in levels.list_slos(db, service)]
        return {
            "statuses": statuses,
            "notes": levels.notifications(db, limit=20),
            "tables": {"slos": [view.slo_row(s) for s in statuses]},
            "default_table": "slos",
            "can_write": actor.role != "viewer",
        }

    return _page(request, db, user, "slos.html", build, SLOsPage)


@router.post("/slos")
def create_slo_form(request: Request, db: DbSession, user: CurrentUser, form: FormDep) -> Response:
    actor = users.actor_for(user)
    try:
        data = levels.SLOInput(
            service=form.text("service", limit=80, required=True),
            name=form.text("name", limit=200, required=True),
            objective=_number(form.text("objective", limit=20), "objective") / 100,
            window_days=int(_number(form.text("window_days", limit=4) or "30", "window_days")),
            kind=form.text("kind", limit=20) or "availability",
            latency_threshold_ms=_optional(form.text("latency_threshold_ms", limit=20)),
        )
        with writing(db):
            levels.create_slo(db, actor, data)
    except (ValidationError, Conflict) as error:  # a refusal is a 403/404 page
        return see_other(request, "/slos", f"SLO not saved: {error.message}")
    return see_other(request, "/slos", "SLO saved")


@router.post("/slos/{slo_id}/counts")
async def upload_counts_form(
    request: Request, slo_id: RowId, db: DbSession, sent: UploadDep
) -> Response:
    """Import a counts CSV from the SLO page; the caller and their right to import are
    checked before the body is read (`afteraction.web.uploads`)."""
    upload = sent.form.get("file")
    text = ""
    if upload is not None and hasattr(upload, "read"):
        text = (await upload.read()).decode("utf-8-sig", errors="replace")
    try:
        rows = levels.parse_counts_csv(text)
        written = await run_in_threadpool(write_counts, request, db, sent.actor, slo_id, rows, 2)
    except (ValidationError, Conflict) as error:  # a refusal is a 403/404 page
        return see_other(request, "/slos", f"Counts not imported: {error.message}")
    return see_other(request, "/slos", f"Imported {written} count rows")


def write_counts(
    request: Request, db: Session, actor: Actor, slo_id: RowId, rows: Any, first_row: int
) -> int:
    """Store checked count rows, then queue the SLO's burn check; returns how many were
    written (database work: async routes call it in the thread pool)."""
    with writing(db):
        written = levels.add_counts(db, actor, slo_id, rows, first_row=first_row)
    enqueue_burn_check(request, slo_id)
    return written


def enqueue_burn_check(request: Request, slo_id: RowId) -> None:
    """Ask the job queue to check the SLO's burn rates (recording any alert)."""
    queue_of(request).enqueue("slo_burn_check", slo_id)


def _number(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValidationError(f"{name} must be a number, not {value!r}", field=name) from None


def _optional(value: str) -> float | None:
    return _number(value, "latency_threshold_ms") if value else None


@router.get("/slas")
def slas_page(request: Request, db: DbSession, user: CurrentUser) -> Response:
    def build(actor: Any, filters: InsightFilters) -> dict[str, Any]:
        def compliance() -> dict[str, Any]:
            results = ins.sla_results(db, actor, filters)
            breaches = view.breach_rows(results, newest=BREACHES_SHOWN)
            return {"results": results, "breaches": breaches}

        figures = view.cached_read(request, actor, compliance, ignore=("format", "table"))
        results = figures["results"]
        return {
            **figures,
            "tables": view.LazyTables(
                slas=lambda: view.sla_rows(results), breaches=lambda: view.breach_rows(results)
            ),  # fmt: skip
            "default_table": "slas",
            "can_write": actor.role != "viewer",
        }

    return _page(request, db, user, "slas.html", build, SLAsPage)


@router.post("/slas")
def create_sla_form(request: Request, db: DbSession, user: CurrentUser, form: FormDep) -> Response:
    actor = users.actor_for(user)
    try:
        data = levels.SLAInput(
            name=form.text("name", limit=200, required=True),
            milestone=form.text("milestone", limit=20, required=True),
            within_seconds=round(_number(form.text("within_minutes", limit=12), "within") * 60),
            severity=form.text("severity", limit=20) or None,
            tier=form.text("tier", limit=80) or None,
            measured_from=form.text("measured_from", limit=20) or "started",
        )
        with writing(db):
            levels.create_sla(db, actor, data)
    except (ValidationError, Conflict) as error:  # a refusal is a 403/404 page
        return see_other(request, "/slas", f"SLA not saved: {error.message}")
    return see_other(request, "/slas", "SLA saved")


# -- search and similar incidents ----------------------------------------------------------------


@router.get("/search")
def search_page(request: Request, db: DbSession, user: CurrentUser) -> Response:
    actor = users.actor_for(user)
    q = (request.query_params.get("q") or "").strip()
    kinds = tuple(request.query_params.getlist("kind")) or None
    page = SearchPage(q=q, kinds=finder.kinds())
    try:
        if q:
            page.results = finder.search(db, actor, q, kinds=kinds, limit=20)
            fmt = request.query_params.get("format", "")
            exported = export([h.as_dict() for h in page.results.hits], fmt, "search")
            if exported is not None:
                return exported
    except ValidationError as error:
        page.error = error.message
        return render(request, "search.html", {"page": page}, user=user, status_code=422)
    return render(request, "search.html", {"page": page}, user=user)


@router.get("/incidents/{key}/similar")
def similar_panel(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    actor = users.actor_for(user)
    embed = request_embed(request)
    incident, similar = finder.similar_to(db, actor, incident_key(key), 5, embed=embed)
    return render(request, "_similar.html",
                  {"similar": similar, "incident": incident, "semantic": embed is not None},
                  user=user)  # fmt: skip


__all__ = [
    "DashboardPage",
    "InsightPage",
    "OnCallPage",
    "ResponsePage",
    "SLAsPage",
    "SLOsPage",
    "SearchPage",
    "SilosPage",
    "export",
    "router",
    "thresholds_from",
]
