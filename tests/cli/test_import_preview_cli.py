"""`afteraction import slack --dry-run` (JSON and tables) and the window warnings the command
prints, through Typer's runner, on a small export written here and on the real one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from afteraction.cli.main import app
from tests.services.imports._helpers import row_counts, shared_fixture
from tests.services.imports.test_slack_window import write_export

runner = CliRunner()
HFARAN = "slack/slack-export-viewer/tests/testarchive_zip_contents"
FILE_DAY = ("--since", "2026-03-02T00:00:00Z", "--until", "2026-03-03T00:00:00Z")


@pytest.fixture
def env(database_url: str, db: Session) -> dict[str, str]:
    return {"AFTERACTION_DATABASE_URL": database_url, "AFTERACTION_ENVIRONMENT": "development"}


def invoke(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=env, terminal_width=200)


def test_dry_run_json_counts_day_files_and_utc_days_and_writes_nothing(
    env: dict[str, str], tmp_path: Path, db: Session
) -> None:
    export = str(write_export(tmp_path / "export"))
    before = row_counts(db)
    shown = invoke(env, "import", "slack", export, "--channel", "inc-db", *FILE_DAY,
                   "--dry-run", "--json")  # fmt: skip
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["dry_run"] is True and data["totals"]["in_window"] == 1
    (channel,) = data["channels"]
    assert channel["day_files"] == [{"day": "2026-03-02", "messages": 4, "in_window": 1}]
    assert [d["day"] for d in channel["utc_days"]] == ["2026-03-02", "2026-03-03"]
    assert data["warnings"][0].startswith("#inc-db: 3 of 4 messages fall outside the window")
    assert row_counts(db) == before


def test_dry_run_table_then_the_import_shows_the_same_warning(
    env: dict[str, str], tmp_path: Path
) -> None:
    export = str(write_export(tmp_path / "export"))
    shown = invoke(env, "import", "slack", export, "--channel", "inc-db", *FILE_DAY, "--dry-run")
    assert shown.exit_code == 0, shown.output
    printed = " ".join(shown.stdout.split())  # the console wraps at its own width
    assert "what an import would read (nothing imported)" in printed
    assert "#inc-db: messages per day" in printed
    assert "warning: #inc-db: 3 of 4 messages fall outside" in printed
    assert "until 2026-03-03T03:30:01+00:00 would hold them" in printed
    imported = invoke(env, "import", "slack", export, "--channel", "inc-db", *FILE_DAY)
    assert imported.exit_code == 0, imported.output
    assert "#inc-db: 3 of 4" in imported.stdout and "imported into" not in imported.stdout


def test_an_import_that_stores_nothing_says_zero(env: dict[str, str], tmp_path: Path) -> None:
    export = str(write_export(tmp_path / "export"))
    window = ("--since", "2026-02-01T00:00:00Z", "--until", "2026-02-02T00:00:00Z")
    shown = invoke(env, "import", "slack", export, *window, "--json")
    data = json.loads(shown.stdout)
    assert data["counts"]["messages"] == 0
    assert data["warnings"][0].startswith("0 messages imported: all 5 messages")
    table = invoke(env, "import", "slack", export, *window, "--channel", "general")
    assert "imported 0 messages" in table.stdout
    rows = [[cell.strip() for cell in line.split("│")[1:3]] for line in table.stdout.splitlines()]
    assert ["messages", "0"] in rows


def test_dry_run_refuses_a_missing_channel_and_naive_times(
    env: dict[str, str], tmp_path: Path
) -> None:
    export = str(write_export(tmp_path / "export"))
    missing = invoke(env, "import", "slack", export, "--channel", "nope", "--dry-run")
    assert missing.exit_code == 1 and "nope" in missing.output
    naive = invoke(env, "import", "slack", export, "--since", "2026-03-02T00:00", "--dry-run")
    assert naive.exit_code == 2


def test_dry_run_on_the_real_export_shows_the_pacific_day_files(env: dict[str, str]) -> None:
    path = str(shared_fixture(HFARAN))
    window = ("--since", "2016-03-28T00:00:00Z", "--until", "2016-03-29T00:00:00Z")
    data = json.loads(invoke(env, "import", "slack", path, "--channel", "enrique", *window,
                             "--dry-run", "--json").stdout)  # fmt: skip
    (channel,) = data["channels"]
    named = {d["day"]: d for d in channel["day_files"]}
    utc = {d["day"]: d for d in channel["utc_days"]}
    # the file named 28 March holds 19 messages; 10 of them were written on 29 March, UTC
    assert named["2016-03-28"] == {"day": "2016-03-28", "messages": 19, "in_window": 9}
    assert utc["2016-03-29"]["messages"] == 10 and channel["messages"] == 25
