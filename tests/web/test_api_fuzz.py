"""Schemathesis over the whole API: every operation in /api/v1/openapi.json gets generated
requests, valid and invalid, as an admin and as a viewer (each with an API token), and
every answer must be below 500 and one of the status codes the operation documents.

A bounded number of examples per operation keeps it to a few minutes; failures are
collected across all operations so one run shows them all."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, status_code_conformance
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import users
from afteraction.storage.db import writing
from tests.conftest import make_user

pytestmark = pytest.mark.slow

EXAMPLES = 12
"""Generated requests per operation and role."""


def issue(db: Session, email: str, role: str) -> str:
    user_id = make_user(db, email, role)
    with writing(db):
        return users.issue_token(db, SYSTEM, user_id=user_id, name="fuzz").secret


def fuzz(schema: Any, token: str) -> tuple[int, list[str]]:
    """(requests sent, failures) over every operation of `schema` with `token`."""
    sent, failures = 0, []
    headers = {"Authorization": f"Bearer {token}"}
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,  # the same requests every run: CI fails only on a change
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            nonlocal sent
            sent += 1
            label = f"{case.method} {case.formatted_path}"
            try:
                response = case.call(headers=headers)
            except Exception as error:  # the app raised: a 500 to a client
                failures.append(f"{label} -> raised {type(error).__name__}: {error}"[:400])
                return
            try:
                case.validate_response(
                    response, checks=(not_a_server_error, status_code_conformance)
                )
            except Exception as error:  # one line per failure, all operations run
                failures.append(f"{label} -> {response.status_code}: {str(error)[:300]}")

        run()
    return sent, failures


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_no_server_error_and_no_undocumented_status(
    role: str, app: Any, client: TestClient, db: Session
) -> None:
    token = issue(db, f"{role}-fuzz@example.com", role)
    created = client.post(
        "/api/v1/incidents",
        json={"title": "Checkout down", "severity": "SEV2"},
        headers={"Authorization": f"Bearer {issue(db, 'seed@example.com', 'admin')}"},
    )
    assert created.status_code == 201, created.text
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    sent, failures = fuzz(schema, token)
    assert sent >= 500, sent  # every operation was exercised
    assert failures == [], f"{len(failures)} of {sent} requests failed:\n" + "\n".join(failures)
