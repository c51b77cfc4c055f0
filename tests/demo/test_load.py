"""Loading the demo organisation into a real database, and the `demo` command."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from afteraction.cli.main import app
from afteraction.core.access import SYSTEM
from afteraction.demo.load import DEMO_PASSWORD, load_demo
from afteraction.services import users
from afteraction.storage import incident_lists
from afteraction.storage.analysis_tables import Annotation
from afteraction.storage.evidence_tables import Message, Page, Source
from afteraction.storage.tables import Incident, Person, RoleAssignment, TeamMembership


def test_load_demo_builds_a_believable_org(db: Session) -> None:
    summary = load_demo(db)
    assert summary.incidents == db.scalar(select(func.count()).select_from(Incident)) >= 250
    assert db.scalar(select(func.count()).select_from(Person)) == summary.people >= 35
    assert db.scalar(select(func.count()).select_from(RoleAssignment)) > summary.incidents
    moved = db.scalar(
        select(func.count(func.distinct(TeamMembership.person_id))).where(
            TeamMembership.end.is_not(None)
        )
    )
    assert moved >= 3
    rows, total = incident_lists.list_summaries(db, SYSTEM, incident_lists.IncidentFilters(limit=1))
    assert rows[0].title and total == summary.incidents
    assert users.authenticate(db, "admin@example.com", DEMO_PASSWORD) is not None
    kinds = set(db.scalars(select(Source.kind)))
    assert kinds == {"roster", "pagerduty", "oncall", "slack_export", "transcript"}
    assert db.scalar(select(func.count()).select_from(Message)) > 200
    assert db.scalar(select(func.count()).select_from(Page)) > 10
    assert db.scalar(select(func.count()).select_from(Annotation)) > 0
    again = load_demo(db)
    assert again.already_loaded
    assert db.scalar(select(func.count()).select_from(Incident)) == summary.incidents


def test_demo_command_without_serving(
    database_url: str, db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `afteraction demo`, every other command works in the same folder with no extra
    settings: the demo leaves its database URL and secret in `.env` there."""
    monkeypatch.chdir(tmp_path)
    for name in ("AFTERACTION_SECRET_KEY", "AFTERACTION_ENVIRONMENT", "AFTERACTION_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["--database-url", database_url, "demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "admin@example.com" in result.stdout and DEMO_PASSWORD in result.stdout
    assert "loaded" in result.stdout
    assert "wrote .env" in result.stdout
    env_file = (tmp_path / ".env").read_text()
    assert f"AFTERACTION_DATABASE_URL={database_url}" in env_file
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0
    listed = CliRunner().invoke(app, ["incident", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.strip().startswith(("{", "["))
    again = CliRunner().invoke(app, ["--database-url", database_url, "demo", "--no-serve"])
    assert again.exit_code == 0 and "left as it is" in again.stdout
    assert (tmp_path / ".env").read_text() == env_file
