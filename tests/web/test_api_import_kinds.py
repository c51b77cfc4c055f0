"""Every import kind is accepted by upload and runs through its importer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from afteraction.core import times
from afteraction.services.imports.kinds import IMPORT_KINDS
from afteraction.storage.evidence_tables import Page, TranscriptCue
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


def test_a_transcript_upload_places_cues_from_its_recording_start(
    admin: TestClient, db: Session
) -> None:
    path = FLAGSHIP / "transcripts" / "review-meeting.vtt"
    started = "2026-10-20T20:25:00+00:00"
    body = {"title": "Payments timeouts", "severity": "SEV2", "milestones": {"started": started}}
    incident = admin.post("/api/v1/incidents", json=body).json()["id"]
    _upload(admin, "transcript", path, incident=incident, recording_start="2026-10-27T15:00:00Z")
    first = db.scalar(select(func.min(TranscriptCue.at)))
    assert first is not None and times.from_storage(first) == datetime(
        2026, 10, 27, 15, 0, 2, 310000, tzinfo=UTC
    )
    other = admin.post("/api/v1/incidents", json=body).json()["id"]
    by_default = _upload(admin, "transcript", path, incident=other)  # the incident's start
    assert any(f"{other}'s start" in w for w in by_default["summary"]["warnings"])
    db.rollback()  # a new snapshot: the upload committed after this session last read
    cues = db.scalars(
        select(TranscriptCue.at).where(TranscriptCue.source_id == by_default["source_id"])
    )
    assert min(times.from_storage(at) for at in cues if at is not None) == datetime(
        2026, 10, 20, 20, 25, 2, 310000, tzinfo=UTC
    )
    bad = admin.post(
        "/api/v1/imports",
        data={"kind": "transcript", "incident": other, "recording_start": "20:25"},
        files={"file": (path.name, path.read_bytes(), "text/vtt")},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["field"] == "recording_start"
    roster = admin.post(
        "/api/v1/imports",
        data={"kind": "roster", "recording_start": started},
        files={"file": ("roster.csv", b"name\n", "text/csv")},
    )
    assert roster.status_code == 422 and "transcript" in roster.json()["error"]["message"]
