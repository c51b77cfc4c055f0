"""The report in a real browser: create from a template, the live blame-aware check as the
author types (htmx), publish, read with diagrams, and the heartbeat recorded for this user;
and a claim that disagrees with the evidence listed in the publish step, which publishes
only once the author confirms."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select

from afteraction.core.access import SYSTEM
from afteraction.services import incidents as repo
from afteraction.storage.db import make_session_factory, writing
from afteraction.storage.review_tables import ReadEvent, Report
from afteraction.storage.tables import Person
from tests.browser.conftest import EMAIL
from tests.conftest import PASSWORD


def _log_in(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_write_check_publish_and_read(page, engine: Engine) -> None:
    session = make_session_factory(engine)()
    with writing(session):
        incident, _ = repo.declare(
            session, SYSTEM, repo.IncidentInput(title="Browser report", severity="SEV2")
        )
        key = incident.public_id
    _log_in(page)
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


def test_the_publish_step_lists_a_wrong_claim_and_needs_confirmation(page, engine: Engine) -> None:
    started = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
    session = make_session_factory(engine)()
    with writing(session):
        session.add(Person(name="Sam Sales", email="sam.sales@example.com"))
        incident, _ = repo.declare(
            session,
            SYSTEM,
            repo.IncidentInput(
                title="Claims in the browser",
                severity="SEV2",
                milestones={"started": started, "declared": started.replace(minute=10)},
            ),
        )
        key = incident.public_id
    _log_in(page)
    page.goto(f"/incidents/{key}/report")
    page.get_by_role("button", name="Create the draft").click()
    page.wait_for_url(f"**/incidents/{key}/report/edit")
    editor = page.locator("#report-body")
    editor.fill(
        f"# {key}\n\n## Summary\n\nThe incident started at 2026-10-20 09:00 UTC. "
        "Sam Sales restarted the pool at 2026-10-20 03:33 UTC.\n"
    )
    editor.press("End")
    page.locator(".finding.claim").first.wait_for()  # the live check sees both claims
    page.get_by_role("button", name="Save a version").click()
    page.get_by_role("button", name="Move to in review").click()
    page.get_by_role("button", name="Publish").click()
    claims = page.get_by_role("region", name="2 claims disagree with the evidence")
    listed = claims.inner_text()
    assert "the draft says Sam Sales" in listed and "took no part" in listed
    assert "the draft says 2026-10-20 03:33 UTC" in listed
    assert "The evidence shows: Nearest event: 2026-10-20 09:00 UTC" in listed
    assert page.get_by_role("region", name="open language finding").count() == 0
    # nothing is published until the author confirms
    with session.begin():
        report = session.scalar(select(Report).where(Report.incident_id == incident.id))
        assert report is not None and report.state == "in review"
    page.get_by_role("button", name="Publish anyway").click()
    page.wait_for_url(f"**/incidents/{key}/report")
    session.expire_all()
    with session.begin():
        report = session.scalar(select(Report).where(Report.incident_id == incident.id))
        assert report is not None and report.state == "published"
    session.close()
