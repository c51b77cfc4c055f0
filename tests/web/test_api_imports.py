"""Import API and page: upload → job → poll → summary, sources list and removal, limits,
privacy of sources attached to private incidents, and the page's forms."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.config import Settings
from afteraction.core.access import SYSTEM, Actor
from afteraction.core.errors import NotFound
from afteraction.services import incidents as repo
from afteraction.services.imports import jobs
from afteraction.storage.db import writing
from afteraction.web.app import create_app
from tests.conftest import login, make_user

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def export_zip() -> bytes:
    users = [{"id": "U1", "name": "ada", "profile": {"real_name": "Ada Lovelace"}}]
    channels = [{"id": "C1", "name": "inc-db"}]
    day = [
        {"type": "message", "ts": f"{int(T0.timestamp())}.000001", "user": "U1",
         "text": "see <https://github.com/acme/api/pull/7>"},
        {"type": "message", "ts": f"{int(T0.timestamp())}.000002", "user": "U1", "text": "ok"},
    ]  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("users.json", json.dumps(users))
        archive.writestr("channels.json", json.dumps(channels))
        archive.writestr("inc-db/2026-03-02.json", json.dumps(day))
    return buffer.getvalue()


def upload(client: TestClient, data: bytes | None = None, **form: str):  # type: ignore[no-untyped-def]
    files = {"file": ("export.zip", data if data is not None else export_zip(), "application/zip")}
    return client.post("/api/v1/imports", data={"kind": "slack", **form}, files=files)


def test_upload_poll_summary_sources_and_removal(admin: TestClient, db: Session) -> None:
    with writing(db):
        incident, _ = repo.declare(
            db,
            SYSTEM,
            repo.IncidentInput(
                title="db", severity="SEV2", milestones={"started": T0, "declared": T0}
            ),
        )
        public_id = incident.public_id
    response = upload(admin, incident=public_id)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status_url"] == f"/api/v1/imports/{job['job']}"
    status = admin.get(job["status_url"]).json()
    assert status["status"] == "complete", status
    summary = status["summary"]
    assert summary["counts"]["messages"] == 2 and summary["counts"]["references"] == 1
    assert summary["incident"] == public_id and summary["unmatched"] == ["Ada Lovelace (U1)"]

    again = admin.get(upload(admin, incident=public_id).json()["status_url"]).json()
    assert again["summary"]["already_imported"] is True

    sources = admin.get("/api/v1/sources").json()["items"]
    assert [s["id"] for s in sources] == [summary["source_id"]]
    assert sources[0]["incident"] == public_id and sources[0]["counts"]["messages"] == 2
    removed = admin.delete(f"/api/v1/sources/{summary['source_id']}")
    assert removed.status_code == 200 and removed.json()["counts"]["messages"] == 2
    assert admin.get("/api/v1/sources").json()["items"] == []
    assert admin.delete(f"/api/v1/sources/{summary['source_id']}").status_code == 404


def test_bad_uploads_are_refused_or_fail_with_the_position(admin: TestClient) -> None:
    assert upload(admin, kind="fax").status_code == 422
    assert upload(admin, since="yesterday").json()["error"]["details"]["field"] == "since"
    assert upload(admin, data=b"").status_code == 422
    assert upload(admin, incident="INC-999").status_code == 404
    job = upload(admin, data=b"not a zip at all").json()
    status = admin.get(job["status_url"]).json()
    assert status["status"] == "failed" and "export.zip" in status["error"]


def test_upload_size_limit(settings: Settings, db: Session, tmp_path: Path) -> None:
    small = settings.model_copy(update={"max_upload_bytes": 1024, "uploads_dir": tmp_path})
    with TestClient(create_app(small)) as client:
        make_user(db, "admin@example.com", "admin")
        login(client, "admin@example.com")
        response = upload(client, data=b"x" * 5000)
    assert response.status_code == 413 and "larger than 1024" in response.text
    assert list(tmp_path.iterdir()) == []


def test_private_incident_sources_and_others_jobs_are_hidden(
    admin: TestClient, app, db: Session
) -> None:
    with writing(db):
        incident, _ = repo.declare(
            db,
            SYSTEM,
            repo.IncidentInput(
                title="secret", severity="SEV2", private=True,
                milestones={"started": T0, "declared": T0},
            ),
        )  # fmt: skip
        public_id = incident.public_id
    job = upload(admin, incident=public_id).json()
    source_id = admin.get(job["status_url"]).json()["summary"]["source_id"]
    make_user(db, "viewer@example.com", "viewer")
    with TestClient(app) as other:
        login(other, "viewer@example.com")
        assert other.get("/api/v1/sources").json()["items"] == []
        assert other.get("/api/v1/imports").json()["items"] == []  # not theirs
    # the list's rule is `visible_job`'s: a principal without a user sees no one's jobs
    nobody = Actor(None, "script", "responder", None)
    assert jobs.visible_jobs(db, nobody) == []
    with pytest.raises(NotFound):
        jobs.visible_job(db, nobody, job["job"])
        assert other.get(job["status_url"]).status_code == 404
        assert other.delete(f"/api/v1/sources/{source_id}").status_code == 403
        assert upload(other).status_code == 403


def test_imports_page_upload_job_page_and_remove(admin: TestClient) -> None:
    page = admin.get("/imports")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    assert 'href="/imports" aria-current="page"' in page.text
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    missing = admin.post("/imports", data={"csrf_token": token, "kind": "slack"},
                         files={"file": ("", b"", "application/octet-stream")})  # fmt: skip
    assert missing.status_code == 422 and "choose a file" in missing.text
    posted = admin.post(
        "/imports",
        data={"csrf_token": token, "kind": "slack", "channels": "#inc-db"},
        files={"file": ("export.zip", export_zip(), "application/zip")},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    job_page = admin.get(posted.headers["location"])
    assert "complete" in job_page.text and "Ada Lovelace (U1)" in job_page.text
    assert 'hx-trigger="every 1s"' not in job_page.text  # finished: no more polling
    fragment = admin.get(posted.headers["location"] + "/status")
    assert fragment.status_code == 200 and 'id="job-status"' in fragment.text
    listing = admin.get("/imports").text
    source_id = listing.split('action="/imports/sources/', 1)[1].split("/", 1)[0]
    removed = admin.post(
        f"/imports/sources/{source_id}/remove", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Removed source" in removed.text and "Nothing imported yet" in removed.text
    no_csrf = admin.post(
        f"/imports/sources/{source_id}/remove", headers={"X-CSRF-Token": ""}, data={}
    )
    assert no_csrf.status_code == 403


def test_the_api_previews_confirms_and_discards_as_the_page_does(
    admin: TestClient, app, db: Session
) -> None:
    """`preview=true` imports nothing and waits; confirm imports what was previewed, discard
    drops the upload; both answer with the job, and a job no longer waiting is refused."""
    waiting = upload(admin, preview="true")
    assert waiting.status_code == 202, waiting.text
    job = admin.get(waiting.json()["status_url"]).json()
    assert job["status"] == "preview" and job["summary"] is None
    assert job["preview"]["channels"][0]["messages"] == 2  # counted, not imported
    assert admin.get("/api/v1/sources").json()["items"] == []
    listed = admin.get("/api/v1/imports").json()["items"]
    assert [j["id"] for j in listed] == [job["id"]] and listed[0]["status"] == "preview"

    confirmed = admin.post(f"/api/v1/imports/{job['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    done = admin.get(waiting.json()["status_url"]).json()
    assert done["status"] == "complete" and done["summary"]["counts"]["messages"] == 2
    again = admin.post(f"/api/v1/imports/{job['id']}/confirm")
    assert again.status_code == 422 and "not waiting in preview" in again.text

    other = upload(admin, preview="true").json()
    dropped = admin.post(f"/api/v1/imports/{other['job']}/discard")
    assert dropped.status_code == 200
    assert dropped.json()["status"] == "failed"
    assert dropped.json()["error"] == "discarded after the preview"
    assert [j["id"] for j in admin.get("/api/v1/imports?limit=1").json()["items"]] == [other["job"]]
    refused = upload(admin, preview="true", kind="roster")
    assert refused.status_code == 422 and "only a Slack export" in refused.text

    make_user(db, "viewer@example.com", "viewer")
    with TestClient(app) as viewer:
        login(viewer, "viewer@example.com")
        assert viewer.post(f"/api/v1/imports/{other['job']}/confirm").status_code in (403, 404)


def test_the_api_previews_again_with_the_window_the_preview_suggests(admin: TestClient) -> None:
    """A window that misses the messages is counted, the preview suggests the one that holds
    them, and POST .../window counts the same upload again with it: still waiting, nothing
    imported. An unreadable window is refused and the job keeps its counts."""
    late = {"since": "2026-03-03T00:00:00+00:00", "until": "2026-03-04T00:00:00+00:00"}
    job_id = upload(admin, preview="true", **late).json()["job"]
    first = admin.get(f"/api/v1/imports/{job_id}").json()
    assert first["preview"]["totals"]["in_window"] == 0 and first["preview"]["warnings"]
    suggested = first["preview"]["suggested_window"]
    assert suggested is not None and suggested["since"] <= T0.isoformat() <= suggested["until"]

    again = admin.post(f"/api/v1/imports/{job_id}/window", json=suggested)
    assert again.status_code == 200, again.text
    job = again.json()
    assert job["status"] == "preview" and job["summary"] is None
    assert job["options"]["since"] == suggested["since"]
    assert job["preview"]["totals"]["in_window"] == 2 and job["preview"]["suggested_window"]
    assert admin.get("/api/v1/sources").json()["items"] == []

    bad = admin.post(f"/api/v1/imports/{job_id}/window", json={"since": "yesterday"})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "since"
    kept = admin.get(f"/api/v1/imports/{job_id}").json()
    assert kept["status"] == "preview" and kept["preview"]["totals"]["in_window"] == 2
    assert admin.post(f"/api/v1/imports/{job_id}/window", json={"extra": 1}).status_code == 422
