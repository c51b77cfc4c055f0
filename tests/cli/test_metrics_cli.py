"""`afteraction metrics` against a real migrated database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from afteraction.cli.main import app
from afteraction.core.access import SYSTEM
from afteraction.services import incidents as repo
from afteraction.storage.db import writing
from afteraction.storage.tables import Service

runner = CliRunner()
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_metrics_json_table_and_bad_filters(database_url: str, db) -> None:
    env = {"AFTERACTION_DATABASE_URL": database_url, "AFTERACTION_ENVIRONMENT": "development"}
    with writing(db):
        db.add(Service(slug="checkout", name="Checkout"))
    for kind in ("default", "gameday"):
        with writing(db):
            repo.declare(db, SYSTEM, repo.IncidentInput(
                title=kind, severity="SEV2", services=["checkout"], type=kind,
                milestones={"started": T0, "resolved": T0 + timedelta(hours=2)}))  # fmt: skip
    out = runner.invoke(app, ["metrics", "--json"], env=env)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    ttr = next(m for m in data["metrics"] if m["metric"] == "time_to_resolve")
    assert (data["incidents"], ttr["median"], ttr["count_missing"]) == (1, 7200.0, 0)
    both = json.loads(runner.invoke(app, ["metrics", "--json", "--include-gamedays"],
                                    env=env).stdout)  # fmt: skip
    assert both["incidents"] == 2
    table = runner.invoke(app, ["metrics", "--service", "checkout"], env={**env, "COLUMNS": "200"})
    assert table.exit_code == 0 and "small sample" in table.stdout and "2h" in table.stdout
    bad = runner.invoke(app, ["metrics", "--service", "nope"], env=env)
    assert bad.exit_code == 1 and "unknown service" in bad.output
    inverted = runner.invoke(app, ["metrics", "--since", "2026-05-01", "--until", "2026-01-01"],
                             env=env)  # fmt: skip
    assert inverted.exit_code == 1 and "ends before it starts" in inverted.output
