"""What the insight pages and API share: reading filters from a query string, the read
cache, turning reports into flat table rows (for HTML, CSV and JSON alike) and CSV text.
The charts are in `insight_charts.py`. Must not live here: queries (storage), use cases
(`services.insights`) or maths (core).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from numbers import Number
from typing import Any, TypeVar
from urllib.parse import urlencode

from afteraction.core import metrics as m
from afteraction.core.access import Actor
from afteraction.core.errors import ValidationError
from afteraction.core.exports import spreadsheet_text
from afteraction.core.incidents import format_duration
from afteraction.core.metrics import InsightFilters
from afteraction.services import insights as ins
from afteraction.services import service_levels as levels
from afteraction.web.fastpath import body_key

T = TypeVar("T")


# -- cached reads ----------------------------------------------------------------------------


def cached_read(
    request: Any, actor: Actor, compute: Callable[[], T], *, path: str | None = None,
    ignore: Sequence[str] = (),
) -> T:  # fmt: skip
    """`compute()` once per route path (or `path`, to share a result between routes),
    visibility of `actor` and exact query string (less the parameters named in `ignore`)
    while the database is unchanged (the app's `ReadCache`: any commit empties it). The
    token is read before computing, so a commit during the computation is never hidden."""
    cache = request.app.state.read_cache
    token = cache.request_token(request.scope)
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


def filters_from(params: Any) -> InsightFilters:
    """InsightFilters from query parameters: since, until (dates inclusive, or date-times),
    severity, service, team, type, tag (repeatable), problem, include_excluded / tz."""

    def first(name: str) -> str:
        return (_values(params, name) or ("",))[0]

    return InsightFilters(
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


def list_url(filters: InsightFilters, **narrow: Any) -> str:
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


def involvement_rows(report: ins.OnCallReport) -> list[dict[str, Any]]:
    """Each person's first involvement in each incident of the window, by time."""
    return [
        {"person": report.names.get(i.person_key, i.person_key), "person_id": i.person_key,
         "incident": i.incident_id, "first_involved": i.at}
        for i in report.involvements
    ]  # fmt: skip


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
        if newest is None:
            return breached
        # slice first: a result's breaches are made when read, and only these are shown
        return list(breached[max(len(breached) - newest, 0) :])[::-1]

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


def slo_row(status: levels.SLOStatus) -> dict[str, Any]:
    b = status.budget
    return {
        **levels.slo_snapshot(status.slo),
        "samples_in_window": status.samples,
        "total_events": b.total,
        "bad_events": b.bad,
        "allowed_bad": b.allowed_bad,
        "budget_remaining": b.remaining_fraction,
        **{f"burn_rate_{k}": v for k, v in status.rates.items()},
        "alerts": [f"{a.rule.action}:{a.rule.long_window}" for a in status.alerts],
    }


# -- exports ---------------------------------------------------------------------------------


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows of flat mappings as CSV text (nested values are written as JSON-like text);
    a text cell that a spreadsheet would run as a formula is written as text."""
    materialised = list(rows)
    names = list(columns or (materialised[0].keys() if materialised else []))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in materialised:
        writer.writerow({k: _cell(row.get(k)) for k in names})
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    """A CSV cell: numbers as they are, text never a spreadsheet formula."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return spreadsheet_text(" ".join(str(v) for v in value))
    if isinstance(value, Number):
        return value
    return spreadsheet_text(str(value))
