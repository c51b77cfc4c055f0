"""Bad import files are a clear refusal naming the file the user gave, through the command
line and the web upload alike; never a crash, and never the name the upload is stored under
on the server."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from afteraction.cli.main import app as cli
from afteraction.config import Settings
from afteraction.storage.evidence_tables import Source

HUGE_LINE = b"name,email\n" + b'"' + b"x" * 300_000 + b'",ada@example.com\n'
DEEP = b"[" * 5_000 + b"]" * 5_000
NAN = b'{"incident": {"id": "P1", "title": "x", "created_at": NaN}}'

BAD_FILES = [
    ("roster", "people-2026.csv", HUGE_LINE, "people-2026.csv: line 2"),
    ("reports", "old-outage.md", b"\n  \n", "old-outage.md: the file is empty"),
    ("pagerduty", "deep-payload.json", DEEP, "deep-payload.json: line 1"),
    ("pagerduty", "nan-payload.json", NAN, "nan-payload.json: line 1"),
    ("oncall", "deep-shifts.json", DEEP, "deep-shifts.json: line 1"),
]


@pytest.mark.parametrize(("kind", "name", "data", "expected"), BAD_FILES)
def test_the_cli_refuses_naming_the_file(
    kind: str, name: str, data: bytes, expected: str, database_url: str, db: Session, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    env = {"AFTERACTION_DATABASE_URL": database_url, "AFTERACTION_ENVIRONMENT": "development"}
    result = CliRunner().invoke(cli, ["import", kind, str(path)], env=env)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert expected in " ".join(result.output.split()), result.output


@pytest.mark.parametrize(("kind", "name", "data", "expected"), BAD_FILES)
def test_the_web_upload_fails_naming_the_file(
    kind: str, name: str, data: bytes, expected: str, admin: TestClient, settings: Settings
) -> None:
    files = {"file": (name, data, "application/octet-stream")}
    response = admin.post("/api/v1/imports", data={"kind": kind}, files=files)
    assert response.status_code == 202, response.text
    job = admin.get(response.json()["status_url"]).json()
    assert job["status"] == "failed" and job["error"].startswith(expected), job
    assert str(settings.uploads_path()) not in job["error"]
    assert f"-{name}" not in job["error"]  # the stored name is a random prefix and the name


def test_an_empty_upload_is_refused_naming_the_file(admin: TestClient) -> None:
    files = {"file": ("old-outage.md", b"", "text/markdown")}
    response = admin.post("/api/v1/imports", data={"kind": "reports"}, files=files)
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "old-outage.md: the file is empty"


def test_a_finished_upload_names_the_given_file(
    admin: TestClient, db: Session, settings: Settings
) -> None:
    roster = b"name,email,manager\nAda Lovelace,ada@example.com,Nobody Here\n"
    files = {"file": ("people.csv", roster, "text/csv")}
    response = admin.post("/api/v1/imports", data={"kind": "roster"}, files=files)
    job = admin.get(response.json()["status_url"]).json()
    assert job["status"] == "complete", job["error"]
    assert job["summary"]["origin"] == "people.csv"
    assert str(settings.uploads_path()) not in str(job["summary"])
    assert job["summary"]["warnings"] == [
        "people.csv: row 2: manager 'Nobody Here' is not in the roster"
    ]
    db.expire_all()
    assert db.scalars(select(Source.origin)).all() == ["people.csv"]
