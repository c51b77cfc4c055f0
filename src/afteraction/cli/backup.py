"""`afteraction backup PATH` and `afteraction restore PATH`: the whole installation (database,
job queue file, stored uploads) to and from one tar archive (`services.backup`); and
`afteraction export --json PATH` / `afteraction import-all PATH`: the whole organisation as
portable JSON Lines, between databases of either kind (`services.transfer`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from afteraction.cli.context import fail, print_json, run, say, state_of
from afteraction.services import backup as service
from afteraction.services import transfer


def _holding(report: service.BackupReport) -> str:
    rows = sum(report.rows.values())
    tables = sum(1 for count in report.rows.values() if count)
    queue = "the job queue, " if report.queue else ""
    return (
        f"{report.dialect} database at revision {report.revision or 'none'} "
        f"({rows} rows in {tables} tables), {queue}{len(report.uploads)} stored upload(s)"
    )


def backup(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Archive to write (.tar, or .tar.gz to compress).")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the manifest as JSON.")
    ] = False,
) -> None:
    """Back up the database, the job queue file and the stored uploads into one tar archive,
    while afteraction keeps running (SQLite: the online backup API; PostgreSQL: pg_dump).

    Example: afteraction backup /backups/afteraction-2026-12-07.tar.gz
    """
    settings = state_of(ctx).settings
    report = run(lambda: service.backup(settings, path))
    if json_output:
        print_json(report.manifest())
        return
    say(f"backed up to {path}: {_holding(report)}")


def restore(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Archive written by afteraction backup.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that already holds data.")
    ] = False,
) -> None:
    """Restore an archive written by afteraction backup into the configured database, job
    queue file and uploads folder, then migrate it to this version. Stop afteraction first.
    A database that already holds data is refused unless --force.

    Example: afteraction restore /backups/afteraction-2026-12-07.tar.gz
    """
    settings = state_of(ctx).settings
    report = run(lambda: service.restore(settings, path, force=force))
    say(
        f"restored from {path}: {_holding(report.restored)}; "
        f"database now at revision {report.revision}"
    )


def export(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(help="File to write (JSON Lines; gzip-compressed when it ends in .gz)."),
    ],
    json_format: Annotated[
        bool, typer.Option("--json", help="JSON Lines, the portable format (the only one).")
    ] = True,
) -> None:
    """Export the whole organisation (every row of every table) to one portable JSON Lines
    file, to move it to another database of either kind with `afteraction import-all`.

    Example: afteraction export --json afteraction-export.jsonl.gz
    """
    if not json_format:
        fail("the export is JSON Lines only: drop --no-json", code=2)
    settings = state_of(ctx).settings
    done = run(lambda: transfer.export_all(settings, path))
    tables = sum(1 for count in done.rows.values() if count)
    say(
        f"exported {done.total:,} rows in {tables} tables of the {done.dialect} database "
        f"(schema revision {done.revision}) to {path}"
    )


def import_all(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="File written by afteraction export --json.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that already holds data.")
    ] = False,
) -> None:
    """Load a whole organisation written by `afteraction export --json` into the configured
    database (SQLite or PostgreSQL, migrated first), in one transaction: all of it or nothing.
    A database that already holds data is refused unless --force.

    Example: afteraction --database-url postgresql://db/afteraction import-all export.jsonl.gz
    """
    settings = state_of(ctx).settings
    done = run(lambda: transfer.import_all(settings, path, force=force))
    tables = sum(1 for count in done.rows.values() if count)
    say(
        f"imported {done.total:,} rows in {tables} tables into the {done.dialect} database "
        f"(schema revision {done.revision}) from {path}"
    )
