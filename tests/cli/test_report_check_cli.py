"""`afteraction report check INC-ID [--json]` and `GET /api/v1/incidents/{key}/report/claims`:
the same claim findings, a dismissal (with a reason, category `claim`) taking one out of the
open count, and the exit code saying whether any is open."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from afteraction.cli.main import app
from afteraction.core.access import SYSTEM
from afteraction.demo.load import load_demo
from afteraction.services import report_claims, reports
from afteraction.storage.db import writing
from tests.conftest import login, make_user

WRONG = "\n\nJordan Reyes was paged twice, at 20:15 UTC. Kofi Mensah restarted the pods.\n"


def test_cli_json_matches_the_api_and_dismissals_count(
    database_url: str, db: Session, client: TestClient
) -> None:
    load_demo(db)
    with writing(db):
        report = reports.create_report(db, SYSTEM, 301)
    env = {"AFTERACTION_DATABASE_URL": database_url, "AFTERACTION_ENVIRONMENT": "development"}
    runner = CliRunner()
    clean = runner.invoke(app, ["report", "check", "INC-301"], env=env)
    assert clean.exit_code == 0, clean.output
    assert "0 open claim finding(s)" in clean.stdout
    body = reports.version(db, report).body + WRONG
    with writing(db):
        reports.save(db, SYSTEM, 301, body, base=1)
    out = runner.invoke(app, ["report", "check", "INC-301", "--json"], env=env)
    assert out.exit_code == 1, out.output
    data = json.loads(out.stdout)
    assert [(f["kind"], f["text"]) for f in data["findings"]] == [
        ("count", "paged twice"),
        ("time", "20:15 UTC"),
        ("person", "Kofi Mensah"),
    ]
    assert data["open"] == 3 and data["zone"] == "UTC" and data["version"] == 2
    time = data["findings"][1]
    assert time["line"] == body.count("\n") and time["link"].startswith("/incidents/INC-301")
    assert "Config push" in time["evidence"] and time["replacement"] == "20:25 UTC"
    make_user(db, "e@example.com", "investigator")
    login(client, "e@example.com")
    assert client.get("/api/v1/incidents/INC-301/report/claims").json() == data
    with writing(db):
        reports.dismiss(
            db,
            SYSTEM,
            report,
            fingerprint=time["fingerprint"],
            reason="the push started at 20:15 on the deploy tool's clock",
            text=time["text"],
            category=report_claims.CATEGORY,
        )
    after = json.loads(runner.invoke(app, ["report", "check", "INC-301", "--json"], env=env).stdout)
    assert (after["open"], after["dismissed"]) == (2, 1)
    assert [f["dismissed"] for f in after["findings"]] == [False, True, False]
    listed = runner.invoke(app, ["report", "check", "INC-301"], env=env)
    assert "time (dismissed) '20:15 UTC'" in listed.stdout and listed.exit_code == 1
    assert client.get("/api/v1/incidents/INC-404/report/claims").status_code == 404
