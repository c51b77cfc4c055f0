"""`afteraction metrics`: the dashboard's duration figures in the terminal, as a Rich table
or JSON, with the same filters as the insights dashboard, from the insights service
(`services.insights.dashboard_metrics`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from afteraction.cli.context import cli_actor, console, fail, print_model, run, state_of
from afteraction.core import times
from afteraction.core.errors import ValidationError
from afteraction.core.incidents import format_duration
from afteraction.core.metrics import InsightFilters
from afteraction.services import insights as ins
from afteraction.services.schemas.metrics import MetricsRead

Many = Annotated[list[str] | None, typer.Option(show_default=False)]
SINCE_HELP = "First start date (inclusive), or an ISO 8601 time with an offset."
UNTIL_HELP = "Last start date (inclusive), or an ISO 8601 time with an offset."


def _bound(value: str | None, name: str, *, end: bool) -> datetime | None:
    """`--since`/`--until` as the dashboard reads them (`core.times.parse_bound`); exits 2."""
    try:
        return times.parse_bound(value, f"--{name}", end=end)
    except ValidationError as error:
        fail(error.message, code=2)


def _human(seconds: float | None) -> str:
    return "—" if seconds is None else format_duration(timedelta(seconds=round(seconds)))


def metrics(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option(help=SINCE_HELP)] = None,
    until: Annotated[str | None, typer.Option(help=UNTIL_HELP)] = None,
    severity: Many = None,
    service: Many = None,
    team: Many = None,
    type_: Annotated[list[str] | None, typer.Option("--type", show_default=False)] = None,
    tag: Many = None,
    problem: Annotated[str | None, typer.Option(help="Problem key, e.g. PRB-101.")] = None,
    include_gamedays: Annotated[
        bool, typer.Option(help="Also measure gameday and maintenance incidents.")
    ] = False,
    mean: Annotated[bool, typer.Option(help="Show the mean beside the median.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Duration metrics (definition, count, missing, median, p90, max; per severity).

    Durations start at the incident's start; gameday and maintenance incidents are left
    out unless --include-gamedays. Figures from fewer than 10 incidents are marked.

    Example: afteraction metrics --since 2026-01-01 --severity SEV1 --service checkout-api
    """
    filters = InsightFilters(
        since=_bound(since, "since", end=False),
        until=_bound(until, "until", end=True),
        severity=tuple(s.upper() for s in severity or ()),
        service=tuple(service or ()),
        team=tuple(team or ()),
        type=tuple(type_ or ()),
        tag=tuple(tag or ()),
        problem=problem,
        include_excluded=include_gamedays,
    )
    with state_of(ctx).session() as session:
        d = run(lambda: ins.dashboard_metrics(session, cli_actor(), filters, with_mean=mean))
    summaries = d.summaries
    if as_json:
        print_model(MetricsRead(incidents=d.measured, excluded_by_type=dict(d.excluded_by_type),
                                metrics=summaries, impact=d.impact))  # fmt: skip
        return
    table = Table(title=f"{d.measured} incidents measured", show_lines=False)
    for name in ("metric", "severity", "count", "missing", "median", "p90", "max"):
        table.add_column(name, justify="right" if name not in ("metric", "severity") else "left")
    if mean:
        table.add_column("mean", justify="right")
    for s in [*summaries, d.impact]:
        groups = [("all", s), *s["by_severity"].items()]
        for i, (sev, g) in enumerate(groups):
            small = " (small sample)" if g["small_sample"] and g["count"] else ""
            cells = [s["label"] if i == 0 else "", sev, str(g["count"]), str(g["count_missing"]),
                     _human(g["median"]) + small, _human(g["p90"]), _human(g["max"])]  # fmt: skip
            if mean:
                cells.append(_human(g.get("mean")))
            table.add_row(*cells)
    console.print(table)
    for s in [*summaries, d.impact]:
        console.print(f"[bold]{s['label']}[/]: {s['definition']}", highlight=False)
    if d.excluded_by_type:
        left_out = ", ".join(f"{n} {t}" for t, n in d.excluded_by_type.items())
        console.print(f"Not measured: {left_out} (use --include-gamedays).", highlight=False)
