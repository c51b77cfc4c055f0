"""`afteraction import pagerduty|roster|oncall|transcript|reports` through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from afteraction.cli.context import CliState
from afteraction.cli.import_other import register
from afteraction.config import Settings
from afteraction.storage.tables import Incident, Person
from tests.services.imports._helpers import FLAGSHIP, count

runner = CliRunner()


@pytest.fixture
def cli(settings: Settings, db: Session) -> typer.Typer:
    assert db is not None  # requested so the tables are emptied after the test
    app = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context) -> None:
        ctx.obj = CliState(settings_factory=lambda: settings)

    group = typer.Typer()
    register(group)
    app.add_typer(group, name="import")
    return app


def _json(app: typer.Typer, *args: str) -> dict[str, object]:
    result = runner.invoke(app, ["import", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_every_import_command_with_json(cli: typer.Typer, db: Session) -> None:
    roster = _json(cli, "roster", str(FLAGSHIP / "roster.csv"))
    assert roster["kind"] == "roster" and roster["counts"] == {
        "teams created": 7,
        "people created": 40,
        "managers set": 39,
        "memberships added": 43,
    }
    pagerduty = _json(cli, "pagerduty", str(FLAGSHIP / "pagerduty"))
    assert pagerduty["incident"] == "INC-1"
    oncall = _json(cli, "oncall", str(FLAGSHIP / "pagerduty"))
    assert oncall["counts"] == {"users matched by identity": 39, "shifts": 15,
                                "duplicates within the files": 6}  # fmt: skip
    transcript = _json(
        cli, "transcript", str(FLAGSHIP / "transcripts" / "zoom-chat.txt"), "--incident", "INC-1"
    )
    assert transcript["counts"] == {"cues": 9, "speakers matched": 8}
    assert (count(db, Person), count(db, Incident)) == (40, 1)
    again = _json(cli, "roster", str(FLAGSHIP / "roster.csv"))
    assert again["already_imported"] is True


def test_reports_and_table_output(cli: typer.Typer, tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Cache stampede\n\nbody\n")
    result = runner.invoke(cli, ["import", "reports", str(tmp_path / "a.md")])
    assert result.exit_code == 0, result.output
    assert "reports: imported" in result.stdout and "incidents created" in result.stdout


def test_failures_exit_non_zero(cli: typer.Typer, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("title,team\nx,y\n")
    result = runner.invoke(cli, ["import", "roster", str(tmp_path / "bad.csv"), "--json"])
    assert result.exit_code == 1 and "no 'name' or 'email'" in result.output
    result = runner.invoke(cli, ["import", "pagerduty"])
    assert result.exit_code == 2 and "PATH or --incident-id" in result.output
    result = runner.invoke(cli, ["import", "pagerduty", "--incident-id", "PX"])
    assert result.exit_code == 2 and "AFTERACTION_PAGERDUTY_TOKEN" in result.output
    result = runner.invoke(
        cli, ["import", "transcript", str(FLAGSHIP / "transcripts" / "zoom-chat.txt"),
              "--incident", "INC-404"],
    )  # fmt: skip
    assert result.exit_code == 1 and "INC-404 not found" in result.output


def test_every_command_has_an_example(cli: typer.Typer) -> None:
    command = typer.main.get_command(cli)
    group = command.commands["import"]  # type: ignore[attr-defined]
    assert set(group.commands) == {
        "pagerduty",
        "slack-history",
        "roster",
        "oncall",
        "transcript",
        "reports",
    }
    for sub in group.commands.values():
        assert "Example: afteraction import " in (sub.help or "")
