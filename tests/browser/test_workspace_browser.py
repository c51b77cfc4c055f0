"""In headless Chromium: annotate a transcript message with the keyboard, accept a
suggested timeline entry, and see it on the timeline."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from afteraction.core.access import SYSTEM
from afteraction.services import users
from afteraction.storage.db import make_session_factory, writing
from tests.analysis_fixtures import build
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
EMAIL = "investigator-browser@example.com"


def test_keyboard_annotation_and_suggestion(page, engine: Engine) -> None:
    session = make_session_factory(engine)()
    built = build(session)
    with writing(session):
        users.create_user(session, SYSTEM, email=EMAIL, password=PASSWORD, role="investigator")
    session.close()
    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/incidents")

    page.goto(f"/incidents/INC-{built.incident}/transcript")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("t")
    page.wait_for_selector("#tag-picker:not([hidden])")
    page.keyboard.press("3")  # detection
    second = page.locator("li.msg").nth(1)
    second.locator(".marks .mark", has_text="detection").wait_for()
    page.reload()
    assert "detection" in page.locator("li.msg").nth(1).locator(":scope > .marks").inner_text()

    page.goto(f"/incidents/INC-{built.incident}/timeline")
    first = page.locator("#suggestions li.suggestion").first
    text = first.locator(".s-text").inner_text()
    first.get_by_role("button", name="Accept").click()
    page.wait_for_selector("#timeline li.entry")
    assert text in page.locator("#timeline").inner_text()
