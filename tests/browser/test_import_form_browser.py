"""The import form in headless Chromium: the kind links switch the fields in place (no page
load), and the fields of other kinds are neither shown nor sent."""

from __future__ import annotations

import pytest

from tests.browser.conftest import EMAIL
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_kind_links_switch_the_fields_in_place(page) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/incidents")
    page.goto("/imports")
    assert page.locator("#channels").is_visible()
    assert not page.locator("#recording_start").is_visible()
    page.evaluate("window.stayed = true")

    page.locator('#import-kinds a[data-kind="transcript"]').click()
    assert page.evaluate("window.stayed === true")  # switched in place, no page load
    assert page.url.endswith("/imports?kind=transcript")
    assert page.locator("#recording_start").is_visible()
    assert not page.locator("#channels").is_visible() and not page.locator("#since").is_visible()
    assert page.locator("#import-form input[name=kind]").input_value() == "transcript"
    assert page.locator("#import-form button[name=preview]").is_disabled()
    sent = page.evaluate("Array.from(new FormData(document.getElementById('import-form')).keys())")
    assert "channels" not in sent and "recording_start" in sent

    page.locator('#import-kinds a[data-kind="slack"]').click()
    assert (
        page.locator("#channels").is_visible() and not page.locator("#recording_start").is_visible()
    )
