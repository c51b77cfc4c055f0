"""The review and report pages, exports in every format (confidentiality, PDF rendered to
PNG), read tracking over HTTP, injection, huge pastes, and the CLI export."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from afteraction.storage.review_tables import ReadEvent, Report, ReportVersion
from tests.conftest import login, token_of
from tests.reviews.conftest import SECRET, Org

INJECTION = '<script>alert("x")</script> [link](javascript:alert(1)) <img src=x onerror=alert(1)>'


def _post(client: TestClient, url: str, data: dict[str, object]) -> object:
    return client.post(url, data={**data, "csrf_token": token_of(client)}, follow_redirects=False)


@pytest.fixture
def ivy(client: TestClient, org: Org) -> TestClient:
    del org
    return login(client, "ivy@example.com")


def _publish(ivy: TestClient, number: int, extra: str = "") -> None:
    assert (
        _post(ivy, f"/incidents/INC-{number}/report", {"template": "learning-review"}).status_code
        == 303
    )
    if extra:
        page = ivy.get(f"/incidents/INC-{number}/report/edit")
        body = page.text.split('name="body"', 1)[1].split(">", 1)[1].split("</textarea>")[0]
        import html

        response = _post(
            ivy,
            f"/incidents/INC-{number}/report/save",
            {"body": html.unescape(body) + extra, "base": 1},
        )
        assert response.status_code == 303
    state = f"/incidents/INC-{number}/report/state"
    assert _post(ivy, state, {"state": "in review"}).status_code == 303
    assert _post(ivy, state, {"state": "published", "confirm": "yes"}).status_code == 303


def test_review_page_flow(ivy: TestClient, org: Org) -> None:
    key = f"INC-{org.number}"
    assert (
        _post(ivy, f"/incidents/{key}/review/assign", {"person_id": org.people["ann"]}).status_code
        == 303
    )
    page = ivy.get(f"/incidents/{key}/review")
    assert "was a responder" in page.text
    assert _post(ivy, f"/incidents/{key}/review/calibration", {}).status_code == 303
    page = ivy.get(f"/incidents/{key}/review")
    assert "Emerging themes" in page.text and SECRET not in page.text
    assert _post(ivy, f"/incidents/{key}/review/meeting", {}).status_code == 303
    assert "Ground rules" in ivy.get(f"/incidents/{key}/review").text
    assert ivy.get("/reviews/overdue").status_code == 200


def test_editor_check_preview_and_injection(ivy: TestClient, org: Org) -> None:
    key = f"INC-{org.number}"
    _post(ivy, f"/incidents/{key}/report", {"template": "google-sre"})
    edit = ivy.get(f"/incidents/{key}/report/edit")
    assert edit.status_code == 200 and "## Lessons learned" in edit.text
    check = _post(
        ivy,
        f"/incidents/{key}/report/check",
        {"body": f"## Narrative\n\nThe engineer failed to check the pool.\n\n{INJECTION}"},
    )
    assert check.status_code == 200
    assert "omission" in check.text and "failed to" in check.text
    assert "<script>" not in check.text and 'href="javascript' not in check.text
    assert "<img" not in check.text
    huge = _post(ivy, f"/incidents/{key}/report/check", {"body": "word " * 90_000})
    assert huge.status_code == 422


def test_concurrent_saves_keep_both_versions(ivy: TestClient, org: Org, db: Session) -> None:
    key = f"INC-{org.number}"
    _post(ivy, f"/incidents/{key}/report", {})
    assert (
        _post(ivy, f"/incidents/{key}/report/save", {"body": "mine", "base": 1}).status_code == 303
    )
    stale = _post(ivy, f"/incidents/{key}/report/save", {"body": "theirs", "base": 1})
    assert stale.status_code == 409 and "Someone else saved version 2" in stale.text
    bodies = db.scalars(select(ReportVersion.body).order_by(ReportVersion.number)).all()
    assert bodies[1:] == ["mine", "theirs"]


@pytest.mark.parametrize("fmt", ["md", "html", "pdf"])
def test_exports_respect_confidentiality(ivy: TestClient, org: Org, fmt: str) -> None:
    _publish(ivy, org.number, "\n\n" + INJECTION)
    response = ivy.get(f"/api/v1/incidents/INC-{org.number}/report?format={fmt}")
    assert response.status_code == 200
    content = response.content
    assert SECRET.encode() not in content and b"rec.example" not in content
    if fmt == "html":
        assert b"<script" not in content and b"<img" not in content
        assert b"<svg" in content and b"Pool size set years ago" in content
    if fmt == "pdf":
        assert content.startswith(b"%PDF")


def test_pdf_renders_pages_with_text(ivy: TestClient, org: Org, tmp_path: Path) -> None:
    if not (shutil.which("pdftoppm") and shutil.which("pdftotext")):
        pytest.skip("needs pdftoppm and pdftotext (Debian poppler-utils)")
    _publish(ivy, org.number)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(ivy.get(f"/incidents/INC-{org.number}/report/export?format=pdf").content)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=60
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 2 and all(p.stat().st_size > 2000 for p in pages)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    assert "Contributors and enablers" in text and "Payments timeouts" in text
    assert SECRET not in text


def test_reading_cannot_be_forged_and_reloads_dedupe(
    client: TestClient, org: Org, db: Session
) -> None:
    ivy = login(client, "ivy@example.com")
    _publish(ivy, org.number)
    client.cookies.clear()
    sam = login(client, "sam@example.com")
    key = f"INC-{org.number}"
    for _ in range(15):
        assert sam.get(f"/incidents/{key}/report").status_code == 200
    forged = sam.post(
        f"/incidents/{key}/report/heartbeat?user_id={org.users['ann']}",
        json={"user_id": org.users["ann"]},
    )
    assert forged.status_code == 204
    rows = db.scalars(select(ReadEvent)).all()
    assert [(r.user_id, r.opens) for r in rows] == [(org.users["sam"], 15)]
    no_csrf = sam.post(f"/incidents/{key}/report/heartbeat", headers={"X-CSRF-Token": "nope"})
    assert no_csrf.status_code == 403
    page = sam.get(f"/incidents/{key}/report")
    assert "1</strong> readers" in page.text and "data-report-heartbeat" in page.text
    assert (
        _post(
            sam, f"/incidents/{key}/report/comments", {"section": "event", "body": INJECTION}
        ).status_code
        == 303
    )
    page = sam.get(f"/incidents/{key}/report")
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    learning = sam.get("/learning")
    assert "Payments timeouts" in learning.text and "medians" in learning.text


def test_reading_page_survives_a_tracking_failure(
    ivy: TestClient, org: Org, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _publish(ivy, org.number)
    from afteraction.services import readership

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(readership, "record_open", broken)
    assert ivy.get(f"/incidents/INC-{org.number}/report").status_code == 200
    assert db.scalars(select(Report)).one().state == "published"


def test_cli_export(
    org: Org, database_url: str, tmp_path: Path, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from afteraction.cli.main import app
    from afteraction.core.access import SYSTEM
    from afteraction.services import reports
    from afteraction.storage.db import writing

    monkeypatch.setenv("AFTERACTION_ENVIRONMENT", "development")
    with writing(db):
        reports.create_report(db, SYSTEM, org.number)
    out = tmp_path / "r.md"
    result = CliRunner().invoke(
        app,
        [
            "--database-url",
            database_url,
            "report",
            "export",
            f"INC-{org.number}",
            "--format",
            "md",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "## Narrative" in out.read_text() and SECRET not in out.read_text()
    bad = CliRunner().invoke(
        app,
        [
            "--database-url",
            database_url,
            "report",
            "export",
            "INC-999",
            "--format",
            "md",
            "-o",
            str(out),
        ],
    )
    assert bad.exit_code == 1


def test_readers_compare_published_versions_only(ivy: TestClient, org: Org) -> None:
    """A draft saved after publishing stays with the writers: a viewer's versions page
    lists up to the published version and cannot diff the newer one."""
    key = f"INC-{org.number}"
    _publish(ivy, org.number)
    page = ivy.get(f"/incidents/{key}/report/edit")
    body = page.text.split('name="body"', 1)[1].split(">", 1)[1].split("</textarea>")[0]
    import html

    draft = html.unescape(body) + "\nUNPUBLISHED-DRAFT-LINE\n"
    saved = _post(ivy, f"/incidents/{key}/report/save", {"body": draft, "base": 1})
    assert saved.status_code == 303
    assert "UNPUBLISHED-DRAFT-LINE" in ivy.get(f"/incidents/{key}/report/versions").text
    ivy.cookies.clear()
    viewer = login(ivy, "sam@example.com")
    versions = viewer.get(f"/incidents/{key}/report/versions")
    assert versions.status_code == 200
    assert "UNPUBLISHED-DRAFT-LINE" not in versions.text
    assert "Version 2" not in versions.text
    newer = viewer.get(f"/incidents/{key}/report/versions?a=1&b=2")
    assert newer.status_code == 404
    assert "UNPUBLISHED-DRAFT-LINE" not in newer.text
    assert viewer.get(f"/incidents/{key}/report/edit").status_code == 403
