"""A database the server cannot write (read-only file here) answers 503 with a plain
message: never a 500, never the file's path or the driver's text in the response."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from afteraction.config import development_settings
from afteraction.core.access import SYSTEM
from afteraction.services import users
from afteraction.storage.db import make_engine, make_session_factory, upgrade, writing
from afteraction.web.app import create_app


def test_a_read_only_database_is_a_503_without_server_details(tmp_path: Path) -> None:
    path = tmp_path / "afteraction.db"
    upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    with make_session_factory(engine)() as session, writing(session):
        user = users.create_user(
            session, SYSTEM, email="a@example.com", password="a-long-password", role="admin"
        )
        secret = users.issue_token(session, SYSTEM, user_id=user.id, name="ci").secret
    engine.dispose()
    settings = development_settings(
        database_url=f"sqlite:///file:{path}?mode=ro&uri=true",
        queue_url="memory:",
        uploads_dir=tmp_path / "uploads",
    )
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        refused = client.post("/api/v1/incidents", json={"title": "x", "severity": "SEV2"})
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "unavailable"
    assert refused.json()["error"]["message"] == "the database cannot be used now"
    assert str(tmp_path) not in refused.text and "readonly" not in refused.text
