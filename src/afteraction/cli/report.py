"""`afteraction report …`: export an incident's report as Markdown, standalone HTML or PDF.

The export runs as the command-line principal (an admin), like every CLI command, and is
built by the same code as the web and API exports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from afteraction.cli.context import console, run, state_of

app = typer.Typer(help="Incident reports.", no_args_is_help=True)


@app.command("export")
def export(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="Incident id, e.g. INC-42.")],
    format: Annotated[str, typer.Option("--format", "-f", help="md, html or pdf.")] = "md",
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")] = Path(
        "report.md"
    ),
) -> None:
    """Export an incident's report (the published version, else the current draft).

    Example: afteraction report export INC-42 --format pdf -o INC-42.pdf
    """
    from afteraction.cli.context import cli_actor
    from afteraction.services.report_export import export as build

    with state_of(ctx).session() as session:
        content, _media, _name = run(lambda: build(session, cli_actor(), incident, format))
    output.write_bytes(content)
    console.print(f"wrote {output} ({len(content):,} bytes)")
