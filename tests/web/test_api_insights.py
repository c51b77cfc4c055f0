"""Insight API: metrics, privacy, SLO counts (JSON and CSV) with the burn alert job, SLAs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.adapters.embeddings import semantic_available
from afteraction.config import Settings
from afteraction.core.access import SYSTEM
from afteraction.services import incidents as repo
from afteraction.services.impact import add_impact
from afteraction.services.search import embed_for
from afteraction.storage.db import writing
from afteraction.storage.insights_tables import Notification
from afteraction.storage.tables import Service
from afteraction.storage.types import utcnow
from afteraction.web.app import create_app
from tests.conftest import login, make_user

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def seed(db: Session) -> None:
    with writing(db):
        db.add(Service(slug="checkout", name="Checkout"))
    for i, private in enumerate((False, False, True)):
        start = T0 + timedelta(days=i)
        with writing(db):
            repo.declare(db, SYSTEM, repo.IncidentInput(
                title=f"c{i}", severity="SEV1", services=["checkout"], private=private,
                milestones={"started": start, "acknowledged": start + timedelta(minutes=5 + 30 * i),
                            "resolved": start + timedelta(hours=2)}))  # fmt: skip


def test_metrics_hide_private_incidents_from_a_viewer(client, db: Session) -> None:
    seed(db)
    make_user(db, "v@example.com", "viewer")
    viewer = login(client, "v@example.com")
    data = viewer.get("/api/v1/insights/metrics").json()
    assert data["incidents"] == 2
    tta = next(m for m in data["metrics"] if m["metric"] == "time_to_acknowledge")
    assert tta["max"] == 35 * 60 and tta["by_severity"]["SEV1"]["count"] == 2
    assert "definition" in tta and "mean" not in tta
    assert "mean" in viewer.get("/api/v1/insights/metrics?mean=true").json()["metrics"][0]
    csv = viewer.get("/api/v1/insights/metrics?format=csv")
    assert csv.text.count("\n") == 1 + 6 * 2  # five durations and the impact duration
    assert "\nimpact_duration,all," in csv.text


def test_impact_duration_counts_visible_measured_incidents_only(client, db: Session) -> None:
    seed(db)
    with writing(db):
        for key, minutes in (("INC-1", 30), ("INC-3", 600)):  # INC-3 is private
            add_impact(db, SYSTEM, key, start=T0, end=T0 + timedelta(minutes=minutes))
        add_impact(db, SYSTEM, "INC-2", start=T0)  # still open: missing, not zero
    make_user(db, "v@example.com", "viewer")
    viewer = login(client, "v@example.com")
    impact = viewer.get("/api/v1/insights/metrics").json()["impact"]
    assert impact["metric"] == "impact_duration" and "overlapping" in impact["definition"]
    assert (impact["count"], impact["count_missing"], impact["max"]) == (1, 1, 30 * 60)
    assert impact["by_severity"]["SEV1"]["count"] == 1


def test_slo_counts_json_and_csv_with_burn_alert_job(admin, db: Session) -> None:
    seed(db)
    created = admin.post("/api/v1/slos", json={"service": "checkout", "name": "avail",
                                               "objective": 0.999})  # fmt: skip
    assert created.status_code == 201, created.text
    slo = created.json()["id"]
    now = utcnow()
    bad = admin.post(f"/api/v1/slos/{slo}/counts", json={"rows": [
        {"at": now.isoformat(), "good": 1, "total": 2},
        {"at": now.isoformat(), "good": 3.5, "total": 4}]})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["error"]["details"]["row"] == 2
    csv_body = "at,good,total\n" + "".join(
        f"{(now - timedelta(minutes=m)).isoformat()},10,100\n" for m in range(30)
    )
    upload = admin.post(f"/api/v1/slos/{slo}/counts", files={"file": ("c.csv", csv_body,
                                                                      "text/csv")})  # fmt: skip
    assert upload.status_code == 201 and upload.json() == {"written": 30}
    assert db.scalars(select(Notification.kind)).all() == ["slo_burn"] * 3  # 1h, 6h, 3d rules
    status = admin.get(f"/api/v1/slos/{slo}").json()
    assert round(status["burn_rate_1h"], 6) == 900.0 and status["alerts"]
    bad_csv = admin.post(f"/api/v1/slos/{slo}/counts", content="at,good,total\n2026-01-01T00:00:00+00:00,-1,3\n",  # noqa: E501
                         headers={"content-type": "text/csv"})  # fmt: skip
    assert bad_csv.status_code == 422 and "row 2" in bad_csv.json()["error"]["message"]
    assert admin.get("/api/v1/slos?format=csv").text.startswith("id,service,name")
    assert admin.post("/api/v1/slos", json={"service": "nope", "name": "x",
                                            "objective": 0.9}).status_code == 422  # fmt: skip


def test_sla_compliance_and_breaches(admin, db: Session) -> None:
    seed(db)
    made = admin.post("/api/v1/slas", json={"name": "ack 15m", "milestone": "acknowledged",
                                            "within_seconds": 900, "severity": "SEV1"})  # fmt: skip
    assert made.status_code == 201
    sla = admin.get(f"/api/v1/slas/{made.json()['id']}").json()
    assert (sla["met"], sla["breached"], sla["compliance"]) == (1, 2, 1 / 3)
    assert {b["incident"] for b in sla["breaches"]} == {"INC-2", "INC-3"}
    listed = admin.get("/api/v1/slas?format=csv")
    assert listed.text.splitlines()[0].startswith("id,name,milestone")


def test_search_and_similar_api(admin, db: Session) -> None:
    seed(db)
    hits = admin.get("/api/v1/search?q=c1").json()["items"]
    assert [h["key"] for h in hits] == ["INC-2"]
    assert admin.get("/api/v1/search?q=%20").status_code == 422
    similar = admin.get("/api/v1/incidents/INC-3/similar")
    assert similar.status_code == 200
    expected = "lexical+semantic" if semantic_available() else "lexical"
    assert similar.json()["ranking"] == expected


def test_similarity_setting_is_checked_when_the_app_is_created(settings: Settings) -> None:
    assert embed_for(settings.model_copy(update={"similarity": "lexical"})) is None
    semantic = settings.model_copy(update={"similarity": "semantic"})
    if semantic_available():
        assert embed_for(semantic) is not None
    else:
        with pytest.raises(RuntimeError, match=r"afteraction\[semantic\]"):
            create_app(semantic)


def test_repeated_metric_reads_are_cached_until_a_commit(client, db: Session) -> None:
    seed(db)
    make_user(db, "c@example.com", "viewer")
    viewer = login(client, "c@example.com")
    first = viewer.get("/api/v1/insights/metrics")
    assert first.json()["incidents"] == 2
    assert viewer.get("/api/v1/insights/metrics").content == first.content
    csv = viewer.get("/api/v1/insights/metrics?format=csv")
    again = viewer.get("/api/v1/insights/metrics?format=csv")
    assert again.text == csv.text and "attachment" in again.headers["content-disposition"]
    page = viewer.get("/insights")
    assert page.status_code == 200 and viewer.get("/insights").status_code == 200
    with writing(db):
        repo.declare(db, SYSTEM, repo.IncidentInput(
            title="late", severity="SEV1", services=["checkout"],
            milestones={"started": T0, "resolved": T0 + timedelta(hours=1)}))  # fmt: skip
    assert viewer.get("/api/v1/insights/metrics").json()["incidents"] == 3
    table = viewer.get("/insights?format=json").json()
    assert next(r for r in table if r["severity"] == "all" and
                r["metric"] == "time_to_resolve")["count"] == 3  # fmt: skip
