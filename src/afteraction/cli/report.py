"""`afteraction report …`: export an incident's report as Markdown, standalone HTML or PDF,
check the claims its current version makes against the evidence, and publish it.

They run as the command-line principal (an admin), like every CLI command, and call the same
services as the web pages and the API (`report_export`, `report_claims`,
`report_publishing`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from afteraction.cli.context import cli_actor, fail, print_model, run, say, state_of
from afteraction.services.schemas.reports import ReportStateRead
from afteraction.storage.db import writing

if TYPE_CHECKING:
    from afteraction.services.report_publishing import NeedsConfirmation

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
    from afteraction.services.report_export import export as build

    with state_of(ctx).session() as session:
        content, _media, _name = run(lambda: build(session, cli_actor(), incident, format))
    output.write_bytes(content)
    say(f"wrote {output} ({len(content):,} bytes)")


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
    from afteraction.services.report_claims import check_report

    with state_of(ctx).session() as session:
        result = run(lambda: check_report(session, cli_actor(), incident))
    if json_output:
        print_model(result)
    else:
        for f in result.findings:
            state = " (dismissed)" if f.dismissed else ""
            _say_claim(f.line, f.column, f"{f.kind}{state}", f.text, f.message, f.evidence)
            say(f"    {f.suggestion}")
        say(
            f"{result.incident} version {result.version}: {result.open} open claim finding(s), "
            f"{result.dismissed} dismissed; times without a zone read in {result.zone}"
        )
    if result.open:
        raise typer.Exit(1)


@app.command("publish")
def publish(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="Incident id, e.g. INC-42.")],
    confirm: Annotated[
        bool,
        typer.Option("--confirm", help="Publish although findings are open or sections unfilled."),
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the report's state as JSON (the API's shape).")
    ] = False,
) -> None:
    """Publish the report's current version (the report must be in review). Open language
    findings, claims that disagree with the evidence (what the draft says, what the
    evidence shows) and unfilled sections are listed, and nothing is published unless
    --confirm is given (exit 1). With AFTERACTION_REVIEW_PUBLISH_REQUIRES_NO_OPEN_FINDINGS
    it is refused while any finding is open.

    Example: afteraction report publish INC-42 --confirm
    """
    from afteraction.services.report_publishing import NeedsConfirmation, change_state

    state = state_of(ctx)
    clean = state.settings.review.publish_requires_no_open_findings
    with state.session() as session:

        def publish_it() -> ReportStateRead | NeedsConfirmation:
            try:
                with writing(session):
                    report = change_state(
                        session,
                        cli_actor(),
                        incident,
                        "published",
                        confirmed=confirm,
                        clean_required=clean,
                    )
                    return ReportStateRead.of(report)
            except NeedsConfirmation as pending:
                return pending

        result = run(publish_it)
    if isinstance(result, NeedsConfirmation):
        _list_open(result)
        fail(f"not published: {result.check.summary()}; run again with --confirm")
    if json_output:
        print_model(result)
    else:
        say(f"{result.incident}: published version {result.published_version}")


def _list_open(pending: NeedsConfirmation) -> None:
    """Each open finding on its lines, as `report check` prints them."""
    for f in pending.findings:
        say(f"line {f.line}, column {f.column}: language ({f.category}) {f.text!r}: {f.message}")
    for c in pending.claims:
        _say_claim(c.line, c.column, c.kind, c.text, c.message, c.evidence)
    for name in pending.check.unfilled:
        say(f"unfilled section: {name}")


def _say_claim(line: int, column: int, label: str, text: str, message: str, evidence: str) -> None:
    """A claim finding as `report check` and `report publish` both print it: where, what
    the draft says and why, then the evidence it disagrees with."""
    say(f"line {line}, column {column}: {label} {text!r}: {message}")
    say(f"    evidence: {evidence}")
