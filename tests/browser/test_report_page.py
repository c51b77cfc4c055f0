"""The report in a real browser: create from a template, the live blame-aware check as the
author types (htmx), publish, read with diagrams, and the heartbeat recorded for this user."""

from __future__ import annotations

from sqlalchemy import Engine, select

from afteraction.core.access import SYSTEM
from afteraction.services import incidents as repo
from afteraction.storage.db import make_session_factory, writing
from afteraction.storage.review_tables import ReadEvent
from tests.browser.conftest import EMAIL
from tests.conftest import PASSWORD


def test_write_check_publish_and_read(page, engine: Engine) -> None:
    session = make_session_factory(engine)()
    with writing(session):
        incident, _ = repo.declare(
            session, SYSTEM, repo.IncidentInput(title="Browser report", severity="SEV2")
        )
        key = incident.public_id
    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/incidents/{key}/report")
    page.get_by_role("button", name="Create the draft").click()
    page.wait_for_url(f"**/incidents/{key}/report/edit")
    editor = page.locator("#report-body")
    editor.fill("## Narrative\n\nThe operator failed to notice the alert.")
    editor.press("End")
    page.locator(".finding").first.wait_for()
    assert "omission" in page.locator("#findings").inner_text()
    assert "failed to notice" in page.locator(".preview").inner_text()
    page.get_by_role("button", name="Save a version").click()
    page.get_by_role("button", name="Move to in review").click()
    page.get_by_role("button", name="Publish").click()
    # an open finding: the publish step lists it and asks for confirmation
    assert "failed to (omission)" in page.locator(".findings").inner_text()
    page.get_by_role("button", name="Publish anyway").click()
    page.wait_for_url(f"**/incidents/{key}/report")
    assert page.locator(".report-body h2#narrative").is_visible()
    status = page.evaluate(
        "fetch(document.querySelector('[data-report-heartbeat]').dataset.reportHeartbeat,"
        "{method:'POST',headers:{'X-CSRF-Token':"
        "document.querySelector('meta[name=csrf-token]').content}}).then(r => r.status)"
    )  # evaluate awaits the promise: the heartbeat is stored once it returns
    assert status < 300, status
    rows = session.scalars(select(ReadEvent)).all()
    assert len(rows) == 1 and rows[0].opens >= 1
    session.close()
