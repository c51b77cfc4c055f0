"""The read cache never outlives a commit: writes, revocations and role changes show at once."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import directory, incident_roles
from afteraction.services import incidents as repo
from afteraction.storage.changes import ChangeDetector
from afteraction.storage.db import make_engine, writing
from tests.conftest import login, make_user


def test_token_changes_after_any_commit(engine, db: Session) -> None:
    detector = ChangeDetector(engine)
    try:
        first = detector.token()
        assert detector.token() == first
        with writing(db):
            repo.declare(db, SYSTEM, repo.IncidentInput(title="x", severity="SEV3"))
        assert detector.token() != first
    finally:
        detector.close()


def test_in_memory_databases_are_never_cached() -> None:
    engine = make_engine("sqlite://")
    detector = ChangeDetector(engine)
    assert not detector.enabled
    assert detector.token() != detector.token()
    engine.dispose()


def test_detector_reopens_a_broken_connection(engine, db: Session) -> None:
    detector = ChangeDetector(engine)
    detector.token()
    detector._connection.close()  # simulate a dropped connection
    assert detector.token()
    with db.connection() as connection:
        connection.execute(text("SELECT 1"))
    detector.close()


def test_list_reflects_writes_and_revocations(client: TestClient, db: Session) -> None:
    make_user(db, "admin@example.com", "admin")
    login(client, "admin@example.com")
    issued = client.post("/api/v1/tokens", json={"name": "bench"}).json()
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/v1/incidents", headers=headers).json()["total"] == 0
    assert client.get("/api/v1/incidents", headers=headers).json()["total"] == 0  # cached
    client.post("/api/v1/incidents", json={"title": "new", "severity": "SEV2"})
    assert client.get("/api/v1/incidents", headers=headers).json()["total"] == 1
    client.delete(f"/api/v1/tokens/{issued['id']}")
    assert client.get("/api/v1/incidents", headers=headers).status_code == 401


def test_private_incident_appears_when_a_role_is_given(client: TestClient, db: Session) -> None:
    with writing(db):
        person = directory.create_person(db, SYSTEM, directory.PersonInput(name="Vi"))
        repo.declare(db, SYSTEM, repo.IncidentInput(title="secret", severity="SEV1", private=True))
    make_user(db, "vi@example.com", "responder", person_id=person.id)
    login(client, "vi@example.com")
    assert client.get("/api/v1/incidents").json()["total"] == 0
    with writing(db):
        incident_roles.assign_role(db, SYSTEM, 1, role="responder", person_id=person.id)
    assert client.get("/api/v1/incidents").json()["total"] == 1


def test_fast_path_serves_hits_without_the_app(client: TestClient, db: Session) -> None:
    from afteraction.web.routes import api_incidents

    make_user(db, "admin@example.com", "admin")
    login(client, "admin@example.com")
    issued = client.post("/api/v1/tokens", json={"name": "bench"}).json()
    headers = {"Authorization": f"Bearer {issued['token']}"}
    first = client.get("/api/v1/incidents?limit=5", headers=headers)
    original = api_incidents._incident_page
    api_incidents._incident_page = None  # type: ignore[assignment]  # any call would fail
    try:
        second = client.get("/api/v1/incidents?limit=5", headers=headers)
        assert second.content == first.content
        assert second.headers["content-type"] == "application/json"
    finally:
        api_incidents._incident_page = original
    assert (
        client.get("/api/v1/incidents?limit=5", headers={"Authorization": "Bearer x"}).status_code
        == 401
    )


def test_a_read_reads_the_database_token_once(client: TestClient, db: Session) -> None:
    """The fast path and the route of one GET share the token: reading it is a query on
    the event loop, and a second read under load waited for the GIL behind the workers."""
    make_user(db, "admin@example.com", "admin")
    login(client, "admin@example.com")
    issued = client.post("/api/v1/tokens", json={"name": "bench"}).json()
    headers = {"Authorization": f"Bearer {issued['token']}"}
    client.get("/api/v1/incidents", headers=headers)  # the token's principal is now known
    detector = client.app.state.read_cache.detector  # type: ignore[attr-defined]
    reads: list[str] = []
    original = detector.token

    def counted() -> str:
        reads.append(original())
        return reads[-1]

    detector.token = counted
    try:
        client.post("/api/v1/incidents", json={"title": "new", "severity": "SEV2"})
        reads.clear()
        miss = client.get("/api/v1/incidents", headers=headers)  # after a write: a miss
        assert miss.json()["total"] == 1
        assert len(reads) == 1
        reads.clear()
        client.get("/api/v1/incidents", headers=headers)  # a hit, sent by the fast path
        assert len(reads) == 1
    finally:
        detector.token = original
