"""`afteraction report …`: export an incident's report as Markdown, standalone HTML or PDF,
and check the claims its current version makes against the evidence.

Both run as the command-line principal (an admin), like every CLI command, and call the same
services as the web pages and the API (`report_export`, `report_claims`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from afteraction.cli.context import console, print_model, run, state_of

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


@app.command("check")
def check(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="Incident id, e.g. INC-42.")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON (the API's shape) instead of a list.")
    ] = False,
) -> None:
    """Check the claims of the report's current version against the evidence: times with
    no event within two minutes on the timeline, counts and durations that disagree with
    the people analysis or the milestones, people named who took no part. Dismissed
    findings are listed but do not count. Exits 1 when a finding is open, else 0.

    Example: afteraction report check INC-42 --json
    """
    from afteraction.cli.context import cli_actor
    from afteraction.services.report_claims import check_report

    with state_of(ctx).session() as session:
        result = run(lambda: check_report(session, cli_actor(), incident))
    if json_output:
        print_model(result)
    else:
        for f in result.findings:
            state = " (dismissed)" if f.dismissed else ""
            console.print(
                f"line {f.line}, column {f.column}: {f.kind}{state} {f.text!r}: {f.message}",
                highlight=False,
                markup=False,
            )
            console.print(f"    evidence: {f.evidence}", highlight=False, markup=False)
            console.print(f"    {f.suggestion}", highlight=False, markup=False)
        console.print(
            f"{result.incident} version {result.version}: {result.open} open claim finding(s), "
            f"{result.dismissed} dismissed; times without a zone read in {result.zone}"
        )
    if result.open:
        raise typer.Exit(1)
