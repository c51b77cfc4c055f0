"""The insights dashboard in a real browser: each chart is fetched and drawn as its
placeholder scrolls into view, one request a chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from afteraction.core.access import SYSTEM
from afteraction.services import incidents as repo
from afteraction.storage.db import make_session_factory, writing
from tests.browser.conftest import EMAIL
from tests.conftest import PASSWORD


def test_charts_load_as_they_scroll_into_view(page, engine: Engine) -> None:
    session = make_session_factory(engine)()
    start = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    for n in range(12):
        at = start + timedelta(days=3 * n)
        with writing(session):
            repo.declare(session, SYSTEM, repo.IncidentInput(
                title=f"Browser insights {n}", severity=("SEV1", "SEV2", "SEV3")[n % 3],
                milestones={"started": at, "detected": at + timedelta(minutes=5 + n),
                            "resolved": at + timedelta(hours=1 + n)},
            ))  # fmt: skip
    session.close()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/insights/charts" in r.url else None)
    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/incidents")
    page.set_viewport_size({"width": 1200, "height": 700})
    page.goto("/insights")
    page.locator("#chart-counts svg").wait_for()
    first = len(asked)
    assert all("chart=" in url for url in asked)
    assert 1 <= first < 10  # only what is in view
    page.locator("#chart-problems").scroll_into_view_if_needed()
    page.locator("#chart-problems").get_by_text("No incident is linked to a problem.").wait_for()
    for chart in ("#chart-strip-time_to_resolve", "#chart-trend"):
        page.locator(chart).scroll_into_view_if_needed()
        page.locator(f"{chart} svg").wait_for()
    assert len(asked) == len(set(asked)) <= 10  # each chart asked for once
    assert page.locator("figure.chart[hx-get]").count() == 10 - len(asked)
