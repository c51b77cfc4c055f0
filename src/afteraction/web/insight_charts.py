"""The insight charts: Vega-Lite specs written as plain JSON (the same specs Altair would
build, without importing Altair) and rendered to SVG by vl-convert in-process (no browser,
no network: data is inline and no base URL is allowed).

Every mark that stands for incidents carries an `href` to the incident list filtered to
exactly those incidents. Distributions are drawn from at most `STRIP_POINTS` evenly spaced
order statistics per group, so a chart stays small however many incidents it summarises;
the figures beside it are computed from every value. Must not live here: queries, use
cases or maths.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from afteraction.core import metrics as m
from afteraction.core.errors import ValidationError
from afteraction.services import insights as ins
from afteraction.web.insights import hours, list_url

STRIP_POINTS = 120
_BASE_URL = re.compile(r'xlink:href="https://vega\.github\.io/vega-datasets/+')


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
