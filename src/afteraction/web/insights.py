"""What the insight pages and API share: reading filters from a query string, turning
reports into flat table rows (for HTML, CSV and JSON alike), and the charts.

Charts are Vega-Lite specs written as plain JSON (the same specs Altair would build, without
importing Altair) and rendered to SVG by vl-convert in-process
(no browser, no network: data is inline and no base URL is allowed). Every mark that stands
for incidents carries an `href` to the incident list filtered to exactly those incidents.
Distributions are drawn from at most `STRIP_POINTS` evenly spaced order statistics per
group, so a chart stays small however many incidents it summarises; the figures beside it
are computed from every value. Must not live here: queries (storage) or maths (core).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlencode

from markupsafe import Markup

from afteraction.core import metrics as m
from afteraction.core.access import Actor
from afteraction.core.errors import ValidationError
from afteraction.core.incidents import format_duration
from afteraction.storage import insights as ins

STRIP_POINTS = 120
T = TypeVar("T")
_BASE_URL = re.compile(r'xlink:href="https://vega\.github\.io/vega-datasets/+')


# -- cached reads ----------------------------------------------------------------------------


def cached_read(
    request: Any, actor: Actor, compute: Callable[[], T], *, path: str | None = None,
    ignore: Sequence[str] = (),
) -> T:  # fmt: skip
    """`compute()` once per route path (or `path`, to share a result between routes),
    visibility of `actor` and exact query string (less the parameters named in `ignore`)
    while the database is unchanged (the app's `ReadCache`: any commit empties it). The
    token is read before computing, so a commit during the computation is never hidden."""
    from afteraction.web.fastpath import body_key

    cache = request.app.state.read_cache
    token = cache.token()
    query = request.scope.get("query_string", b"").decode("latin-1")
    if ignore:
        query = "&".join(part for part in query.split("&") if part.split("=", 1)[0] not in ignore)
    key = body_key(path or request.url.path, actor, query)
    found: T | None = cache.get(key, token)
    if found is None:
        found = compute()
        cache.put(key, token, found)
    return found


# -- filters ---------------------------------------------------------------------------------


def _values(params: Any, name: str) -> tuple[str, ...]:
    getter = getattr(params, "getlist", None)
    raw = getter(name) if getter else ([params[name]] if params.get(name) else [])
    return tuple(str(v).strip() for v in raw if v is not None and str(v).strip())


def _moment(value: str, name: str, *, end: bool) -> datetime | None:
    """A date (whole day; an end date is inclusive) or an ISO date-time with an offset."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            day = day + timedelta(days=1) if end else day
            return datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"{name} must be a date like 2026-01-31 or a date-time with an offset, not {value!r}",
            field=name,
        ) from None
    if moment.utcoffset() is None:
        raise ValidationError(f"{name} needs a time zone offset", field=name)
    return moment


def filters_from(params: Any) -> ins.InsightFilters:
    """InsightFilters from query parameters: since, until (dates inclusive, or date-times),
    severity, service, team, type, tag (repeatable), problem, include_excluded / tz."""

    def first(name: str) -> str:
        return (_values(params, name) or ("",))[0]

    return ins.InsightFilters(
        since=_moment(first("since"), "since", end=False),
        until=_moment(first("until"), "until", end=True),
        severity=tuple(s.upper() for s in _values(params, "severity")),
        service=_values(params, "service"),
        team=_values(params, "team"),
        type=_values(params, "type"),
        tag=_values(params, "tag"),
        problem=first("problem") or None,
        include_excluded=first("include_excluded").lower() in ("1", "true", "yes", "on"),
        tz=first("tz") or "UTC",
    )


def filter_values(params: Any) -> dict[str, Any]:
    """The raw filter values, to put back in the form."""
    names = ("since", "until", "problem", "include_excluded", "tz", "metric", "mean")
    out: dict[str, Any] = {n: (_values(params, n) or ("",))[0] for n in names}
    for name in ("severity", "service", "team", "type", "tag"):
        out[name] = list(_values(params, name))
    return out


def list_url(filters: ins.InsightFilters, **narrow: Any) -> str:
    return "/incidents?" + urlencode(filters.incident_query(**narrow))


# -- table rows ------------------------------------------------------------------------------


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 3)


def human(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return format_duration(timedelta(seconds=round(seconds)))


def metric_rows(summaries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per metric and severity ("all" first): the flat export of the dashboard."""
    rows = []
    for item in summaries:
        groups = [("all", item), *item["by_severity"].items()]
        for severity, d in groups:
            row = {
                "metric": item["metric"],
                "severity": severity,
                "definition": item["definition"],
                "count": d["count"],
                "count_missing": d["count_missing"],
                "median_seconds": d["median"],
                "p90_seconds": d["p90"],
                "max_seconds": d["max"],
                "small_sample": d["small_sample"],
            }
            if "mean" in d:
                row["mean_seconds"] = d["mean"]
            rows.append(row)
    return rows


def oncall_rows(report: ins.OnCallReport, *, teams: bool = False) -> list[dict[str, Any]]:
    loads = report.teams if teams else report.people
    rows = []
    for key, load in loads.items():
        rows.append(
            {
                ("team" if teams else "person"): key if teams else report.names.get(key, key),
                "person_id": None if teams else key,
                "pages": load.pages,
                "pages_per_week": round(load.pages_per_week, 2),
                "off_hours_pages": load.off_hours,
                "night_pages": load.night,
                "unknown_time_zone": load.unknown_time_zone,
                "longest_run": load.longest_run,
                "busiest_12h": load.busiest_12h,
                "worked_off_call": len(load.off_call.off_call),
                "worked_on_call": len(load.off_call.on_call),
                "worked_unknown": len(load.off_call.unknown),
            }
        )
    return rows


def warning_rows(report: ins.OnCallReport) -> list[dict[str, Any]]:
    return [
        {"person": report.names.get(w.key, w.key), "person_id": w.key, "kind": w.kind,
         "value": w.value, "threshold": w.threshold, "period": w.period}
        for w in report.warnings
    ]  # fmt: skip


def silo_rows(report: ins.SiloReport) -> list[dict[str, Any]]:
    return [
        {
            "service": s.service,
            "owner": " ".join(report.owners.get(s.service, ())),
            "incidents": s.incidents,
            "people": s.people,
            "top1_share": None if s.top1_share is None else round(s.top1_share, 4),
            "top3_share": None if s.top3_share is None else round(s.top3_share, 4),
            "top_people": [report.names.get(k, k) for k, _ in s.top],
            "small_sample": s.small_sample,
        }
        for s in report.index.values()
    ]


def helper_rows(report: ins.SiloReport) -> list[dict[str, Any]]:
    return [
        {"person": report.names.get(h.person_key, h.person_key), "incidents": len(h.incident_ids),
         "services": list(h.services), "incident_ids": list(h.incident_ids)}
        for h in report.helpers
    ]  # fmt: skip


def former_rows(report: ins.SiloReport) -> list[dict[str, Any]]:
    return [
        {"person": report.names.get(f.person_key, f.person_key), "team": f.team,
         "service": f.service, "left": f.left, "days_since_left": f.days_since_left,
         "incident_ids": list(f.incident_ids)}
        for f in report.former
    ]  # fmt: skip


def response_rows(report: ins.ResponseReport) -> list[dict[str, Any]]:
    return [
        {"incident": r.public_id, "title": r.title, "severity": r.severity, "people": r.people,
         "teams": r.teams, "services": r.services, "handoffs": r.handoffs,
         "person_hours": round(r.person_hours, 3)}
        for r in report.rows
    ]  # fmt: skip


def person_time_rows(report: ins.ResponseReport) -> list[dict[str, Any]]:
    return [
        {"incident": r.public_id, "person": report.names.get(k, k), "person_id": k,
         "seconds": round(v, 1)}
        for r in report.rows
        for k, v in sorted(r.person_seconds.items(), key=lambda kv: -kv[1])
    ]  # fmt: skip


def sla_rows(results: Sequence[tuple[Any, m.SLAResult]]) -> list[dict[str, Any]]:
    return [
        {"id": row.id, "name": row.name, "milestone": row.milestone,
         "measured_from": row.measured_from, "within_seconds": row.within_seconds,
         "severity": row.severity, "tier": row.tier, "met": len(r.met),
         "breached": len(r.breached), "missing": len(r.missing),
         "out_of_order": len(r.out_of_order), "compliance": r.rate, "small_sample": r.small_sample}
        for row, r in results
    ]  # fmt: skip


def breach_rows(
    results: Sequence[tuple[Any, m.SLAResult]], *, newest: int | None = None
) -> list[dict[str, Any]]:
    """Every breach in incident order, or per SLA its `newest` (highest-numbered) ones,
    newest first."""

    def chosen(breached: Sequence[m.Breach]) -> Sequence[m.Breach]:
        return breached if newest is None else breached[::-1][:newest]

    return [
        {"sla": row.name, "incident": b.public_id, "took_seconds": b.took.total_seconds(),
         "late_by_seconds": b.late_by.total_seconds()}
        for row, r in results
        for b in chosen(r.breached)
    ]  # fmt: skip


class LazyTables(Mapping[str, list[dict[str, Any]]]):
    """Export tables made only when one is asked for (a page shows fewer rows)."""

    def __init__(self, **factories: Callable[[], list[dict[str, Any]]]) -> None:
        self._factories = factories
        self._made: dict[str, list[dict[str, Any]]] = {}

    def __getitem__(self, name: str) -> list[dict[str, Any]]:
        if name not in self._made:
            self._made[name] = self._factories[name]()
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)


def slo_row(status: ins.SLOStatus) -> dict[str, Any]:
    b = status.budget
    return {
        **ins.slo_snapshot(status.slo),
        "samples_in_window": status.samples,
        "total_events": b.total,
        "bad_events": b.bad,
        "allowed_bad": b.allowed_bad,
        "budget_remaining": b.remaining_fraction,
        **{f"burn_rate_{k}": v for k, v in status.rates.items()},
        "alerts": [f"{a.rule.action}:{a.rule.long_window}" for a in status.alerts],
    }


# -- charts ----------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _render(spec_json: str) -> str:
    import vl_convert

    svg: str = vl_convert.vegalite_to_svg(json.loads(spec_json), allowed_base_urls=[])
    return _BASE_URL.sub('xlink:href="/', svg)


def svg(spec: Mapping[str, Any]) -> Markup:
    """The chart as inline SVG (cached by spec: the same figures render once)."""
    return Markup(_render(json.dumps(spec, sort_keys=True, default=str)))


_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
_VIEW = {"view": {"continuousWidth": 300, "continuousHeight": 300}}
_TYPES = {"N": "nominal", "O": "ordinal", "Q": "quantitative", "T": "temporal"}


def _f(shorthand: str, **extra: Any) -> dict[str, Any]:
    """An encoding channel from Altair-style shorthand ("sum(incidents):Q")."""
    name, kind = shorthand.rsplit(":", 1)
    out: dict[str, Any] = {}
    if name.endswith(")") and "(" in name:
        out["aggregate"], name = name[:-1].split("(", 1)
    return {**out, "field": name, **extra, "type": _TYPES[kind]}


def _spec(
    data: list[dict[str, Any]] | None, width: int, height: int, **body: Any
) -> dict[str, Any]:
    """A Vega-Lite spec as plain JSON (what Altair's `to_dict` gives for the same chart,
    without importing Altair: building specs is then a small share of drawing them)."""
    spec: dict[str, Any] = {"config": _VIEW, **body}
    if data is not None:
        spec["data"] = {"values": data}
    return {**spec, "height": height, "width": width, "$schema": _SCHEMA}


def counts_chart(d: ins.Dashboard) -> Markup | None:
    rows = []
    for bucket in d.counts.buckets:
        last = (bucket.start.replace(day=28) + timedelta(days=4)).replace(day=1)
        for severity, n in bucket.by_severity.items():
            rows.append({"month": bucket.label, "severity": severity, "incidents": n,
                         "url": list_url(d.filters, severity=severity, started_from=bucket.start,
                                         started_to=last - timedelta(days=1))})  # fmt: skip
    if not rows:
        return None
    return svg(_spec(rows, 560, 180, mark={"type": "bar"}, encoding={
        "color": _f("severity:N", sort=list(d.severities)),
        "href": _f("url:N"),
        "tooltip": [_f("month:O"), _f("severity:N"), _f("incidents:Q")],
        "x": _f("month:O", title="month started"),
        "y": _f("sum(incidents):Q", title="incidents"),
    }))  # fmt: skip


def _thin(values: Sequence[float]) -> list[float]:
    if len(values) <= STRIP_POINTS:
        return list(values)
    step = (len(values) - 1) / (STRIP_POINTS - 1)
    return [values[round(i * step)] for i in range(STRIP_POINTS)]


def strip_chart(d: ins.Dashboard, metric_id: str) -> Markup | None:
    """Each value as a tick on a log time axis per severity, with the median and p90."""
    report = d.by_severity[metric_id]
    points: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    for group in report.groups:
        url = list_url(d.filters, severity=group.key)
        points.extend({"severity": group.key, "hours": max(v / 3600, 1 / 60), "url": url}
                      for v in _thin(group.distribution.values))  # fmt: skip
        for name in ("median", "p90"):
            value = getattr(group.distribution, name)
            if value is not None:
                marks.append({"severity": group.key, "hours": max(value / 3600, 1 / 60),
                              "figure": name})  # fmt: skip
    if not points:
        return None
    height = max(60, 28 * len(report.groups))
    y = _f("severity:N", sort=list(d.severities), title=None)
    x = _f("hours:Q", scale={"type": "log"}, title="hours (log scale)")
    ticks = {"data": {"values": points}, "mark": {"type": "tick", "opacity": 0.35, "thickness": 1},
             "encoding": {"href": _f("url:N"), "x": x, "y": y}}  # fmt: skip
    tooltip = [_f("figure:N"), _f("hours:Q")]
    summary = {"data": {"values": marks}, "mark": {"type": "tick", "size": 18, "thickness": 3},
               "encoding": {"color": _f("figure:N", title=None), "tooltip": tooltip,
                            "x": x, "y": y}}  # fmt: skip
    return svg(_spec(None, 560, height, layer=[ticks, summary]))


def group_chart(d: ins.Dashboard, report: m.MetricReport, kind: str) -> Markup | None:
    rows = [
        {kind: g.key, "median_hours": hours(g.distribution.median),
         "p90_hours": hours(g.distribution.p90), "n": g.distribution.count,
         "url": list_url(d.filters, **{kind: g.key})}
        for g in report.groups
        if g.distribution.median is not None
    ]  # fmt: skip
    if not rows:
        return None
    y = _f(f"{kind}:N", sort="-x", title=None)
    bars = {"mark": {"type": "bar"}, "encoding": {
        "href": _f("url:N"),
        "tooltip": [_f(f"{kind}:N"), _f("median_hours:Q"), _f("p90_hours:Q"), _f("n:Q")],
        "x": _f("median_hours:Q", title="median hours (tick: p90)"), "y": y}}  # fmt: skip
    p90 = {"mark": {"type": "tick", "color": "black"},
           "encoding": {"x": _f("p90_hours:Q"), "y": y}}  # fmt: skip
    return svg(_spec(rows, 560, max(60, 16 * len(rows)), layer=[bars, p90]))


def trend_chart(d: ins.Dashboard) -> Markup | None:
    rows = []
    for point in d.trend.points:
        if point.distribution.median is None:
            continue
        year, month = (int(x) for x in point.key.split("-"))
        first = date(year, month, 1)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        rows.append({"month": point.key, "median_hours": hours(point.distribution.median),
                     "n": point.distribution.count,
                     "sample": "small sample" if point.distribution.small_sample else "n ≥ 10",
                     "url": list_url(d.filters, started_from=first, started_to=last)})  # fmt: skip
    if not rows:
        return None
    line = {"mark": {"type": "line", "color": "#888"},
            "encoding": {"x": _f("month:O"), "y": _f("median_hours:Q")}}  # fmt: skip
    dots = {"mark": {"type": "point", "filled": True, "size": 60}, "encoding": {
        "href": _f("url:N"), "shape": _f("sample:N", title=None),
        "tooltip": [_f("month:O"), _f("median_hours:Q"), _f("n:Q"), _f("sample:N")],
        "x": _f("month:O", title="month started"),
        "y": _f("median_hours:Q", title="median hours")}}  # fmt: skip
    labels = {
        "mark": {"type": "text", "dy": -10, "fontSize": 9},
        "encoding": {"text": _f("n:Q"), "x": _f("month:O"), "y": _f("median_hours:Q")},
    }
    return svg(_spec(rows, 560, 180, layer=[line, dots, labels]))


def problems_chart(d: ins.Dashboard) -> Markup | None:
    rows = [{"problem": key, "incidents": n, "url": list_url(d.filters, problem=key)}
            for key, n in d.per_problem]  # fmt: skip
    if not rows:
        return None
    return svg(_spec(rows, 560, max(60, 18 * len(rows)), mark={"type": "bar"}, encoding={
        "href": _f("url:N"), "tooltip": [_f("problem:N"), _f("incidents:Q")],
        "x": _f("incidents:Q"), "y": _f("problem:N", sort="-x", title=None),
    }))  # fmt: skip


ChartSpec = tuple[str, Callable[[ins.Dashboard], Markup | None], str]
"""A dashboard chart: (heading, drawing, what to show when there is nothing to draw)."""


def _dashboard_chart_specs(d: ins.Dashboard) -> dict[str, ChartSpec]:
    label = m.METRICS[d.metric].label
    return {
        "chart-counts": ("Incidents over time by severity", counts_chart, ""),
        **{f"chart-strip-{k}": (m.METRICS[k].label, functools.partial(strip_chart, metric_id=k),
                                "No values.")
           for k in ins.DASHBOARD_METRICS},
        "chart-service": (f"{label} by service",
                          lambda d: group_chart(d, d.by_service, "service"), "No values."),
        "chart-team": (f"{label} by team", lambda d: group_chart(d, d.by_team, "team"),
                       "No values."),
        "chart-trend": (f"Trend of the monthly median {label}", trend_chart, "No values."),
        "chart-problems": ("Incidents per problem", problems_chart,
                           "No incident is linked to a problem."),
    }  # fmt: skip


DASHBOARD_CHART_IDS = (
    "chart-counts", *(f"chart-strip-{k}" for k in ins.DASHBOARD_METRICS), "chart-service",
    "chart-team", "chart-trend", "chart-problems",
)  # fmt: skip
"""The dashboard's chart elements in page order."""


def dashboard_charts(
    d: ins.Dashboard, only: str | None = None
) -> list[tuple[str, str, Markup | None, str]]:
    """The dashboard's charts in page order, or just the chart `only` (an element id of
    `DASHBOARD_CHART_IDS`, else a ValidationError): (element id, heading, SVG or None,
    what to show when there is nothing to draw). Each chart is drawn only when listed."""
    specs = _dashboard_chart_specs(d)
    if only is not None and only not in specs:
        raise ValidationError(
            f"unknown chart {only!r}; known: {', '.join(DASHBOARD_CHART_IDS)}", field="chart"
        )
    chosen = [only] if only is not None else list(DASHBOARD_CHART_IDS)
    return [(k, specs[k][0], specs[k][1](d), specs[k][2]) for k in chosen]


def heatmap_chart(load: m.Load) -> Markup | None:
    """Pages by local weekday and hour (the person's own time zone)."""
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    rows = [{"day": days[d], "hour": h, "pages": n} for (d, h), n in load.heatmap.items()]
    if not rows:
        return None
    return svg(_spec(rows, 480, 140, mark={"type": "rect"}, encoding={
        "color": _f("pages:Q", scale={"scheme": "oranges"}),
        "tooltip": [_f("day:O"), _f("hour:O"), _f("pages:Q")],
        "x": _f("hour:O", title="local hour"), "y": _f("day:O", sort=list(days), title=None),
    }))  # fmt: skip
