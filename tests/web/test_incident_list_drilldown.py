"""The incident list honours the problem and tag filters that insights drill-downs link to."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import directory
from afteraction.services import incidents as repo
from afteraction.storage.db import writing


def test_problem_and_tag_filters(admin: TestClient, db: Session) -> None:
    with writing(db):
        directory.create_problem(db, SYSTEM, title="Pool exhaustion", key="pool")
        repo.declare(db, SYSTEM, repo.IncidentInput(title="alpha", severity="SEV2", problem="pool"))
        repo.declare(db, SYSTEM, repo.IncidentInput(title="beta", severity="SEV2", tags=["dns"]))
        repo.declare(db, SYSTEM, repo.IncidentInput(title="gamma", severity="SEV3"))
    by_problem = admin.get("/incidents?problem=pool").text
    assert "alpha" in by_problem and "beta" not in by_problem and "gamma" not in by_problem
    by_tag = admin.get("/incidents?tag=dns").text
    assert "beta" in by_tag and "alpha" not in by_tag and "gamma" not in by_tag
    assert "problem=pool" in admin.get("/incidents?problem=pool&sort=title").text
