"""Fixtures and helpers for the page tests: logged-in clients per role, a small directory,
form posting with the page's CSRF token, and BeautifulSoup parsing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import directory
from afteraction.storage.db import writing
from tests.conftest import login, make_user


class Clock:
    """A clock a test moves by hand (`app.state.clock`), instead of sleeping."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def move(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app) -> Clock:
    moved = Clock()
    app.state.clock = moved
    return moved


def soup(response: Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def csrf(client: TestClient) -> str:
    return str(client.headers["X-CSRF-Token"])


def post_form(client: TestClient, url: str, data: dict[str, object]) -> Response:
    """Post like a browser: the form's hidden CSRF field, no header, no redirect following."""
    headers = {"X-CSRF-Token": ""}
    body = {"csrf_token": csrf(client)} | data
    return client.post(url, data=body, headers=headers, follow_redirects=False)


def declare(client: TestClient, **fields: object) -> str:
    """Declare through the form; returns the new incident's URL."""
    data: dict[str, object] = {"title": "Checkout latency", "severity": "SEV2"} | fields
    response = post_form(client, "/incidents/new", data)
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


@pytest.fixture
def directory_rows(db: Session) -> dict[str, int]:
    """Two teams, two services and two people (ids returned by name)."""
    with writing(db):
        directory.create_team(db, SYSTEM, name="Payments")
        directory.create_team(db, SYSTEM, name="Platform")
        directory.create_service(db, SYSTEM, name="Checkout", team_slug="payments")
        directory.create_service(db, SYSTEM, name="Search", team_slug="platform")
        ada = directory.create_person(
            db, SYSTEM, directory.PersonInput(name="Ada Lovelace", email="ada@example.com")
        )
        bob = directory.create_person(
            db, SYSTEM, directory.PersonInput(name="Bob Ross", email="bob@example.com")
        )
        return {"ada": ada.id, "bob": bob.id}


@pytest.fixture
def login_as(client: TestClient, db: Session) -> Callable[..., TestClient]:
    """Log the shared client in as a new user with `role` (optionally linked to a person)."""

    def _login(role: str, person_id: int | None = None, email: str | None = None) -> TestClient:
        address = email or f"{role}@example.com"
        make_user(db, address, role, person_id=person_id)
        client.cookies.clear()
        client.headers.pop("X-CSRF-Token", None)
        return login(client, address)

    return _login
