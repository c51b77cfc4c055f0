"""`afteraction backup` and `afteraction restore`: a round trip into a second database gives
back every table row for row, the job queue file and the stored uploads; a database that
holds data is refused without --force. On SQLite, and on PostgreSQL when pg_dump is there."""

from __future__ import annotations

import shutil
import sqlite3
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from afteraction.cli.main import app
from afteraction.storage.db import make_engine
from afteraction.storage.models import Base
from tests.services.imports._helpers import shared_fixture

runner = CliRunner()
HFARAN = "slack/slack-export-viewer/tests/testarchive_zip_contents"


def _tables(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (and the schema revision), in primary-key order."""
    with engine.connect() as connection:
        rows = {
            table.name: [
                tuple(row)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }
        rows["alembic_version"] = list(
            connection.execute(text("SELECT version_num FROM alembic_version"))
        )
    return rows  # type: ignore[return-value]


@pytest.fixture
def target_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database on the same kind of server."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump and pg_restore are not installed: PostgreSQL backups need them")
    name = f"afteraction_restore_{uuid.uuid4().hex[:8]}"
    admin = make_engine(database_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _env(url: str, folder: Path) -> dict[str, str]:
    return {
        "AFTERACTION_DATABASE_URL": url,
        "AFTERACTION_ENVIRONMENT": "development",
        "AFTERACTION_QUEUE_URL": f"sqlite:///{folder / 'queue.db'}",
        "AFTERACTION_UPLOADS_DIR": str(folder / "uploads"),
    }


def test_backup_then_restore_gives_back_every_table_row_for_row(
    database_url: str, engine: Engine, db: Session, target_url: str, tmp_path: Path
) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    env = _env(database_url, source)
    imported = runner.invoke(app, ["import", "slack", str(shared_fixture(HFARAN))], env=env)
    assert imported.exit_code == 0, imported.output
    (source / "uploads").mkdir(parents=True)
    (source / "uploads" / "0123-export.zip").write_bytes(b"an upload waiting for its job")
    with sqlite3.connect(source / "queue.db") as queue:
        queue.execute("CREATE TABLE task (id INTEGER PRIMARY KEY, data BLOB)")
        queue.execute("INSERT INTO task (data) VALUES (x'0102')")
    queue.close()

    archive = tmp_path / "backup.tar.gz"
    done = runner.invoke(app, ["backup", str(archive)], env=env)
    assert done.exit_code == 0, done.output
    assert "1 stored upload" in done.output and "job queue" in done.output
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"manifest.json", "queue.sqlite", "uploads/0123-export.zip"} <= names
    again = runner.invoke(app, ["backup", str(archive)], env=env)
    assert again.exit_code == 1 and "already exists" in again.output

    restored = runner.invoke(app, ["restore", str(archive)], env=_env(target_url, target))
    assert restored.exit_code == 0, restored.output
    assert "restored from" in restored.output and "1 stored upload" in restored.output
    copy = make_engine(target_url)
    try:
        original, back = _tables(engine), _tables(copy)
        assert original["messages"] and original["sources"]  # something worth comparing
        for name in original:
            assert back[name] == original[name], f"table {name} differs after the round trip"
    finally:
        copy.dispose()
    assert (target / "uploads" / "0123-export.zip").read_bytes() == (
        b"an upload waiting for its job"
    )
    with sqlite3.connect(target / "queue.db") as queue:
        assert queue.execute("SELECT data FROM task").fetchall() == [(b"\x01\x02",)]
    queue.close()

    refused = runner.invoke(app, ["restore", str(archive)], env=_env(target_url, target))
    assert refused.exit_code == 1 and "--force" in refused.output
    forced = runner.invoke(app, ["restore", str(archive), "--force"], env=_env(target_url, target))
    assert forced.exit_code == 0, forced.output


def test_restore_refuses_what_is_not_a_backup(database_url: str, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.tar"
    with tarfile.open(bogus, "w") as tar:
        tar.add(__file__, "something.py")
    env = _env(database_url, tmp_path)
    for path in (bogus, tmp_path / "missing.tar"):
        result = runner.invoke(app, ["restore", str(path)], env=env)
        assert result.exit_code == 1 and "backup" in result.output


def test_a_path_with_square_brackets_is_printed_as_given(database_url: str, tmp_path: Path) -> None:
    """Output lines are plain text: a path that looks like console markup stays as typed."""
    archive = tmp_path / "[bold]nightly[/bold].tar"
    done = runner.invoke(app, ["backup", str(archive)], env=_env(database_url, tmp_path))
    assert done.exit_code == 0, done.output
    assert f"backed up to {archive}:" in done.output
