"""A PagerDuty JSON file is read whole, so one past the configured size limit is refused with
an error naming it — before it is read, or while reading when it has no size (a pipe) —
and nothing is written. The limit comes from `Settings.max_json_file_bytes` for the CLI and
upload jobs."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from afteraction.cli.main import app as cli_app
from afteraction.config import Settings
from afteraction.core.access import SYSTEM
from afteraction.core.errors import ImportFailed
from afteraction.services.imports.pagerduty import MAX_FILE_BYTES, import_pagerduty
from afteraction.storage.db import writing
from afteraction.web.app import create_app
from tests.conftest import login, make_user
from tests.services.imports._helpers import FLAGSHIP, row_counts

PD = FLAGSHIP / "pagerduty"
LIMIT = 4096


def _padded_bundle(path: Path, size: int) -> Path:
    """A valid bundle (the flagship incident) padded with whitespace to `size` bytes."""
    bundle = {"incident": json.loads((PD / "incident.json").read_text())["incident"]}
    body = json.dumps(bundle).encode()
    path.write_bytes(body + b" " * max(0, size - len(body)))
    return path


def _import(db: Session, source: Path, limit: int = LIMIT):  # type: ignore[no-untyped-def]
    with writing(db):
        return import_pagerduty(db, SYSTEM, source, max_file_bytes=limit)


def test_the_default_limit_is_the_documented_one() -> None:
    default = Settings.model_fields["max_json_file_bytes"].default
    assert MAX_FILE_BYTES == 64 * 1024 * 1024 == default


def test_a_file_past_the_limit_is_refused_by_name(db: Session, tmp_path: Path) -> None:
    small = _padded_bundle(tmp_path / "small.json", LIMIT)
    assert _import(db, small).counts["external incidents"] == 1  # exactly the limit: read
    huge = _padded_bundle(tmp_path / "huge.json", LIMIT * 50)
    before = row_counts(db)
    with pytest.raises(ImportFailed) as caught:
        _import(db, huge)
    assert caught.value.details["where"] == "huge.json"
    assert f"{LIMIT * 50:,} bytes; the limit is {LIMIT:,} bytes" in caught.value.message
    assert "AFTERACTION_MAX_JSON_FILE_BYTES" in caught.value.message
    assert row_counts(db) == before


def test_a_huge_file_in_a_folder_is_named(db: Session, tmp_path: Path) -> None:
    folder = tmp_path / "pd"
    shutil.copytree(PD, folder)
    entries = (folder / "log_entries.json").read_bytes()
    (folder / "log_entries.json").write_bytes(entries + b" " * (LIMIT * 100))
    before = row_counts(db)
    with pytest.raises(ImportFailed, match="too large to read whole") as caught:
        _import(db, folder, limit=max(LIMIT, len(entries) + 1))
    assert caught.value.details["where"] == "log_entries.json"
    assert row_counts(db) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_without_a_size_is_cut_off_at_the_limit(db: Session, tmp_path: Path) -> None:
    pipe = tmp_path / "stream.json"
    os.mkfifo(pipe)
    written: list[int] = []

    def endless_writer() -> None:
        chunk = b" " * 65536
        try:
            with pipe.open("wb") as out:
                for _ in range(1000):  # far more than the limit
                    out.write(chunk)
                    written.append(len(chunk))
        except BrokenPipeError:
            pass  # the reader stopped at the limit and closed its end

    writer = threading.Thread(target=endless_writer, daemon=True)
    writer.start()
    before = row_counts(db)
    with pytest.raises(ImportFailed, match="more than that; the limit is 4,096 bytes") as caught:
        _import(db, pipe)
    writer.join(timeout=30)
    assert caught.value.details["where"] == "stream.json"
    assert sum(written) < 1000 * 65536  # the reader did not drain the stream
    assert row_counts(db) == before


def test_the_setting_limits_upload_jobs(settings: Settings, db: Session, tmp_path: Path) -> None:
    limited = settings.model_copy(update={"max_json_file_bytes": LIMIT})
    huge = _padded_bundle(tmp_path / "pd-export.json", LIMIT * 10)
    with TestClient(create_app(limited)) as client:
        make_user(db, "admin@example.com", "admin")
        login(client, "admin@example.com")
        files = {"file": (huge.name, huge.read_bytes(), "application/json")}
        response = client.post("/api/v1/imports", data={"kind": "pagerduty"}, files=files)
        assert response.status_code == 202, response.text
        status = client.get(response.json()["status_url"]).json()
    assert status["status"] == "failed"
    assert "too large to read whole" in status["error"] and "pd-export.json" in status["error"]
    assert f"the limit is {LIMIT:,} bytes" in status["error"]


def test_the_setting_limits_the_cli(database_url: str, db: Session, tmp_path: Path) -> None:
    huge = _padded_bundle(tmp_path / "pd-export.json", LIMIT * 10)
    env = {
        "AFTERACTION_DATABASE_URL": database_url,
        "AFTERACTION_ENVIRONMENT": "development",
        "AFTERACTION_MAX_JSON_FILE_BYTES": str(LIMIT),
    }
    result = CliRunner().invoke(cli_app, ["import", "pagerduty", str(huge)], env=env)
    assert result.exit_code == 1
    assert "pd-export.json" in result.output and "too large to read whole" in result.output
    env["AFTERACTION_MAX_JSON_FILE_BYTES"] = str(LIMIT * 20)
    result = CliRunner().invoke(cli_app, ["import", "pagerduty", str(huge), "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["external incidents"] == 1


def test_on_call_files_have_the_same_limit(db: Session, tmp_path: Path) -> None:
    from afteraction.services.imports.oncall import import_oncall

    oncalls = tmp_path / "oncalls.json"
    oncalls.write_bytes((PD / "oncalls.json").read_bytes() + b" " * (LIMIT * 10))
    before = row_counts(db)
    with pytest.raises(ImportFailed, match="too large to read whole") as caught, writing(db):
        import_oncall(db, SYSTEM, oncalls, max_file_bytes=LIMIT)
    assert caught.value.details["where"] == "oncalls.json"
    assert row_counts(db) == before
