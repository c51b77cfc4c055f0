"""The report editor in a real browser, on the demo's flagship report: line numbers beside
the Markdown, a finding's line link selecting its words (scrolled into view), and accepting
a claim's and a language finding's suggestion as an edit that the writer then saves."""

from __future__ import annotations

from sqlalchemy import Engine

from afteraction.core.access import SYSTEM
from afteraction.demo.load import load_demo
from afteraction.services import reports
from afteraction.storage.db import make_session_factory, writing
from tests.browser.conftest import EMAIL
from tests.conftest import PASSWORD

SELECTED = "(() => { const a = document.getElementById('report-body');"
SELECTED += " return a.value.slice(a.selectionStart, a.selectionEnd); })()"


def test_line_links_and_accepting_suggestions(page, engine: Engine) -> None:
    session = make_session_factory(engine)()
    load_demo(session)
    with writing(session):
        report = reports.create_report(session, SYSTEM, 301)
        body = reports.version(session, report).body
        body += "\nThe post-mortem follows.\n\nJordan Reyes was paged at 20:15 UTC.\n"
        reports.save(session, SYSTEM, 301, body, base=1)
    lines = body.count("\n")
    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/incidents/INC-301/report/edit")
    gutter = page.locator(".editor-lines .gutter div")
    assert gutter.count() == lines + 1  # the empty line after the final newline too
    assert gutter.nth(lines - 1).inner_text() == str(lines)

    claim = page.locator("#claims .finding").first
    assert f"line {lines}, column 27" in claim.inner_text()
    claim.locator("a.line-link").click()
    assert page.evaluate(SELECTED) == "20:15 UTC"
    assert page.locator(".gutter .current").inner_text() == str(lines)
    assert page.evaluate("document.getElementById('report-body').scrollTop") > 0
    claim.locator("button.accept").click()

    language = page.locator("#findings .finding", has_text="post-mortem").first
    language.locator("a.line-link").click()
    assert page.evaluate(SELECTED) == "post-mortem"
    language.locator("button.accept").click()
    text = page.locator("#report-body").input_value()
    assert "The learning review follows." in text and "paged at 20:25 UTC." in text
    page.locator("#claims-h", has_text="0 open").wait_for()
    page.get_by_role("button", name="Save a version", exact=True).click()
    page.wait_for_url("**/incidents/INC-301/report/edit")
    session.expire_all()
    saved = reports.version(session, session.get(type(report), report.id)).body
    assert saved.endswith("The learning review follows.\n\nJordan Reyes was paged at 20:25 UTC.")
    session.close()
