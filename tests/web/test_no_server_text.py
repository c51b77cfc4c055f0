"""Server file paths and the database's raw error text never reach a response (issue 17,
point 10): an import that fails on an unexpected error says so without the exception's
text, and a source read from a file on the server keeps only the file's name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from afteraction.services.imports import kinds
from afteraction.services.imports.sources import stored_origin
from tests.web.test_api_imports import upload

SECRET_PATH = "/srv/afteraction/private/stage-7f3a"
RAW_DB = "no such column: interviews.secret_notes"


def _raising(error: Exception) -> Any:
    def kind(*_args: Any) -> Any:
        raise error

    return kind


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT secret_notes FROM interviews", {}, Exception(RAW_DB)),
        PermissionError(13, "Permission denied", SECRET_PATH),
        RuntimeError(f"stage folder {SECRET_PATH} vanished"),
    ],
)
def test_a_failed_import_names_no_path_and_no_database_text(
    admin: TestClient, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    monkeypatch.setitem(kinds.IMPORT_KINDS, "slack", _raising(error))
    job = upload(admin).json()
    status = admin.get(job["status_url"]).json()
    assert status["status"] == "failed"
    assert status["error"] == kinds.INTERNAL_ERROR
    page = admin.get(f"/imports/jobs/{job['job']}").text
    for text in (SECRET_PATH, RAW_DB, "secret_notes", "/srv/"):
        assert text not in str(status) and text not in page


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/srv/exports/slack-export.zip", "slack-export.zip"),
        ("exports/2026/roster.csv", "roster.csv"),
        ("C:\\Users\\ops\\pd.json", "pd.json"),
        ("people.csv", "people.csv"),
        ("slack:C0123", "slack:C0123"),
        ("interview:7", "interview:7"),
        ("https://wiki.example.com/postmortems/12", "https://wiki.example.com/postmortems/12"),
    ],
)
def test_a_source_keeps_a_files_name_not_its_server_path(given: str, kept: str) -> None:
    assert stored_origin(given) == kept


def test_a_command_line_import_lists_no_server_path(
    admin: TestClient, db: Any, tmp_path: Path
) -> None:
    from afteraction.core.access import SYSTEM
    from afteraction.services.imports.roster import import_roster
    from afteraction.storage.db import writing

    roster = tmp_path / "secret-folder" / "people.csv"
    roster.parent.mkdir()
    roster.write_text("name,email,team\nAda Lovelace,ada@example.com,Payments\n")
    with writing(db):
        import_roster(db, SYSTEM, roster)
    listed = admin.get("/api/v1/sources").json()["items"]
    assert [s["origin"] for s in listed] == ["people.csv"]
    assert str(tmp_path) not in admin.get("/imports").text
