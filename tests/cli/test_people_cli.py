"""`afteraction incident people INC-ID [--json]`: the table and the API's JSON."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from afteraction.cli.main import app
from tests.analysis_fixtures import build
from tests.conftest import login, make_user


def test_people_json_matches_the_api(database_url: str, db: Session, client: TestClient) -> None:
    built = build(db)
    env = {"AFTERACTION_DATABASE_URL": database_url, "AFTERACTION_ENVIRONMENT": "development"}
    runner = CliRunner()
    out = runner.invoke(app, ["incident", "people", f"INC-{built.incident}", "--json"], env=env)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    make_user(db, "v@example.com", "viewer")
    login(client, "v@example.com")
    api = client.get(f"/api/v1/incidents/INC-{built.incident}/people").json()
    assert data == api
    table = runner.invoke(app, ["incident", "people", str(built.incident)], env=env)
    assert table.exit_code == 0 and "Ana" in table.stdout and "paged" in table.stdout
    missing = runner.invoke(app, ["incident", "people", "INC-999"], env=env)
    assert missing.exit_code == 1
