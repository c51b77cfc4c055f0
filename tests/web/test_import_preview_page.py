"""The `/imports` page's preview of a Slack upload: the upload waits in `preview` with the
counts per day file and UTC day and the window warnings (the numbers `import slack
--dry-run` prints) until its user imports it as previewed or discards it."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.services.imports.kinds import PREVIEW_KEEP, sweep_uploads
from afteraction.storage import import_jobs
from afteraction.storage.db import writing
from afteraction.storage.types import utcnow
from tests.services.imports.test_slack_window import write_export
from tests.web.conftest import soup

WINDOW = {"since": "2026-03-02T00:00:00Z", "until": "2026-03-03T00:00:00Z"}


def export_zip(tmp_path: Path) -> bytes:
    root = write_export(tmp_path / "export")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(root.rglob("*.json")):
            archive.write(path, path.relative_to(root).as_posix())
    return buffer.getvalue()


def post_preview(client: TestClient, data: bytes, **form: str):  # type: ignore[no-untyped-def]
    token = client.get("/imports").text.split('name="csrf_token" value="', 1)[1].split('"')[0]
    return client.post(
        "/imports",
        data={"csrf_token": token, "kind": "slack", "preview": "1", **form},
        files={"file": ("export.zip", data, "application/zip")},
        follow_redirects=False,
    )


def token_of(page: str) -> str:
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_preview_then_confirm_imports_what_was_previewed(
    admin: TestClient, db: Session, tmp_path: Path
) -> None:
    assert 'name="preview" value="1"' in admin.get("/imports").text
    posted = post_preview(admin, export_zip(tmp_path), channels="inc-db", **WINDOW)
    assert posted.status_code == 303, posted.text
    job_url = posted.headers["location"]
    page = admin.get(job_url)
    assert "preview" in page.text and "nothing imported yet" in page.text
    html = soup(page)
    channels = [[td.get_text() for td in tr.find_all("td")] for tr in
                html.select("#preview-channels tbody tr")]  # fmt: skip
    assert channels == [
        ["#inc-db", "public", "4", "1", "2026-03-02 17:00:00+00:00", "2026-03-03 03:30:00+00:00"]
    ]
    days = [[td.get_text().strip() for td in tr.find_all("td")] for tr in
            html.select("details tbody tr")]  # fmt: skip
    assert days == [["2026-03-02", "4", "1", "1", "1"], ["2026-03-03", "—", "—", "3", "0"]]
    alert = html.find("div", attrs={"role": "alert"})
    assert alert is not None and "#inc-db: 3 of 4 messages fall outside" in alert.get_text()
    job_id = int(job_url.rsplit("/", 1)[1])
    assert import_jobs.get_job(db, job_id).status == "preview"
    db.rollback()

    confirmed = admin.post(f"{job_url}/confirm", data={"csrf_token": token_of(page.text)},
                           follow_redirects=True)  # fmt: skip
    assert confirmed.status_code == 200 and "complete" in confirmed.text
    assert "Complete with 1 warning" in confirmed.text and "1 messages imported" in confirmed.text
    assert "#inc-db: 3 of 4 messages fall outside" in confirmed.text
    job = admin.get(f"/api/v1/imports/{job_id}").json()
    assert job["summary"]["counts"]["messages"] == 1
    assert job["summary"]["warnings"][0].startswith("#inc-db: 3 of 4")
    again = admin.post(f"{job_url}/confirm", data={"csrf_token": token_of(page.text)})
    assert again.status_code == 422  # imported already: no second import


def test_discard_a_preview_deletes_its_upload(
    admin: TestClient, db: Session, tmp_path: Path
) -> None:
    job_url = post_preview(admin, export_zip(tmp_path)).headers["location"]
    job_id = int(job_url.rsplit("/", 1)[1])
    upload = Path(import_jobs.get_job(db, job_id).path)
    db.rollback()
    assert upload.is_file()
    token = token_of(admin.get(job_url).text)
    discarded = admin.post(f"{job_url}/discard", data={"csrf_token": token},
                           follow_redirects=False)  # fmt: skip
    assert discarded.status_code == 303 and not upload.exists()
    job = import_jobs.get_job(db, job_id)
    assert job.status == "failed" and job.error == "discarded after the preview"
    db.rollback()
    # the page listing it, its own page and the API still answer (the preview it kept is
    # not an import summary)
    assert admin.get("/imports").status_code == 200
    assert admin.get(job_url).status_code == 200
    shown = admin.get(f"/api/v1/imports/{job_id}").json()
    assert shown["status"] == "failed" and shown["summary"] is None and shown["preview"] is None


def test_a_preview_refuses_other_kinds_and_names_a_broken_file(
    admin: TestClient, db: Session
) -> None:
    refused = post_preview(admin, b"{}", kind="roster")
    assert refused.status_code == 422 and "only a Slack export can be previewed" in refused.text
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("channels.json", '[{"id": "C1", "name": "inc-db"}]')
        archive.writestr("inc-db/2026-03-02.json", "[{")
    failed = post_preview(admin, broken.getvalue())
    assert failed.status_code == 422 and "inc-db/2026-03-02.json" in failed.text
    (job,) = import_jobs.list_jobs(db)
    assert job.status == "failed" and job.path == "" and "invalid JSON" in (job.error or "")


def test_a_waiting_preview_keeps_its_upload_for_a_day(
    admin: TestClient, db: Session, tmp_path: Path
) -> None:
    job_url = post_preview(admin, export_zip(tmp_path)).headers["location"]
    job = import_jobs.get_job(db, int(job_url.rsplit("/", 1)[1]))
    upload = Path(job.path)
    os.utime(upload, (0, 0))  # older than the minute a fresh upload is spared
    assert sweep_uploads(db, upload.parent) == [] and upload.is_file()
    with writing(db):
        import_jobs.get_job(db, job.id).updated_at = utcnow() - PREVIEW_KEEP - timedelta(1)
    assert sweep_uploads(db, upload.parent) == [upload]
    token = token_of(admin.get(job_url).text)
    gone = admin.post(f"{job_url}/confirm", data={"csrf_token": token})
    assert gone.status_code == 422 and "upload it again" in gone.text


def test_a_preview_is_taken_again_with_the_window_it_suggests(
    admin: TestClient, db: Session, tmp_path: Path
) -> None:
    job_url = post_preview(admin, export_zip(tmp_path), channels="inc-db", **WINDOW).headers[
        "location"
    ]
    page = soup(admin.get(job_url))
    form = page.select_one("form#suggested-window")
    assert form is not None and form["action"] == f"{job_url}/window"
    window = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    assert window["since"] == "2026-03-02T17:00:00+00:00"
    again = admin.post(f"{job_url}/window", data=window, follow_redirects=True)
    assert again.status_code == 200 and "Previewed again with 2026-03-02T17:00:00" in again.text
    html = soup(again)
    assert html.select_one("form#suggested-window") is None  # it holds them all now
    assert "<strong>4</strong> of 4 messages" in again.text
    job = import_jobs.get_job(db, int(job_url.rsplit("/", 1)[1]))
    assert job.status == "preview" and job.options["since"] == window["since"]
    db.rollback()
    bad = admin.post(f"{job_url}/window", data={"csrf_token": token_of(again.text),
                                                "since": "yesterday"})  # fmt: skip
    assert bad.status_code == 422
