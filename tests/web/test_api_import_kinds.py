"""Every import kind is accepted by upload and runs through its importer."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from afteraction.services.imports.kinds import IMPORT_KINDS
from afteraction.storage.evidence_tables import Page
from afteraction.storage.tables import Person

FLAGSHIP = Path(__file__).resolve().parents[2] / "src/afteraction/demo/evidence/flagship"


def _upload(client: TestClient, kind: str, path: Path, **form: str) -> dict:
    files = {"file": (path.name, path.read_bytes(), "application/octet-stream")}
    response = client.post("/api/v1/imports", data={"kind": kind, **form}, files=files)
    assert response.status_code == 202, response.text
    status = client.get(response.json()["status_url"]).json()
    assert status["status"] == "complete", status.get("error")
    return status


def test_every_kind_is_offered() -> None:
    assert set(IMPORT_KINDS) == {"slack", "pagerduty", "oncall", "roster", "transcript", "reports"}


def test_roster_and_pagerduty_uploads(admin: TestClient, db: Session) -> None:
    roster = _upload(admin, "roster", FLAGSHIP / "roster.csv")
    assert roster["summary"]["counts"]
    assert db.scalar(select(func.count()).select_from(Person)) >= 35
    pd = _upload(admin, "pagerduty", FLAGSHIP / "pagerduty" / "incident.json")
    counts = pd["summary"]["counts"]
    assert counts["external incidents"] == 1
    assert db.scalar(select(func.count()).select_from(Page)) == counts.get("pages", 0)


def test_transcript_upload_needs_an_incident(admin: TestClient) -> None:
    path = FLAGSHIP / "transcripts" / "review-meeting.vtt"
    files = {"file": (path.name, path.read_bytes(), "text/vtt")}
    response = admin.post("/api/v1/imports", data={"kind": "transcript"}, files=files)
    if response.status_code == 202:
        status = admin.get(response.json()["status_url"]).json()
        assert status["status"] == "failed" and "incident" in str(status["error"])
    else:
        assert response.status_code == 422
