"""In headless Chromium: annotate a transcript message with the keyboard, accept a
suggested timeline entry, and see it on the timeline."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from afteraction.core.access import SYSTEM
from afteraction.services import users
from afteraction.storage.db import make_session_factory, writing
from tests.analysis_fixtures import Built, build
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
EMAIL = "investigator-browser@example.com"


@pytest.fixture(scope="module")
def built(live_server: str, engine: Engine) -> Built:
    """The analysis fixture's incident and an investigator, once for this module's tests
    (they share the live server's database)."""
    session = make_session_factory(engine)()
    made = build(session)
    with writing(session):
        users.create_user(session, SYSTEM, email=EMAIL, password=PASSWORD, role="investigator")
    session.close()
    return made


def _log_in(page) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/incidents")


def test_keyboard_annotation_and_suggestion(page, built: Built) -> None:
    _log_in(page)

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


def test_annotate_with_the_mouse_moves_the_one_form(page, built: Built) -> None:
    """Each item has an Annotate link; clicking it brings the page's one form under that
    item, and what is saved there marks that item."""
    _log_in(page)

    page.goto(f"/incidents/INC-{built.incident}/transcript")
    assert page.locator("form.annotate").count() == 1  # one form, hidden until wanted
    assert not page.locator("form#annotate-form").is_visible()
    third = page.locator("#transcript > li.msg").nth(2)
    third.locator(":scope > a.annotate-link").click()
    form = third.locator(":scope > form#annotate-form")
    form.wait_for()
    form.locator("select[name=tag]").select_option("mitigation")
    form.locator("input[name=note]").fill("rolled back here")
    second = page.locator("#transcript > li.msg").nth(1)
    second.locator(":scope > a.annotate-link").click()  # the form moves on
    assert second.locator(":scope > form#annotate-form").count() == 1
    assert third.locator(":scope > a.annotate-link").is_visible()
    assert not second.locator(":scope > a.annotate-link").is_visible()  # its form is open
    form = second.locator(":scope > form#annotate-form")
    assert form.locator("input[name=note]").input_value() == ""  # a fresh form
    form.locator("select[name=tag]").select_option("mitigation")
    form.locator("input[name=note]").fill("rolled back here")
    form.get_by_role("button", name="Save").click()
    page.wait_for_url("**/transcript#m*")
    saved = page.locator("#transcript > li.msg").nth(1)
    marks = saved.locator(":scope > .marks .mark", has_text="mitigation")
    assert marks.get_attribute("title") == "rolled back here"
    third_marks = page.locator("#transcript > li.msg").nth(2).locator(":scope > .marks")
    assert "rolled back here" not in (third_marks.inner_html() or "")
