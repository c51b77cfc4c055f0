"""`afteraction incident list|show|create|update`: incidents from the command line."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from afteraction.cli.context import cli_actor, console, fail, print_model, run, state_of
from afteraction.core import times
from afteraction.core.errors import ValidationError
from afteraction.core.incidents import MILESTONES, format_duration
from afteraction.services import incident_lists, incident_roles
from afteraction.services import incidents as repo
from afteraction.services.people import analyse_people
from afteraction.services.schemas import IncidentPage, incident_detail, incident_read
from afteraction.storage.db import writing
from afteraction.storage.incident_lists import IncidentSummary
from afteraction.storage.tables import Incident

app = typer.Typer(help="Declare, list, show and update incidents.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def parse_time(value: str | None, name: str) -> datetime | None:
    """`--name` as an aware time (`core.times.parse_time`); a bad or naive one exits 2."""
    try:
        return times.parse_time(value, f"--{name}")
    except ValidationError as error:
        fail(error.message, code=2)


def _milestone_options(**values: str | None) -> dict[str, datetime | None]:
    return {name: parse_time(value, name) for name, value in values.items() if value is not None}


def _table(rows: list[IncidentSummary], total: int) -> Table:
    table = Table(title=f"{len(rows)} of {total} incidents", header_style="bold")
    for column in ("id", "severity", "status", "title", "started", "time to resolve"):
        table.add_column(column)
    for row in rows:
        ttr = row.resolved_at - row.started_at if row.resolved_at and row.started_at else None
        table.add_row(
            row.public_id,
            row.severity,
            row.status,
            row.title,
            times.display(row.started_at, fmt="%Y-%m-%d %H:%M"),
            format_duration(ttr),
        )
    table.caption = "time to resolve = resolved − started; — means a milestone is missing"
    return table


@app.command("list")
def list_command(
    ctx: typer.Context,
    status: Annotated[list[str] | None, typer.Option(help="Repeat to combine.")] = None,
    severity: Annotated[list[str] | None, typer.Option()] = None,
    service: Annotated[list[str] | None, typer.Option(help="Service slug.")] = None,
    team: Annotated[list[str] | None, typer.Option(help="Team slug.")] = None,
    type_: Annotated[list[str] | None, typer.Option("--type")] = None,
    since: Annotated[str | None, typer.Option(help="Started at or after (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Started before (ISO 8601).")] = None,
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Text in title/summary.")
    ] = None,
    sort: Annotated[
        str,
        typer.Option(
            help="number, started, severity, status, updated, title; prefix - to reverse."
        ),
    ] = "-number",
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    json_output: JsonFlag = False,
) -> None:
    """List incidents, newest first.

    Example: afteraction incident list --status investigating --severity SEV1 --json
    """
    state = state_of(ctx)
    filters = incident_lists.IncidentFilters(
        status=status or (),
        severity=severity or (),
        service=service or (),
        team=team or (),
        type=type_ or (),
        started_from=parse_time(since, "since"),
        started_to=parse_time(until, "until"),
        text=query,
        sort=sort,
        limit=limit,
        offset=offset,
    )

    with state.session() as session:
        listing = run(lambda: incident_lists.list_page(session, cli_actor(), filters))
        if json_output:
            print_model(IncidentPage.model_validate_json(incident_lists.page_json(listing)))
        else:
            console.print(_table(listing.rows, listing.total))


@app.command("show")
def show_command(ctx: typer.Context, incident: str, json_output: JsonFlag = False) -> None:
    """Show one incident with its milestones, roles and updates.

    Example: afteraction incident show INC-42 --json
    """
    with state_of(ctx).session() as session:
        row = run(lambda: repo.get_incident(session, cli_actor(), incident))
        detail = incident_detail(
            row, incident_roles.roles_of(session, row), repo.updates_of(session, row)
        )
        if json_output:
            print_model(detail)
            return
        _print_incident(detail.model_dump(mode="json"))


def _print_incident(data: dict[str, Any]) -> None:
    console.print(f"[bold]{data['id']}[/] {data['title']}", highlight=False)
    console.print(
        f"{data['severity']} · {data['status']} · {data['type']}"
        + (" · private" if data["private"] else "")
    )
    table = Table("milestone", "time (UTC)", header_style="bold")
    for name in MILESTONES:
        table.add_row(name, data["milestones"][name] or "—")
    console.print(table)
    for role in data["roles"]:
        console.print(
            f"{role['role']}: {role['person']} from {role['start']}"
            + (f" to {role['end']}" if role["end"] else "")
        )


MilestoneOpt = Annotated[str | None, typer.Option(help="ISO 8601 time with offset.")]


@app.command("create")
def create_command(
    ctx: typer.Context,
    title: Annotated[str, typer.Option(help="Short description of what is happening.")],
    severity: Annotated[str, typer.Option(help="SEV1 (worst) to SEV4.")],
    type_: Annotated[
        str, typer.Option("--type", help="default, security, gameday, maintenance.")
    ] = "default",
    service: Annotated[
        list[str] | None, typer.Option(help="Affected service slug; repeat.")
    ] = None,
    team: Annotated[list[str] | None, typer.Option(help="Team slug; repeat.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Tag; repeat.")] = None,
    summary: Annotated[str, typer.Option()] = "",
    status: Annotated[str | None, typer.Option(help="Initial status (default triage).")] = None,
    private: Annotated[
        bool, typer.Option(help="Visible only to its responders and admins.")
    ] = False,
    started: MilestoneOpt = None,
    detected: MilestoneOpt = None,
    declared: MilestoneOpt = None,
    acknowledged: MilestoneOpt = None,
    mitigated: MilestoneOpt = None,
    resolved: MilestoneOpt = None,
    closed: MilestoneOpt = None,
    allow_out_of_order: Annotated[
        bool, typer.Option(help="Record milestones even if out of order.")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Declare an incident and print its public id.

    Example: afteraction incident create --title "Checkout 5xx" --severity SEV2 --json
    """
    data = repo.IncidentInput(
        title=title,
        severity=severity,
        type=type_,
        services=service or (),
        teams=team or (),
        tags=tag or (),
        summary=summary,
        status=status,
        private=private,
        milestones=_milestone_options(
            started=started,
            detected=detected,
            declared=declared,
            acknowledged=acknowledged,
            mitigated=mitigated,
            resolved=resolved,
            closed=closed,
        ),
        allow_out_of_order=allow_out_of_order,
    )
    with state_of(ctx).session() as session:

        def declare() -> tuple[Incident, list[str]]:
            with writing(session):
                return repo.declare(session, cli_actor(), data)

        row, warnings = run(declare)
        if json_output:
            print_model(incident_read(row, warnings))
        else:
            console.print(f"declared [bold]{row.public_id}[/]: {row.title}", highlight=False)
            for warning in warnings:
                console.print(f"[yellow]warning:[/] {warning}")


@app.command("update")
def update_command(
    ctx: typer.Context,
    incident: str,
    title: Annotated[str | None, typer.Option()] = None,
    severity: Annotated[str | None, typer.Option()] = None,
    summary: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option(help="Move along the lifecycle.")] = None,
    note: Annotated[str, typer.Option(help="Posted as an update with the status change.")] = "",
    started: MilestoneOpt = None,
    detected: MilestoneOpt = None,
    declared: MilestoneOpt = None,
    acknowledged: MilestoneOpt = None,
    mitigated: MilestoneOpt = None,
    resolved: MilestoneOpt = None,
    closed: MilestoneOpt = None,
    allow_out_of_order: Annotated[bool, typer.Option()] = False,
    json_output: JsonFlag = False,
) -> None:
    """Change fields, milestones or status of an incident (all in one transaction).

    Example: afteraction incident update INC-42 --status resolved --note "Rolled back" --json
    """
    changes = {
        k: v
        for k, v in {"title": title, "severity": severity, "summary": summary}.items()
        if v is not None
    }
    milestones = _milestone_options(
        started=started,
        detected=detected,
        declared=declared,
        acknowledged=acknowledged,
        mitigated=mitigated,
        resolved=resolved,
        closed=closed,
    )
    actor = cli_actor()
    with state_of(ctx).session() as session:

        def apply() -> tuple[Incident, list[str]]:
            warnings: list[str] = []
            with writing(session):
                row = repo.get_incident(session, actor, incident)
                if changes:
                    row = repo.update(session, actor, incident, changes)
                if milestones:
                    row, warnings = repo.set_milestones(
                        session, actor, incident, milestones, allow_out_of_order=allow_out_of_order
                    )
                if status:
                    row = repo.change_status(session, actor, incident, status, note=note)
                return row, warnings

        row, warnings = run(apply)
        if json_output:
            print_model(incident_read(row, warnings))
        else:
            console.print(f"updated [bold]{row.public_id}[/]: {row.status}", highlight=False)


@app.command("people")
def people_command(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="INC-42 or 42.")],
    json_output: JsonFlag = False,
) -> None:
    """People & coordination: how each person arrived, on/off call, off hours, pages, team
    fit, tenure, participation and roles, plus the roll-up (JSON = the API's).

    Example: afteraction incident people INC-42 --json
    """

    with state_of(ctx).session() as session:
        analysis = run(lambda: analyse_people(session, cli_actor(), incident=incident))
    if json_output:
        print_model(analysis)
        return
    data = analysis.model_dump(mode="json")
    table = Table(title=f"{data['incident']}: people & coordination", header_style="bold")
    columns = ("name", "arrival", "on call", "off hours", "team fit", "tenure", "messages", "share")
    for column in columns:
        table.add_column(column)

    def yes(value: object) -> str:
        return "unknown" if value is None else ("yes" if value else "no")

    for p in data["people"]:
        tenure = p["tenure_days_then"]
        table.add_row(
            p["name"],
            p["arrival"],
            yes(p["on_call_at_arrival"]),
            yes(p["off_hours_at_arrival"]),
            p["team_fit"],
            f"{tenure} days" if tenure is not None else "unknown",
            str(p["messages"]),
            f"{p['message_share']:.0%}",
        )
    rollup = data["rollup"]
    table.caption = (
        f"{rollup['pulled_in_off_call_count']} pulled in off call · teams: "
        f"{', '.join(rollup['teams_involved']) or 'unknown'} · repeat helpers are a systems "
        "signal, not a performance score"
    )
    console.print(table)
