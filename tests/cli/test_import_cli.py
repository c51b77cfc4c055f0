"""`afteraction import slack|sources|remove` through Typer's runner, and an import process
killed mid-way leaving every table as it was."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from afteraction.cli.main import app
from afteraction.services.imports.slack_parallel import usable_cpus
from tests.services.imports._helpers import row_counts, shared_fixture

runner = CliRunner()
HFARAN = "slack/slack-export-viewer/tests/testarchive_zip_contents"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(database_url: str, db: Session) -> dict[str, str]:
    return {"AFTERACTION_DATABASE_URL": database_url, "AFTERACTION_ENVIRONMENT": "development"}


def invoke(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=env)


def test_slack_table_json_sources_and_remove(env: dict[str, str]) -> None:
    path = str(shared_fixture(HFARAN))
    shown = invoke(env, "import", "slack", path, "--channel", "enrique")
    assert shown.exit_code == 0, shown.output
    assert "organisation's archive" in shown.stdout and "unmatched person" in shown.stdout
    again = invoke(env, "import", "slack", path, "--channel", "enrique", "--json")
    data = json.loads(again.stdout)
    assert data["already_imported"] is True and data["counts"]["messages"] == 25
    listed = json.loads(invoke(env, "import", "sources", "--json").stdout)["items"]
    assert [s["kind"] for s in listed] == ["slack_export"]
    assert set(listed[0]["warnings"]) == {"skipped", "skipped_total", "unmatched", "notes"}
    assert listed[0]["warnings"]["unmatched"] == data["unmatched"]
    table = invoke(env, "import", "sources")
    assert table.exit_code == 0 and "slack_export" in table.stdout
    removed = invoke(env, "import", "remove", str(listed[0]["id"]), "--json")
    assert json.loads(removed.stdout)["counts"]["messages"] == 25
    assert json.loads(invoke(env, "import", "sources", "--json").stdout)["items"] == []
    assert invoke(env, "import", "remove", "999").exit_code == 1


def test_failure_names_file_and_position_and_exits_non_zero(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "c").mkdir()
    (tmp_path / "users.json").write_text("[]")
    (tmp_path / "c" / "2026-03-02.json").write_text('[{"ts": "1772445600.000001", "text": "x')
    failed = invoke(env, "import", "slack", str(tmp_path))
    assert failed.exit_code == 1
    assert "c/2026-03-02.json" in failed.output
    bad_time = invoke(env, "import", "slack", str(tmp_path), "--since", "yesterday")
    assert bad_time.exit_code != 0


@pytest.mark.slow
def test_killed_import_leaves_every_table_unchanged(
    env: dict[str, str], db: Session, tmp_path: Path
) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from slack_synth import generate
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    invoke(env, "import", "slack", str(shared_fixture(HFARAN)))  # something already there
    export = tmp_path / "big"
    generate(export, messages=150_000, channels=10, users=200)
    before = row_counts(db)
    wal_start = _truncate_wal(db, env["AFTERACTION_DATABASE_URL"])
    temporary = tmp_path / "tmp"  # where the parsers stage their rows
    temporary.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "afteraction.cli.main", "import", "slack", str(export), "--json"],
        env={**os.environ, **env, "TMPDIR": str(temporary)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert _wait_until_writing(process, db, env["AFTERACTION_DATABASE_URL"], wal_start), (
        "the import finished before it could be killed"
    )
    parsers = _parser_processes(process.pid)
    if db.get_bind().dialect.name == "sqlite" and usable_cpus() > 1:
        assert parsers, "a fresh export this large is read by parser processes"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert row_counts(db) == before
    deadline = time.monotonic() + 60  # a parser stops at its next write to the dead pipe
    while any(Path(f"/proc/{pid}").exists() for pid in parsers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in parsers if Path(f"/proc/{pid}").exists()]
    assert not [p for p in temporary.rglob("*") if p.is_file()], "staged files left behind"


@pytest.mark.slow
def test_a_killed_import_that_held_the_file_alone_is_rolled_back(tmp_path: Path) -> None:
    """The command-line import holds a SQLite file that nothing else has open with a
    rollback journal (`writing(..., alone=True)`); killed mid-way, it leaves a hot journal
    that the next connection rolls back: every table as before, WAL mode again."""
    from afteraction.storage.db import make_engine, make_session_factory, upgrade

    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from slack_synth import generate
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    database = tmp_path / "alone.db"
    url = f"sqlite:///{database}"
    upgrade(url)
    env = {"AFTERACTION_DATABASE_URL": url, "AFTERACTION_ENVIRONMENT": "development"}
    generate(tmp_path / "small", messages=300, channels=2, users=5)
    assert invoke(env, "import", "slack", str(tmp_path / "small")).exit_code == 0
    engine = make_engine(url)
    session = make_session_factory(engine)()
    before = row_counts(session)
    session.close()
    engine.dispose()  # the import must find the file with no other connection
    export = tmp_path / "big"
    generate(export, messages=150_000, channels=10, users=200)
    size_before = database.stat().st_size
    journal = Path(f"{database}-journal")
    process = subprocess.Popen(
        [sys.executable, "-m", "afteraction.cli.main", "import", "slack", str(export), "--json"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 300  # a guard against a hung import only
    while process.poll() is None and time.monotonic() < deadline:
        # uncommitted pages go straight into the file, beside the rollback journal
        if journal.exists() and database.stat().st_size > size_before + 1024 * 1024:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the import finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert journal.exists(), "a killed import that held the file alone leaves its journal"
    engine = make_engine(url)
    session = make_session_factory(engine)()
    assert row_counts(session) == before
    assert session.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert session.connection().exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    session.close()
    engine.dispose()
    assert not journal.exists()


def _parser_processes(parent: int) -> list[int]:
    """The parser processes (`importers.slack_parallel`) a process started (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent_pid = int(stat.rsplit(")", 1)[1].split()[1])
        if parent_pid == parent and b"afteraction.services.imports.slack_parallel" in command:
            found.append(int(entry.name))
    return found


def _wal_path(url: str) -> Path:
    return Path(f"{make_url(url).database}-wal")


def _truncate_wal(db: Session, url: str) -> int:
    """On SQLite, empty the write-ahead log (so its growth shows the import writing) and
    return its size afterwards; 0 elsewhere."""
    if db.get_bind().dialect.name != "sqlite":
        return 0
    with sqlite3.connect(make_url(url).database or "") as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    wal = _wal_path(url)
    return wal.stat().st_size if wal.exists() else 0


def _wait_until_writing(
    process: subprocess.Popen[bytes], db: Session, url: str, wal_start: int
) -> bool:
    """Wait until the import's one transaction has written messages, without committing:
    on SQLite, uncommitted pages spilled into the write-ahead log (a megabyte more than
    before); on PostgreSQL, the row lock an INSERT takes on `messages`. False when the
    import ended first. The deadline is only a guard against a hung import."""
    sqlite = db.get_bind().dialect.name == "sqlite"
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        if sqlite:
            wal = _wal_path(url)
            if wal.exists() and wal.stat().st_size > wal_start + 1024 * 1024:
                return True
        else:
            locks = db.scalar(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE c.relname = 'messages' AND l.mode = 'RowExclusiveLock' "
                    "AND l.pid <> pg_backend_pid()"
                )
            )
            db.rollback()
            if locks:
                return True
        time.sleep(0.02)
    return process.poll() is None
