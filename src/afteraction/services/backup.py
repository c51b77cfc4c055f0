"""Backup and restore of a whole installation: the database, the job queue file and the
stored uploads, in one tar archive (gzip-compressed when its name ends in .gz or .tgz).

The archive holds `manifest.json` (format, version, database kind, schema revision, rows per
table, what else is inside), the database (`database.sqlite`: a copy by SQLite's online
backup API; `database.pgdump`: `pg_dump --format=custom`), `queue.sqlite` when the queue
is a SQLite file, and `uploads/<file>` for each stored upload. A backup runs while
afteraction runs: the database copy is one consistent snapshot (the queue file and uploads
are copied just after it).

`restore` refuses a database that already holds data unless forced, puts everything back
(SQLite: the backup API again, over the file; PostgreSQL: `pg_restore --clean`), then
migrates the database to this version's schema.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.engine import make_url

from afteraction import __version__
from afteraction.config import Settings
from afteraction.core.errors import Conflict, ValidationError
from afteraction.storage.db import current_revision, head_revision, make_engine, upgrade
from afteraction.storage.models import Base

FORMAT = 1
SEEDED = frozenset({"severities", "annotation_tags"})
"""Tables the migrations fill (0001, 0005): rows there are no sign of data worth keeping."""


@dataclass
class BackupReport:
    """What an archive holds (also its manifest)."""

    dialect: str
    revision: str | None
    rows: dict[str, int]
    queue: bool
    uploads: list[str] = field(default_factory=list)

    def manifest(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": __version__,
            "dialect": self.dialect,
            "revision": self.revision,
            "rows": self.rows,
            "queue": self.queue,
            "uploads": self.uploads,
        }


@dataclass
class RestoreReport:
    restored: BackupReport
    revision: str | None
    """The schema revision after restoring (migrated to this version's)."""


def _compressed(path: Path) -> bool:
    return path.name.endswith((".gz", ".tgz"))


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in each of afteraction's tables that exist in the database."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        return {
            table.name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
            if table.name in present
        }


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy one SQLite database over another with the online backup API (consistent even
    while the source is being written)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL for pg_dump / pg_restore, and the environment holding its password."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    tool = shutil.which(command[0])
    if tool is None:
        raise ValidationError(f"{command[0]} is not installed; install PostgreSQL's client tools")
    done = subprocess.run([tool, *command[1:]], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise ValidationError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def backup(settings: Settings, target: Path) -> BackupReport:
    """Write the archive at `target` (never over an existing file)."""
    if target.exists():
        raise ValidationError(f"{target} already exists; choose a new name", field="path")
    engine = make_engine(settings.database_url)
    try:
        report = BackupReport(
            dialect=engine.dialect.name,
            revision=current_revision(engine),
            rows=row_counts(engine),
            queue=False,
        )
    finally:
        engine.dispose()
    with tempfile.TemporaryDirectory(prefix="afteraction-backup-") as work:
        folder = Path(work)
        if report.dialect == "sqlite":
            database = settings.sqlite_path()
            if database is None:
                raise ValidationError("an in-memory database cannot be backed up")
            _sqlite_copy(database, folder / "database.sqlite")
            dump = folder / "database.sqlite"
        else:
            url, env = _libpq(settings.database_url)
            dump = folder / "database.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", url], env)
        queue = settings.queue_path()
        if queue is not None and queue.is_file():
            _sqlite_copy(queue, folder / "queue.sqlite")
            report.queue = True
        uploads = settings.uploads_path()
        files = sorted(p for p in uploads.iterdir() if p.is_file()) if uploads.is_dir() else []
        report.uploads = [p.name for p in files]
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(target, "w:gz" if _compressed(target) else "w") as archive:
            manifest = json.dumps(report.manifest(), indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(manifest)
            archive.addfile(info, io.BytesIO(manifest))
            archive.add(dump, dump.name)
            if report.queue:
                archive.add(folder / "queue.sqlite", "queue.sqlite")
            for path in files:
                archive.add(path, f"uploads/{path.name}")
    return report


def _read_manifest(archive: tarfile.TarFile, source: Path) -> BackupReport:
    try:
        member = archive.extractfile("manifest.json")
        data = json.loads(member.read()) if member is not None else None
    except (KeyError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationError(f"{source} is not an afteraction backup", field="path")
    return BackupReport(
        dialect=str(data["dialect"]),
        revision=data.get("revision"),
        rows=dict(data.get("rows") or {}),
        queue=bool(data.get("queue")),
        uploads=list(data.get("uploads") or []),
    )


def _holds_data(engine: Engine) -> bool:
    return any(count for name, count in row_counts(engine).items() if name not in SEEDED)


def restore(settings: Settings, source: Path, *, force: bool = False) -> RestoreReport:
    """Put the archive at `source` back into the configured database, queue file and
    uploads folder. A database holding data is refused unless `force`."""
    if not source.is_file():
        raise ValidationError(f"no backup at {source}", field="path")
    try:
        archive = tarfile.open(source, "r:*")
    except tarfile.TarError as error:
        raise ValidationError(f"{source} is not an afteraction backup: {error}") from None
    with archive, tempfile.TemporaryDirectory(prefix="afteraction-restore-") as work:
        report = _read_manifest(archive, source)
        engine = make_engine(settings.database_url)
        try:
            if engine.dialect.name != report.dialect:
                raise ValidationError(
                    f"this backup is of a {report.dialect} database; the configured one is "
                    f"{engine.dialect.name}"
                )
            if not force and _holds_data(engine):
                raise Conflict(
                    "the database already holds data; restoring replaces all of it: "
                    "run again with --force to do so"
                )
        finally:
            engine.dispose()
        name = "database.sqlite" if report.dialect == "sqlite" else "database.pgdump"
        archive.extract(name, work, filter="data")
        dump = Path(work) / name
        if report.dialect == "sqlite":
            database = settings.sqlite_path()
            if database is None:
                raise ValidationError("cannot restore into an in-memory database")
            database.parent.mkdir(parents=True, exist_ok=True)
            _sqlite_copy(dump, database)
        else:
            url, env = _libpq(settings.database_url)
            restore_args = ["--clean", "--if-exists", "--no-owner", "--single-transaction"]
            _run(["pg_restore", *restore_args, f"--dbname={url}", str(dump)], env)
        queue = settings.queue_path()
        if report.queue and queue is not None:
            archive.extract("queue.sqlite", work, filter="data")
            queue.parent.mkdir(parents=True, exist_ok=True)
            _sqlite_copy(Path(work) / "queue.sqlite", queue)
        uploads = settings.uploads_path()
        for name in report.uploads:
            member = archive.extractfile(f"uploads/{name}")
            if member is None:
                continue
            uploads.mkdir(parents=True, exist_ok=True)
            with (uploads / Path(name).name).open("wb") as out:
                shutil.copyfileobj(member, out)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    return RestoreReport(restored=report, revision=revision or head_revision())
