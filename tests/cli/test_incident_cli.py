"""The CLI through Typer's runner against a real migrated database."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from afteraction.cli.main import app
from afteraction.core import times

runner = CliRunner()


@pytest.fixture
def env(database_url: str, db) -> dict[str, str]:
    return {"AFTERACTION_DATABASE_URL": database_url, "AFTERACTION_ENVIRONMENT": "development"}


def invoke(env: dict[str, str], *args: str, input: str | None = None):
    return runner.invoke(app, list(args), env=env, input=input)


def test_create_show_update_list(env: dict[str, str]) -> None:
    created = invoke(
        env,
        "incident",
        "create",
        "--title",
        "Checkout 5xx",
        "--severity",
        "sev2",
        "--started",
        "2026-05-01T10:00:00+02:00",
        "--tag",
        "deploy",
        "--json",
    )
    assert created.exit_code == 0, created.output
    data = json.loads(created.stdout)
    assert data["id"] == "INC-1"
    assert data["severity"] == "SEV2"
    assert data["milestones"]["started"] == "2026-05-01T08:00:00+00:00"
    updated = invoke(
        env,
        "incident",
        "update",
        "INC-1",
        "--status",
        "resolved",
        "--note",
        "rolled back",
        "--json",
    )
    assert updated.exit_code == 0, updated.output
    assert json.loads(updated.stdout)["milestones"]["resolved"] is not None
    shown = json.loads(invoke(env, "incident", "show", "INC-1", "--json").stdout)
    assert shown["status"] == "resolved"
    assert shown["updates"][0]["body"] == "rolled back"
    listed = invoke(env, "incident", "list", "--status", "resolved")
    assert listed.exit_code == 0
    assert "INC-1" in listed.stdout and "resolved − started" in listed.stdout


def test_errors_are_messages_with_nonzero_exit(env: dict[str, str]) -> None:
    naive = invoke(
        env,
        "incident",
        "create",
        "--title",
        "x",
        "--severity",
        "SEV2",
        "--started",
        "2026-05-01T10:00:00",
    )
    assert naive.exit_code == 2
    assert times.naive_message("--started") in " ".join(naive.output.split())  # as API and forms
    unknown = invoke(env, "incident", "create", "--title", "x", "--severity", "SEV7")
    assert unknown.exit_code == 1
    assert "unknown severity" in unknown.output
    missing = invoke(env, "incident", "show", "INC-404")
    assert missing.exit_code == 1 and "not found" in missing.output
    invoke(env, "incident", "create", "--title", "x", "--severity", "SEV2")
    bad_move = invoke(env, "incident", "update", "INC-1", "--status", "closed")
    assert bad_move.exit_code == 1 and "allowed next statuses" in bad_move.output
    out_of_order = invoke(env, "incident", "update", "INC-1", "--resolved", "2000-01-01T00:00:00Z")
    assert out_of_order.exit_code == 1 and "out of order" in out_of_order.output


def test_user_create_reads_password_from_stdin(env: dict[str, str]) -> None:
    result = invoke(
        env,
        "user",
        "create",
        "ops@example.com",
        "--role",
        "responder",
        "--json",
        input="a-long-password\n",
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["role"] == "responder" and created["email"] == "ops@example.com"
    assert created["is_active"] is True and "password_hash" not in created  # the API's UserRead
    short = invoke(env, "user", "create", "x@example.com", "--role", "viewer", input="short\n")
    assert short.exit_code == 1 and "at least 12" in short.output
    bad_role = invoke(
        env, "user", "create", "y@example.com", "--role", "king", input="long-enough-pw\n"
    )
    assert bad_role.exit_code == 1 and "unknown role" in bad_role.output


def test_production_refuses_placeholder_secret(database_url: str) -> None:
    result = runner.invoke(
        app,
        ["incident", "list"],
        env={
            "AFTERACTION_DATABASE_URL": database_url,
            "AFTERACTION_ENVIRONMENT": "production",
            "AFTERACTION_SECRET_KEY": "change-me",
        },
    )
    assert result.exit_code == 2
    assert "AFTERACTION_SECRET_KEY" in result.output


def test_db_commands(env: dict[str, str]) -> None:
    assert invoke(env, "db", "upgrade").exit_code == 0
    current = invoke(env, "db", "current")
    from afteraction.storage.db import head_revision

    assert current.exit_code == 0 and f"current: {head_revision()}" in current.stdout


def test_json_is_the_apis_model(env: dict[str, str], db, client) -> None:
    """`--json` prints the API's Read models: the same fields and values, list and show too."""
    from tests.conftest import login, make_user

    created = invoke(env, "incident", "create", "--title", "Checkout 5xx", "--severity",
                     "SEV2", "--started", "2026-05-01T10:00:00Z", "--json")  # fmt: skip
    assert created.exit_code == 0, created.output
    moved = invoke(env, "incident", "update", "INC-1", "--status", "resolved", "--note", "back")
    assert moved.exit_code == 0, moved.output
    make_user(db, "v@example.com", "viewer")
    login(client, "v@example.com")
    api = client.get("/api/v1/incidents/INC-1").json()
    shown = json.loads(invoke(env, "incident", "show", "INC-1", "--json").stdout)
    assert {k: v for k, v in shown.items() if k not in ("roles", "updates")} == api
    assert shown["updates"] == client.get("/api/v1/incidents/INC-1/updates").json()["items"]
    assert shown["roles"] == client.get("/api/v1/incidents/INC-1/roles").json()["items"]
    assert set(shown["updates"][0]) == {"id", "at", "status", "body", "author"}
    listed = json.loads(invoke(env, "incident", "list", "--json").stdout)
    assert listed == client.get("/api/v1/incidents").json()
    assert listed["next_offset"] is None and listed["items"][0]["warnings"] == []
    assert json.loads(created.stdout)["warnings"] == []
