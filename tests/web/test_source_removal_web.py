"""Removing a source through the API, the import page and the CLI says what was removed and
which incidents the source had created were kept, and why (real HTTP through the app)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from afteraction.cli.main import app as cli_app
from afteraction.storage.evidence_tables import Page
from afteraction.storage.tables import Incident
from tests.services.imports._helpers import FLAGSHIP, count

PD = FLAGSHIP / "pagerduty"


def _bundle(tmp_path: Path) -> Path:
    """The flagship PagerDuty incident and its log as one saved JSON bundle."""
    path = tmp_path / "pd-bundle.json"
    path.write_text(
        json.dumps(
            {
                "incident": json.loads((PD / "incident.json").read_text())["incident"],
                "log_entries": json.loads((PD / "log_entries.json").read_text())["log_entries"],
            }
        )
    )
    return path


def _upload_pd(client: TestClient, path: Path) -> dict:
    files = {"file": (path.name, path.read_bytes(), "application/json")}
    response = client.post("/api/v1/imports", data={"kind": "pagerduty"}, files=files)
    assert response.status_code == 202, response.text
    status = client.get(response.json()["status_url"]).json()
    assert status["status"] == "complete", status.get("error")
    return dict(status["summary"])


def test_api_removes_the_incident_the_source_created(
    admin: TestClient, db: Session, tmp_path: Path
) -> None:
    summary = _upload_pd(admin, _bundle(tmp_path))
    assert summary["incident"] == "INC-1" and summary["counts"]["incidents created"] == 1
    assert admin.get("/api/v1/incidents/INC-1").status_code == 200

    removed = admin.delete(f"/api/v1/sources/{summary['source_id']}")

    assert removed.status_code == 200, removed.text
    body = removed.json()
    assert body["removed"] == summary["source_id"] and body["kind"] == "pagerduty"
    assert body["incidents_removed"] == ["INC-1"] and body["incidents_kept"] == []
    assert body["rows"] == {"pages": 23, "external_incidents": 1, "incidents": 1}
    assert body["counts"]["pages"] == 23
    assert admin.get("/api/v1/incidents/INC-1").status_code == 404
    assert admin.get("/api/v1/sources").json()["items"] == []
    assert count(db, Incident) == 0 and count(db, Page) == 0


def test_api_keeps_an_incident_with_work_on_it(
    admin: TestClient, db: Session, tmp_path: Path
) -> None:
    summary = _upload_pd(admin, _bundle(tmp_path))
    added = admin.post("/api/v1/incidents/INC-1/action-items", json={"title": "Add a canary"})
    assert added.status_code == 201, added.text

    body = admin.delete(f"/api/v1/sources/{summary['source_id']}").json()

    assert body["incidents_removed"] == []
    assert body["incidents_kept"] == [
        {"incident": "INC-1", "reason": "it has action items not brought by this source"}
    ]
    assert admin.get("/api/v1/incidents/INC-1").status_code == 200
    assert count(db, Page) == 0


def test_page_shows_what_was_removed_and_kept(admin: TestClient, tmp_path: Path) -> None:
    first = _upload_pd(admin, _bundle(tmp_path))
    token = str(admin.headers["X-CSRF-Token"])
    page = admin.post(
        f"/imports/sources/{first['source_id']}/remove",
        data={"csrf_token": token},
        headers={"X-CSRF-Token": ""},
    )
    assert page.status_code == 200, page.text
    assert f"Removed source #{first['source_id']} (pagerduty)" in page.text
    assert "removed with it: INC-1" in page.text and "pages 23" in page.text
    assert "Nothing imported yet" in page.text

    second = _upload_pd(admin, _bundle(tmp_path))
    assert admin.post(
        f"/api/v1/incidents/{second['incident']}/action-items", json={"title": "Fix retries"}
    ).is_success
    page = admin.post(
        f"/imports/sources/{second['source_id']}/remove",
        data={"csrf_token": token},
        headers={"X-CSRF-Token": ""},
    )
    assert page.status_code == 200
    assert "Incidents it had created, kept:" in page.text
    assert f'href="/incidents/{second["incident"]}"' in page.text
    assert "it has action items not brought by this source" in page.text


def test_cli_remove_reports_incidents(database_url: str, db: Session, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"AFTERACTION_DATABASE_URL": database_url, "AFTERACTION_ENVIRONMENT": "development"}
    imported = runner.invoke(cli_app, ["import", "pagerduty", str(PD), "--json"], env=env)
    assert imported.exit_code == 0, imported.output
    source_id = json.loads(imported.stdout)["source_id"]

    table = runner.invoke(cli_app, ["import", "remove", str(source_id)], env=env)
    assert table.exit_code == 0, table.output
    assert "incident removed" in table.stdout and "INC-1" in table.stdout
    assert count(db, Incident) == 0
    db.rollback()

    imported = runner.invoke(cli_app, ["import", "pagerduty", str(PD), "--json"], env=env)
    source_id = json.loads(imported.stdout)["source_id"]
    incident = json.loads(imported.stdout)["incident"]
    retitle = runner.invoke(
        cli_app, ["incident", "update", incident, "--title", "Payments (edited)"], env=env
    )
    assert retitle.exit_code == 0, retitle.output
    removed = runner.invoke(cli_app, ["import", "remove", str(source_id), "--json"], env=env)
    assert removed.exit_code == 0, removed.output
    body = json.loads(removed.stdout)
    assert body["incidents_removed"] == []
    assert body["incidents_kept"][0]["incident"] == incident
    assert body["incidents_kept"][0]["reason"].startswith("it was changed since")
    db.rollback()  # a fresh read: the CLI wrote through its own connection
    assert body["rows"]["pages"] == 23 and count(db, Incident) == 1
