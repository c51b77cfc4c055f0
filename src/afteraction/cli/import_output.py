"""What every `afteraction import …` command prints: a Rich progress bar on stderr while an
import runs, and the summary afterwards — a table of counts, skipped items with reasons,
unmatched people and warnings, or the summary as JSON with `--json` (the model the API's
import job shows, `ImportSummaryRead`) — and the preview of `import slack --dry-run` (tables
of messages per day, or JSON)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from afteraction.cli.context import console, err_console, print_json, print_model
from afteraction.services.imports.sources import ImportSummary, Progress
from afteraction.services.schemas import import_summary_read

if TYPE_CHECKING:
    from afteraction.services.imports.slack_preview import SlackPreview

SinceOption = Annotated[
    str | None, typer.Option("--since", help="Only messages from (ISO 8601 with offset).")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Only messages before (ISO 8601 with offset).")
]


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress | None]:
    """A Rich progress bar on stderr, or nothing when disabled or stderr is not a terminal."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    with RichProgress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} items"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("reading", total=None)

        def report(done: int, total: int | None, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        yield report


def summary_table(summary: ImportSummary) -> Table:
    """Counts by kind, then skipped items with reasons, unmatched people and warnings."""
    state = "already imported, nothing added" if summary.already_imported else "imported"
    if not summary.already_imported and summary.counts.get("messages") == 0:
        state = "imported 0 messages"
    into = f" into {summary.incident}" if summary.incident else ""
    if not summary.incident and summary.kind.startswith("slack"):
        into = " as the organisation's archive"
    table = Table(title=f"{summary.kind}: {state}{into}", header_style="bold")
    table.add_column("what")
    table.add_column("count / detail", overflow="fold")
    for name, count in summary.counts.items():
        table.add_row(name, f"{count:,}")
    for item in summary.skipped[:50]:
        table.add_row("skipped", f"{item['where']}: {item['reason']}")
    for name in summary.unmatched[:50]:
        table.add_row("unmatched person", name)
    for warning in summary.warnings[:50]:
        table.add_row("warning", warning)
    more = sum(max(0, len(x) - 50) for x in (summary.skipped, summary.unmatched, summary.warnings))
    table.caption = f"source #{summary.source_id} · {summary.origin}" + (
        f" · {more} more lines with --json" if more else ""
    )
    return table


def show(summary: ImportSummary, as_json: bool) -> None:
    if as_json:
        print_model(import_summary_read(summary))
    else:
        console.print(summary_table(summary))


def preview_tables(preview: SlackPreview) -> list[Table]:
    """The chosen channels (messages, in the window, first and last in UTC), then each
    channel's messages per day: by its day files' names and by UTC day, with how many of
    them fall in the window."""
    data = preview.as_dict()
    window = data["window"]
    overview = Table(
        title=f"{data['origin']}: what an import would read (nothing imported)",
        header_style="bold",
    )
    for column in ("channel", "kind", "messages", "in window", "first (UTC)", "last (UTC)"):
        right = column in ("messages", "in window")
        overview.add_column(column, justify="right" if right else "left")
    for channel in data["channels"]:
        overview.add_row(
            f"#{channel['name']}",
            channel["kind"],
            f"{channel['messages']:,}",
            f"{channel['in_window']:,}",
            _short(channel["first"]),
            _short(channel["last"]),
        )
    into = f" · incident {data['incident']}" if data["incident"] else ""
    overview.caption = (
        f"window {window['since'] or 'the beginning'} – {window['until'] or 'now'} (UTC){into}"
        f" · {data['users']:,} users"
    )
    tables = [overview]
    for channel in data["channels"]:
        files = {d["day"]: d for d in channel["day_files"]}
        utc = {d["day"]: d for d in channel["utc_days"]}
        days = Table(title=f"#{channel['name']}: messages per day", header_style="bold")
        days.add_column("day")
        for column in ("day file", "in window", "UTC day", "in window "):
            days.add_column(column, justify="right")
        for day in sorted(files.keys() | utc.keys()):
            named, counted = files.get(day), utc.get(day)
            days.add_row(
                day,
                f"{named['messages']:,}" if named else "—",
                f"{named['in_window']:,}" if named else "—",
                f"{counted['messages']:,}" if counted else "0",
                f"{counted['in_window']:,}" if counted else "0",
            )
        tables.append(days)
    return tables


def _short(moment: str | None) -> str:
    """`2016-03-28 07:12:05` of `2016-03-28T07:12:05+00:00` (the column says UTC)."""
    return moment.replace("T", " ").removesuffix("+00:00") if moment else "—"


def show_preview(preview: SlackPreview, as_json: bool) -> None:
    """Print a preview: JSON with `--json`, else its tables, warnings and the window that
    holds every message of the chosen channels."""
    if as_json:
        print_json(preview.as_dict())
        return
    for table in preview_tables(preview):
        console.print(table)
    data = preview.as_dict()
    for warning in data["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    suggested = data["suggested_window"]
    if suggested:
        console.print(
            f"messages of the chosen channels: {suggested['since']} – {suggested['until']} (UTC)",
            highlight=False,
        )
