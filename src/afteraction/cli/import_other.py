"""`afteraction import pagerduty|slack-history|roster|oncall|transcript|reports`: evidence
imports other than a Slack export, from the command line.

Lives here: `register(app)`, which adds the commands to the `import` group. Does not live
here: the progress bar and summary table (`cli.import_output`), import logic
(`afteraction.services.imports`).
Each command runs its import in one write transaction, prints a summary table (or the
summary as JSON with `--json`) and exits non-zero on failure.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from afteraction.cli.context import cli_actor, fail, run, state_of
from afteraction.cli.import_output import SinceOption, UntilOption, progress_bar, show
from afteraction.cli.incident import parse_time
from afteraction.services.imports.sources import ImportSummary, Progress
from afteraction.storage.db import writing

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]
Importer = Callable[[Session, Progress | None], ImportSummary]


def _execute(ctx: typer.Context, importer: Importer, as_json: bool) -> None:
    state = state_of(ctx)
    with state.session() as session:

        def action() -> ImportSummary:
            with progress_bar(not as_json) as progress, writing(session):
                return importer(session, progress)

        summary = run(action)
    show(summary, as_json)


def pagerduty_command(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(help="Folder or JSON file saved from the PagerDuty REST API."),
    ] = None,
    incident_id: Annotated[
        str | None,
        typer.Option("--incident-id", help="Fetch this PagerDuty incident live instead."),
    ] = None,
    incident: Annotated[
        str | None, typer.Option("--incident", help="Attach to this incident (INC-42).")
    ] = None,
    create_incident: Annotated[
        bool,
        typer.Option(
            "--create-incident/--no-create-incident",
            help="Declare an incident when the PagerDuty incident is linked to none.",
        ),
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """Import a PagerDuty incident: pages, users, alerts and notes.

    Example: afteraction import pagerduty ./pd-export --incident INC-42
    """
    if (path is None) == (incident_id is None):
        fail("give a PATH or --incident-id (one of them)", code=2)
    source: Path | dict[str, object]
    if incident_id is not None:
        token = state_of(ctx).settings.pagerduty.token
        if token is None:
            fail("set AFTERACTION_PAGERDUTY_TOKEN to fetch incidents from PagerDuty", code=2)
        from afteraction.services.imports.pagerduty import fetch_bundle

        source = run(lambda: fetch_bundle(token.get_secret_value(), incident_id))
    else:
        assert path is not None
        source = path
    from afteraction.services.imports.pagerduty import import_pagerduty

    _execute(
        ctx,
        lambda session, progress: import_pagerduty(
            session,
            cli_actor(),
            source,
            incident=incident,
            create_incident=create_incident,
            progress=progress,
            max_file_bytes=state_of(ctx).settings.max_json_file_bytes,
        ),
        as_json,
    )


def slack_history_command(
    ctx: typer.Context,
    channel: Annotated[str, typer.Argument(help="Slack channel id (C…), as in its URL.")],
    incident: Annotated[
        str | None,
        typer.Option("--incident", help="Attach to this incident (INC-42) for its window."),
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Fetch one channel's history live from Slack (messages, thread replies, users) with the
    bot token in AFTERACTION_SLACK_BOT_TOKEN (scopes channels:history, groups:history,
    users:read, users:read.email). Rate limits are waited out.

    Example: afteraction import slack-history C0123ABCD --incident INC-42
    """
    settings = state_of(ctx).settings
    if settings.slack.bot_token is None:
        fail("set AFTERACTION_SLACK_BOT_TOKEN to fetch channel history from Slack", code=2)
    from afteraction.adapters.slack_api import make_client
    from afteraction.services.imports.slack import import_slack_history

    start, end = parse_time(since, "since"), parse_time(until, "until")
    token = settings.slack.bot_token.get_secret_value()
    url = settings.slack.api_url
    client = make_client(token, base_url=url) if url else make_client(token)
    _execute(
        ctx,
        lambda session, progress: import_slack_history(
            session,
            cli_actor(),
            client,
            channel,
            incident=incident,
            since=start,
            until=end,
            progress=progress,
        ),
        as_json,
    )


def roster_command(
    ctx: typer.Context,
    csv_path: Annotated[Path, typer.Argument(metavar="CSV", help="HR roster CSV file.")],
    as_json: JsonFlag = False,
) -> None:
    """Import an HR roster: people, teams, managers and dated memberships; re-link identities.

    Example: afteraction import roster ./roster.csv
    """
    from afteraction.services.imports.roster import import_roster

    _execute(
        ctx,
        lambda session, progress: import_roster(session, cli_actor(), csv_path, progress=progress),
        as_json,
    )


def oncall_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="schedules/on-calls JSON file or folder.")],
    since: Annotated[str | None, typer.Option(help="Clip shifts from (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Clip shifts until (ISO 8601).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Import PagerDuty schedules and on-calls as on-call shifts.

    Example: afteraction import oncall ./pd-export --since 2026-10-01T00:00:00Z
    """
    from afteraction.services.imports.oncall import import_oncall

    start, end = parse_time(since, "since"), parse_time(until, "until")
    _execute(
        ctx,
        lambda session, progress: import_oncall(
            session,
            cli_actor(),
            path,
            since=start,
            until=end,
            progress=progress,
            max_file_bytes=state_of(ctx).settings.max_json_file_bytes,
        ),
        as_json,
    )


def transcript_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="WebVTT (.vtt) transcript or Zoom chat (.txt).")],
    incident: Annotated[str, typer.Option("--incident", help="Incident to attach to (INC-42).")],
    interview: Annotated[
        int | None, typer.Option("--interview", help="Interview id to attach to.")
    ] = None,
    recording_start: Annotated[
        str | None,
        typer.Option(
            "--recording-start",
            help="When the recording started (ISO 8601 with an offset). Default: the start "
            "a Zoom file name says, else the incident's start (the summary says which).",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Import a meeting transcript or Zoom chat into an incident, matching speakers to people.

    Example: afteraction import transcript ./review.vtt --incident INC-42
    """
    from afteraction.services.imports.transcripts import import_transcript

    start = parse_time(recording_start, "recording-start")
    _execute(
        ctx,
        lambda session, progress: import_transcript(
            session,
            cli_actor(),
            path,
            incident=incident,
            interview=interview,
            recording_start=start,
            progress=progress,
        ),
        as_json,
    )


def reports_command(
    ctx: typer.Context,
    paths: Annotated[
        list[Path], typer.Argument(help="Markdown post-mortems, CSV incident lists, or folders.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Import past reports as historical, closed incidents with their report text.

    Example: afteraction import reports ./postmortems ./void.csv
    """
    from afteraction.services.imports.past_reports import import_reports

    _execute(
        ctx,
        lambda session, progress: import_reports(session, cli_actor(), paths, progress=progress),
        as_json,
    )


def register(app: typer.Typer) -> None:
    """Add the pagerduty, slack-history, roster, oncall, transcript and reports commands."""
    app.command("pagerduty")(pagerduty_command)
    app.command("slack-history")(slack_history_command)
    app.command("roster")(roster_command)
    app.command("oncall")(oncall_command)
    app.command("transcript")(transcript_command)
    app.command("reports")(reports_command)
