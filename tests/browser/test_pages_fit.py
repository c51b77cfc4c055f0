"""Pages fit a 1280 px window: a wide table scrolls inside its card and a long URL wraps,
so no page scrolls sideways. Checked in headless Chromium on the analysis fixture's incident,
with a reference URL far longer than the window."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from afteraction.core.access import SYSTEM
from afteraction.services import action_items, users
from afteraction.storage.db import make_session_factory, writing
from tests.analysis_fixtures import build
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
EMAIL = "investigator-fit@example.com"
LONG_URL = "https://dashboards.example.com/d/" + "very-long-path-segment-" * 12 + "?from=now-6h"


def test_no_page_scrolls_sideways_at_1280_px(page, engine: Engine) -> None:
    session = make_session_factory(engine)()
    built = build(session)
    with writing(session):
        users.create_user(session, SYSTEM, email=EMAIL, password=PASSWORD, role="investigator")
        action_items.add_reference(session, SYSTEM, built.incident, url=LONG_URL, kind="dashboard")
    session.close()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/incidents")
    key = f"INC-{built.incident}"
    wide = {}
    for path in (
        "/incidents",
        f"/incidents/{key}",
        f"/incidents/{key}/transcript",
        f"/incidents/{key}/timeline",
        f"/incidents/{key}/people",
        f"/incidents/{key}/analysis",
        f"/incidents/{key}/interviews",
        "/insights",
        "/insights/oncall",
        "/action-items",
        "/people",
        "/imports",
    ):
        page.goto(path)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > 1280:
            wide[path] = width
    assert not wide, f"pages wider than the 1280 px window: {wide}"
