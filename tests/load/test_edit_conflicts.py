"""Concurrent versioned edits of one incident over a real server: every answer is a 200 or
a 409 carrying the version now stored (never a 500), exactly the 200s moved the version on,
and the incident ends at the last version a 200 reported. Run on PostgreSQL too, where two
transactions can both pass the version check and race at the UPDATE."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import incidents as repo
from afteraction.storage.db import make_session_factory, writing
from tests.load.conftest import admin_token, server_settings

pytestmark = pytest.mark.slow
CLIENTS = 12
EDITS = 8


def test_concurrent_versioned_patches_are_200_or_409(
    serve, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    base = serve(server_settings(database_url, tmp_path))
    token = admin_token(engine)
    session: Session = make_session_factory(engine)()
    with writing(session):
        incident, _ = repo.declare(
            session, SYSTEM, repo.IncidentInput(title="contended", severity="SEV2")
        )
        key = incident.public_id
    session.close()
    statuses: Counter[int] = Counter()
    problems: list[str] = []
    versions: list[int] = []
    start = threading.Barrier(CLIENTS)

    def client(n: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            start.wait()
            for i in range(EDITS):
                version = http.get(f"/api/v1/incidents/{key}").json()["version"]
                response = http.patch(
                    f"/api/v1/incidents/{key}",
                    json={"version": version, "summary": f"client {n} edit {i}", "tags": [f"t{n}"]},
                )
                statuses[response.status_code] += 1
                if response.status_code == 200:
                    versions.append(response.json()["version"])
                elif response.status_code == 409:
                    body = response.json()
                    current = body["error"]["details"].get("current_version")
                    if not isinstance(current, int) or current <= version:
                        problems.append(f"409 without the current version: {body}")
                else:
                    problems.append(f"{response.status_code}: {response.text[:300]}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not problems, problems[:3]
    assert set(statuses) <= {200, 409} and statuses[200] >= 1, statuses
    assert len(set(versions)) == len(versions), "two edits were both accepted at one version"
    final = httpx.get(
        f"{base}/api/v1/incidents/{key}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert final["version"] == max(versions)
    assert final["version"] == 1 + statuses[200]
