"""What every `afteraction import …` command prints: a Rich progress bar on stderr while an
import runs, and the summary afterwards — a table of counts, skipped items with reasons,
unmatched people and warnings, or the summary as JSON with `--json` (the model the API's
import job shows, `ImportSummaryRead`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from afteraction.cli.context import console, err_console, print_model
from afteraction.services.imports.sources import ImportSummary, Progress
from afteraction.services.schemas import import_summary_read

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
