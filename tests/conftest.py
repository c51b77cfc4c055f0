"""Shared test fixtures: one migrated database per session (a real SQLite file, or the
PostgreSQL server named by AFTERACTION_TEST_DATABASE_URL), emptied after every test, and
the real app behind a TestClient.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Integer, text
from sqlalchemy.orm import Session

from afteraction.config import Settings, development_settings
from afteraction.core.access import SYSTEM
from afteraction.services import users
from afteraction.storage import db as storage_db
from afteraction.storage.models import Base

SHARED_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
KEEP_TABLES = {"severities", "alembic_version"}
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("AFTERACTION_TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    storage_db.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = storage_db.make_engine(database_url)
    yield engine
    engine.dispose()


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in KEEP_TABLES:
                connection.execute(table.delete())
        if engine.dialect.name == "postgresql":
            for table in Base.metadata.sorted_tables:
                pk = list(table.primary_key.columns)
                if (
                    len(pk) == 1
                    and isinstance(pk[0].type, Integer)
                    and table.name not in KEEP_TABLES
                ):
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                            f"'{pk[0].name}'), 1, false)"
                        )
                    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return development_settings(
        database_url=database_url,
        environment="test",
        queue_url="memory:",
        uploads_dir=tmp_path / "uploads",
    )


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    factory = storage_db.make_session_factory(engine)
    session = factory()
    yield session
    session.close()
    _empty(engine)


@pytest.fixture
def app(settings: Settings, db: Session):
    from afteraction.web.app import create_app

    return create_app(settings)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def make_user(db: Session, email: str, role: str, person_id: int | None = None) -> int:
    with storage_db.writing(db):
        user = users.create_user(
            db, SYSTEM, email=email, password=PASSWORD, role=role, person_id=person_id
        )
        return user.id


def login(client: TestClient, email: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    client.headers["X-CSRF-Token"] = token_of(client)
    return client


def token_of(client: TestClient) -> str:
    page = client.get("/login", follow_redirects=True)
    return page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


@pytest.fixture
def admin(client: TestClient, db: Session) -> TestClient:
    make_user(db, "admin@example.com", "admin")
    return login(client, "admin@example.com")
