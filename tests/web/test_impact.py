"""Customer-impact intervals through the API and the incident page: recorded, ended,
changed, removed (each in the activity feed), the impact duration with its definition, bad
input refused with the field named and nothing written, and viewers kept read-only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from afteraction.storage.tables import AuditLog, CustomerImpact
from tests.conftest import login, make_user
from tests.web.conftest import declare, post_form, soup


def _rows(db: Session) -> int:
    db.rollback()
    return int(db.scalar(select(func.count()).select_from(CustomerImpact)) or 0)


def test_api_records_intervals_and_reports_the_duration(admin: TestClient, db: Session) -> None:
    key = declare(admin).rsplit("/", 1)[-1]
    base = f"/api/v1/incidents/{key}/impact"
    empty = admin.get(base).json()
    assert empty["items"] == [] and empty["impact_duration_seconds"] is None
    assert "overlapping intervals counted once" in empty["definition"]

    first = admin.post(base, json={"start": "2026-03-02T10:00:00+00:00",
                                   "end": "2026-03-02T10:30:00+00:00",
                                   "description": "checkout 5xx"})  # fmt: skip
    assert first.status_code == 201 and first.json()["seconds"] == 1800
    relapse = admin.post(base, json={"start": "2026-03-02T10:20:00+00:00"}).json()
    assert relapse["end"] is None
    assert admin.get(base).json()["impact_duration_seconds"] is None  # still open: missing

    early = admin.patch(f"{base}/{relapse['id']}", json={"end": "2026-03-02T11:00:00+01:00"})
    assert early.status_code == 422  # 10:00 UTC, before its 10:20 start
    assert early.json()["error"]["details"]["field"] == "end"
    ended = admin.patch(f"{base}/{relapse['id']}", json={"end": "2026-03-02T12:00:00+01:00"})
    assert ended.status_code == 200 and ended.json()["end"].startswith("2026-03-02T11:00")
    listed = admin.get(base).json()
    assert listed["impact_duration_seconds"] == 3600  # 10:00-11:00, the overlap once

    removed = admin.delete(f"{base}/{first.json()['id']}")
    assert removed.status_code == 200 and removed.json()["impact_duration_seconds"] == 2400
    actions = db.scalars(select(AuditLog.action).where(AuditLog.action.like("impact.%"))).all()
    assert sorted(actions) == ["impact.added", "impact.added", "impact.changed",
                               "impact.removed"]  # fmt: skip


def test_api_refuses_bad_intervals_and_writes_nothing(admin: TestClient, db: Session) -> None:
    key = declare(admin).rsplit("/", 1)[-1]
    base = f"/api/v1/incidents/{key}/impact"
    backwards = admin.post(base, json={"start": "2026-03-02T10:00:00+00:00",
                                       "end": "2026-03-02T09:00:00+00:00"})  # fmt: skip
    assert backwards.status_code == 422
    assert backwards.json()["error"]["details"]["field"] == "end"
    naive = admin.post(base, json={"start": "2026-03-02T10:00:00"})
    assert naive.status_code == 422
    assert admin.post(base, json={}).status_code == 422
    assert admin.patch(f"{base}/999", json={"description": "x"}).status_code == 404
    assert admin.get("/api/v1/incidents/INC-999/impact").status_code == 404
    assert _rows(db) == 0


def test_page_records_ends_and_removes_impact(admin: TestClient, db: Session) -> None:
    url = declare(admin)
    page = soup(admin.get(url))
    assert "Impact duration: not recorded" in page.select_one("#impact").text
    bad = post_form(admin, f"{url}/impact", {"start": "", "end": "", "time_zone": "UTC"})
    assert bad.status_code == 422 and "start to be affected" in bad.text and _rows(db) == 0
    kept = post_form(admin, f"{url}/impact", {"start": "2026-03-02T10:00",
                                             "end": "2026-03-02T09:00", "time_zone": "UTC",
                                             "description": "logins failing"})  # fmt: skip
    assert kept.status_code == 422 and "logins failing" in kept.text and _rows(db) == 0

    added = post_form(admin, f"{url}/impact", {"start": "2026-03-02T11:00", "end": "",
                                              "time_zone": "Europe/Berlin",
                                              "description": "logins failing"})  # fmt: skip
    assert added.status_code == 303 and added.headers["location"].endswith("#impact")
    section = soup(admin.get(url)).select_one("#impact")
    assert "still affecting customers" in section.text and "ongoing" in section.text
    assert "2026-03-02 10:00 UTC" in section.text  # 11:00 in Berlin
    db.rollback()
    impact_id = db.scalars(select(CustomerImpact.id)).one()
    db.rollback()
    ended = post_form(admin, f"{url}/impact/{impact_id}/end",
                      {"end": "2026-03-02T12:30", "time_zone": "Europe/Berlin"})  # fmt: skip
    assert ended.status_code == 303
    assert "Impact duration: 1h 30m" in soup(admin.get(url)).select_one("#impact").text
    removed = post_form(admin, f"{url}/impact/{impact_id}/remove", {})
    assert removed.status_code == 303 and _rows(db) == 0


def test_viewers_see_impact_but_cannot_change_it(client: TestClient, admin: TestClient,
                                                 db: Session) -> None:  # fmt: skip
    key = declare(admin).rsplit("/", 1)[-1]
    admin.post(f"/api/v1/incidents/{key}/impact", json={"start": "2026-03-02T10:00:00+00:00"})
    make_user(db, "v@example.com", "viewer")
    with TestClient(client.app) as other:
        viewer = login(other, "v@example.com")
        assert len(viewer.get(f"/api/v1/incidents/{key}/impact").json()["items"]) == 1
        refused = viewer.post(f"/api/v1/incidents/{key}/impact",
                              json={"start": "2026-03-02T10:00:00+00:00"})  # fmt: skip
        assert refused.status_code == 403
        page = soup(viewer.get(f"/incidents/{key}"))
        assert page.select_one("#impact") is not None
        assert page.select_one('form[action$="/impact"]') is None
    assert _rows(db) == 1
