"""The insight pages through the real app: charts, empty states, bad filters, exports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import incidents as repo
from afteraction.storage.db import writing
from afteraction.storage.tables import Service

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def seed(db: Session, n: int = 3) -> None:
    with writing(db):
        db.add(Service(slug="checkout", name="Checkout"))
    for i in range(n):
        start = T0 + timedelta(days=i)
        with writing(db):
            repo.declare(db, SYSTEM, repo.IncidentInput(
                title=f"Checkout slow {i}", severity="SEV2", services=["checkout"],
                private=i == 0, milestones={"started": start,
                                            "resolved": start + timedelta(hours=i + 1)}))  # fmt: skip  # noqa: E501


def test_dashboard_shows_svg_charts_definitions_and_drilldown(admin, db: Session) -> None:
    seed(db)
    page = admin.get("/insights")
    assert page.status_code == 200
    assert "time to resolve = resolved − started" in page.text and "small sample" in page.text
    assert "customer-impact intervals, overlapping intervals counted once" in page.text
    assert (
        'hx-get="/insights/charts?&amp;chart=chart-strip-time_to_resolve"' in page.text
        and page.text.count('hx-trigger="revealed"') == 10
    )
    one = admin.get("/insights/charts?chart=chart-strip-time_to_resolve",
                    headers={"HX-Request": "true"})  # fmt: skip
    assert one.status_code == 200 and one.text.count("<figure") == 1
    assert 'id="chart-strip-time_to_resolve"' in one.text and "<svg" in one.text
    assert "hx-swap-oob" not in one.text and "hx-get" not in one.text
    unknown = admin.get("/insights/charts?chart=chart-nope", headers={"HX-Request": "true"})
    assert unknown.status_code == 422 and "unknown chart" in unknown.text
    charts = admin.get("/insights/charts", headers={"HX-Request": "true"})
    assert charts.status_code == 200 and "<html" not in charts.text
    assert charts.text.count('hx-swap-oob="true"') == 10
    assert 'id="chart-strip-time_to_resolve"' in charts.text and "<svg" in charts.text
    assert 'xlink:href="/incidents?' in charts.text and "vega.github.io" not in charts.text
    standalone = admin.get("/insights/charts?severity=SEV2")
    assert standalone.status_code == 200 and "<html" in standalone.text
    assert "<svg" in standalone.text and "hx-swap-oob" not in standalone.text
    assert 'xlink:href="/incidents?' in standalone.text and "severity=SEV2" in standalone.text
    bad = admin.get("/insights/charts?service=nope", headers={"HX-Request": "true"})
    assert bad.status_code == 422 and "unknown service" in bad.text
    assert '<th class="num">mean</th>' not in page.text
    assert '<th class="num">mean</th>' in admin.get("/insights?mean=1").text


def test_empty_state_inverted_range_and_unknown_service(admin, db: Session) -> None:
    seed(db)
    empty = admin.get("/insights?since=2001-01-01&until=2001-01-31")
    assert empty.status_code == 200 and "No incidents match these filters" in empty.text
    inverted = admin.get("/insights?since=2026-05-01&until=2026-01-01")
    assert inverted.status_code == 422 and "ends before it starts" in inverted.text
    unknown = admin.get("/insights?service=nope")
    assert unknown.status_code == 422 and "unknown service" in unknown.text


def test_exports_and_other_pages(admin, db: Session) -> None:
    seed(db)
    csv = admin.get("/insights?format=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.startswith("metric,severity,definition,count,count_missing,median_seconds")
    rows = admin.get("/insights/silos?format=json&table=services").json()
    assert isinstance(rows, list)
    for url in (
        "/insights/oncall",
        "/insights/silos",
        "/insights/response",
        "/slos",
        "/slas",
        "/search?q=checkout",
        "/incidents/INC-2/similar",
    ):
        assert admin.get(url).status_code == 200, url
    assert "systems signal, never a performance score" in admin.get("/insights/silos").text
    assert admin.get("/insights?format=xml").status_code == 422


def test_sla_page_lists_the_newest_breaches_and_the_export_all(admin, db: Session,
                                                              monkeypatch) -> None:  # fmt: skip
    from afteraction.web.routes import pages_insights

    seed(db, 4)  # resolved after 1, 2, 3 and 4 hours; the first is private
    monkeypatch.setattr(pages_insights, "BREACHES_SHOWN", 2)
    made = admin.post("/api/v1/slas", json={"name": "fix in 30m", "milestone": "resolved",
                                            "within_seconds": 1800})  # fmt: skip
    assert made.status_code == 201, made.text
    page = admin.get("/slas")
    assert page.status_code == 200
    assert "The newest 2 of 4 breaches" in page.text
    listed = page.text.split("<h2>Breaches</h2>", 1)[1]
    assert listed.index("INC-4") < listed.index("INC-3") and "INC-2" not in listed
    exported = admin.get("/slas?format=csv&table=breaches")
    assert exported.status_code == 200
    assert [line.split(",")[1] for line in exported.text.splitlines()[1:]] == [
        "INC-1", "INC-2", "INC-3", "INC-4"
    ]  # fmt: skip
