"""`afteraction import …`: the import command group — `slack`, `sources`, `remove` — with a
Rich progress bar on stderr and a summary table (or JSON with `--json`).

Lives here: the Typer group `app`, the Slack command, listing and removing sources, and the
progress bar and summary table they share. Does not live here: import logic
(`afteraction.services.imports`), other kinds' commands (`cli.import_other` registers them here).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from afteraction.cli import import_other
from afteraction.cli.context import (
    CliState,
    cli_actor,
    console,
    print_model,
    run,
    state_of,
)
from afteraction.cli.import_output import (
    SinceOption,
    UntilOption,
    progress_bar,
    show,
    show_preview,
)
from afteraction.cli.incident import parse_time
from afteraction.services.imports import sources as imports
from afteraction.services.imports.sources import (
    ImportSummary,
    SourceRemoval,
    remove_source_everything,
)
from afteraction.services.schemas import (
    SourceList,
    source_read,
    source_removal_read,
)
from afteraction.storage.db import writing

app = typer.Typer(help="Import evidence: Slack, PagerDuty, rosters, transcripts, reports.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


@app.command("slack")
def slack_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Slack export: a .zip or an unpacked folder.")],
    incident: Annotated[
        str | None,
        typer.Option("--incident", help="Attach to this incident (INC-42); else the archive."),
    ] = None,
    channel: Annotated[
        list[str] | None,
        typer.Option("--channel", help="Channel name or id to import (repeatable)."),
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar on stderr.")
    ] = True,
    as_json: JsonFlag = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Import nothing: show the chosen channels' messages per day file and per "
            "UTC day, and which fall in the window.",
        ),
    ] = False,
) -> None:
    """Import a Slack workspace export: channels, messages, threads, reactions, people.

    Without --incident the export becomes the organisation's archive; with it, the chosen
    channels (default: all with messages in the window) are attached to the incident for
    its window (default: started - 2 h to closed + 2 h). --dry-run shows what the export
    holds and what the window catches, and writes nothing.

    Example: afteraction import slack ./export.zip --incident INC-42 --channel inc-42-db
    """
    from afteraction.services.imports.slack import import_slack_export

    start, end = parse_time(since, "since"), parse_time(until, "until")
    state = state_of(ctx)
    if dry_run:
        _preview(state, path, incident, channel or [], start, end, as_json)
        return
    with state.session() as session:

        def action() -> ImportSummary:
            # An export can be large: when nothing else has the database open, hold it
            # alone for the import (see `writing`).
            with (
                progress_bar(progress and not as_json) as report,
                writing(session, alone=True),
            ):
                return import_slack_export(
                    session,
                    cli_actor(),
                    path,
                    incident=incident,
                    channels=channel or (),
                    since=start,
                    until=end,
                    progress=report,
                )

        summary = run(action)
    show(summary, as_json)


def _preview(
    state: CliState,
    path: Path,
    incident: str | None,
    channels: list[str],
    since: datetime | None,
    until: datetime | None,
    as_json: bool,
) -> None:
    """`import slack --dry-run`: the preview as tables or JSON; nothing is written."""
    from afteraction.services.imports.slack_preview import preview_slack_export

    with state.session() as session:
        preview = run(
            lambda: preview_slack_export(
                session,
                cli_actor(),
                path,
                incident=incident,
                channels=channels,
                since=since,
                until=until,
            )
        )
        session.rollback()
    show_preview(preview, as_json)


@app.command("sources")
def sources_command(
    ctx: typer.Context,
    incident: Annotated[
        str | None, typer.Option("--incident", help="Only sources of this incident.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List imported sources: kind, origin, when, by whom, counts.

    Example: afteraction import sources --incident INC-42
    """
    with state_of(ctx).session() as session:

        def action() -> SourceList:
            found = imports.visible_sources(session, cli_actor(), incident=incident or None)
            return SourceList(items=[source_read(s) for s in found])

        sources = run(action)
    if as_json:
        print_model(sources)
        return
    rows = sources.model_dump(mode="json")["items"]
    table = Table(title="Imported sources", header_style="bold")
    for column in ("id", "kind", "incident", "imported", "by", "counts", "origin"):
        table.add_column(column, overflow="fold", no_wrap=column in ("id", "kind", "incident"))
    for row in rows:
        counts = row["counts"]
        shown = (
            ", ".join(f"{k} {v}" for k, v in counts.items() if v)
            if isinstance(counts, dict)
            else ""
        )
        table.add_row(
            str(row["id"]),
            str(row["kind"]),
            str(row["incident"] or "—"),
            str(row["imported_at"])[:19],
            str(row["imported_by"]),
            shown,
            str(row["origin"]),
        )
    console.print(table)


@app.command("remove")
def remove_command(
    ctx: typer.Context,
    source_id: Annotated[int, typer.Argument(metavar="SOURCE_ID", help="Source id to remove.")],
    as_json: JsonFlag = False,
) -> None:
    """Remove an imported source and everything it brought (messages, pages, references...).

    Incidents the source created go with it unless another source brought evidence to them,
    something was attached to them or they were changed since; those are kept and listed.

    Example: afteraction import remove 12
    """
    with state_of(ctx).session() as session:

        def action() -> SourceRemoval:
            with writing(session):
                return remove_source_everything(session, cli_actor(), source_id)

        removal = run(action)
    if as_json:
        print_model(source_removal_read(removal))
        return
    table = Table(title=f"removed source #{source_id} ({removal.kind})", header_style="bold")
    table.add_column("what")
    table.add_column("count / detail", overflow="fold")
    for name, count in removal.rows.items():
        table.add_row(name.replace("_", " "), f"{count:,}")
    for public_id in removal.incidents_removed:
        table.add_row("incident removed", public_id)
    for kept in removal.incidents_kept:
        table.add_row("incident kept", f"{kept['incident']}: {kept['reason']}")
    table.caption = removal.origin
    console.print(table)


import_other.register(app)
