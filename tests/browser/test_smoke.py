"""End to end in headless Chromium: log in, declare through the form, resolve with the
status button, and find the incident in the list with its new status."""

from __future__ import annotations

import pytest

from tests.browser.conftest import EMAIL
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_declare_resolve_and_list(page) -> None:
    page.goto("/incidents")
    assert "/login" in page.url
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/incidents")

    page.get_by_role("link", name="Declare incident").click()
    page.get_by_label("Title").fill("Browser smoke: checkout errors")
    page.get_by_label("Severity").select_option("SEV2")
    page.get_by_label("Summary").fill("Errors **spiking** on checkout")
    page.locator("#ms-started").fill("2026-02-01T08:30")
    page.get_by_role("button", name="Declare incident").click()
    page.wait_for_url("**/incidents/INC-*")
    assert "Declared INC-" in page.locator(".notice").inner_text()
    assert page.locator(".prose strong").inner_text() == "spiking"

    page.get_by_label("Note").fill("Rolled back the deploy")
    page.get_by_role("button", name="Move to resolved").click()
    page.wait_for_selector(".meta .badge.status-resolved")
    assert "Rolled back the deploy" in page.locator("#updates").inner_text()

    page.goto("/incidents")
    row = page.locator("table.list tbody tr", has_text="Browser smoke: checkout errors")
    assert row.locator(".badge.status-resolved").inner_text() == "resolved"


def test_keyboard_shortcuts(page) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/incidents")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.locator("body").click(position={"x": 5, "y": 400})
    page.keyboard.press("Escape")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("n")
    page.wait_for_url("**/incidents/new")
    page.keyboard.press("g")
    page.keyboard.press("a")
    page.wait_for_url("**/action-items")
