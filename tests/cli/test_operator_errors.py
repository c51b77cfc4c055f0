"""An operator's errors end a command with one line that names the file or server and what
to do, and a non-zero exit: never a traceback with SQL. Run as a user runs it: the real
command in a child process, with its own SQLite files whatever database the suite uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def afteraction(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERACTION_")}
    env["AFTERACTION_ENVIRONMENT"] = "development"
    return subprocess.run(
        [sys.executable, "-m", "afteraction.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    said = " ".join(result.stderr.split())
    assert said.startswith("error: "), said
    for leak in ("Traceback", "sqlalchemy", "sqlite3.", "INSERT", "SELECT"):
        assert leak not in said, said
    return said


def test_a_read_only_database(tmp_path: Path) -> None:
    assert afteraction("db", "upgrade", cwd=tmp_path).returncode == 0
    read_only = f"sqlite:///file:{tmp_path / 'afteraction.db'}?mode=ro&uri=true"
    said = one_clear_line(
        afteraction(
            "--database-url",
            read_only,
            "incident",
            "create",
            "--title",
            "x",
            "--severity",
            "SEV2",
            cwd=tmp_path,
        )
    )
    assert f"{tmp_path / 'afteraction.db'}: the database is read-only" in said


def test_a_folder_that_cannot_be_made(tmp_path: Path) -> None:
    said = one_clear_line(
        afteraction("--database-url", "sqlite:////proc/none/x.db", "incident", "list", cwd=tmp_path)
    )
    assert "/proc/none: no such file or folder" in said


def test_a_database_never_upgraded(tmp_path: Path) -> None:
    said = one_clear_line(afteraction("incident", "list", cwd=tmp_path))
    assert str(tmp_path / "afteraction.db") in said and "afteraction db upgrade" in said


def test_a_database_server_that_is_not_there(tmp_path: Path) -> None:
    url = "postgresql://someone:pw@127.0.0.1:9/incidents"
    said = one_clear_line(afteraction("--database-url", url, "incident", "list", cwd=tmp_path))
    assert "127.0.0.1:9" in said and "refused the connection" in said and "pw" not in said
