"""Stage folders a killed import left are deleted when the next import or process starts;
those of a running import, and anything else in the temporary folder, are kept."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from afteraction.services.imports import jobs
from afteraction.services.imports.stage_dirs import PREFIX, make_stage_dir, sweep_stage_dirs


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def killed_import_folder(root: Path) -> Path:
    folder = root / f"{PREFIX}{dead_pid()}-abc123"
    (folder / "parser1").mkdir(parents=True)
    (folder / "parser1" / "stage-1.db").write_bytes(b"rows" * 1000)
    return folder


def test_a_dead_process_folder_goes_and_a_live_one_stays(tmp_path: Path) -> None:
    mine = make_stage_dir(tmp_path)
    stale = killed_import_folder(tmp_path)
    other = tmp_path / f"{PREFIX}notapid"
    other.mkdir()
    unrelated = tmp_path / "something-else-123-x"
    unrelated.mkdir()
    assert mine.name.startswith(f"{PREFIX}")
    assert sweep_stage_dirs(tmp_path) == [stale]
    assert not stale.exists()
    assert mine.is_dir() and other.is_dir() and unrelated.is_dir()


def test_a_starting_process_sweeps_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str, db: object
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stale = killed_import_folder(tmp_path)
    assert jobs.recover(database_url, stale_after=60) == []
    assert not stale.exists()
