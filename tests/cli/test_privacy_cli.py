"""`afteraction privacy erase-person` and `afteraction privacy retention`, and the API's
`POST /api/v1/people/{id}/erase`: the same service, the same JSON shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from afteraction.cli.main import app
from afteraction.storage.evidence_tables import Message
from afteraction.storage.tables import Person
from tests.analysis_fixtures import build
from tests.conftest import login, make_user


def _env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "AFTERACTION_DATABASE_URL": database_url,
        "AFTERACTION_ENVIRONMENT": "development",
        **extra,
    }


def test_retention_command_counts_then_removes(database_url: str, db: Session) -> None:
    built = build(db)
    runner = CliRunner()
    off = runner.invoke(app, ["privacy", "retention"], env=_env(database_url))
    assert off.exit_code == 0 and "no retention policy" in off.stdout
    days = str((datetime.now(UTC) - datetime(2026, 10, 21, tzinfo=UTC)).days - 1)
    env = _env(database_url, AFTERACTION_RETENTION_CHAT_DAYS=days)
    dry = runner.invoke(app, ["privacy", "retention", "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    shown = json.loads(dry.stdout)
    assert (
        shown["dry_run"] is True and shown["messages"] == len(built.messages) + 1
    )  # and the other incident's
    assert shown["chat_days"] == int(days) and shown["chat_cutoff"].endswith("+00:00")
    done = runner.invoke(app, ["privacy", "retention"], env=env)
    assert done.exit_code == 0 and f"removed the text of {len(built.messages) + 1}" in done.stdout
    db.expire_all()
    assert db.get(Message, built.messages["ben1"]).purged_at is not None  # type: ignore[union-attr]


def test_erase_person_from_the_cli_and_the_api(
    database_url: str, db: Session, client: TestClient
) -> None:
    built = build(db)
    runner = CliRunner()
    env = _env(database_url)
    refused = runner.invoke(app, ["privacy", "erase-person", str(built.people["ben"])], env=env)
    assert refused.exit_code == 1  # no confirmation on a closed standard input
    no_reason = runner.invoke(
        app, ["privacy", "erase-person", str(built.people["ben"]), "--yes"], env=env
    )
    assert no_reason.exit_code == 1 and "reason" in no_reason.output
    cli = runner.invoke(
        app,
        ["privacy", "erase-person", str(built.people["ben"]), "--yes", "--reason", "#1", "--json"],
        env=env,
    )
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.stdout)["pseudonym"] == f"Erased person {built.people['ben']}"

    make_user(db, "r@example.com", "responder")
    login(client, "r@example.com")
    cy = built.people["cy"]
    assert client.post(f"/api/v1/people/{cy}/erase", json={"reason": "x"}).status_code == 403
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    make_user(db, "a@example.com", "admin")
    login(client, "a@example.com")
    assert client.post(f"/api/v1/people/{cy}/erase", json={}).status_code == 422
    answer = client.post(f"/api/v1/people/{cy}/erase", json={"reason": "request #7"})
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == set(json.loads(cli.stdout))
    assert answer.json()["messages_rewritten"] == 0
    db.expire_all()
    assert db.get(Person, cy).name == f"Erased person {cy}"  # type: ignore[union-attr]
    again = client.post(f"/api/v1/people/{cy}/erase", json={"reason": "request #7"})
    assert again.status_code == 409


def test_the_transcript_says_which_text_the_retention_policy_removed(
    db: Session, client: TestClient
) -> None:
    from afteraction.config import RetentionSettings
    from afteraction.core.access import SYSTEM
    from afteraction.services.privacy import apply_retention
    from afteraction.storage.db import writing
    from tests.analysis_fixtures import at

    built = build(db)
    with writing(db):
        apply_retention(
            db, SYSTEM, RetentionSettings(chat_days=1), now=at(10) + (at(1) - at(0)) * 1440
        )
    make_user(db, "i@example.com", "investigator")
    login(client, "i@example.com")
    page = client.get(f"/incidents/INC-{built.incident}/transcript")
    assert page.status_code == 200
    assert page.text.count("text removed by the retention policy") == 4  # before at(10)
    assert "rolling back now" not in page.text and "Customers can pay again" in page.text
