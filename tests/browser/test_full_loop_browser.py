"""The investigator's whole loop in headless Chromium, on a real public Slack export and a
real meeting transcript from the shared fixtures: declare an incident, preview one channel
with a window taken from a day file's name (then again with the window it suggests),
import it and read its messages, import a transcript through the form and read its cues,
accept timeline suggestions in bulk, cite evidence in a note by ticking it, plan an
interview, draft the report, try to publish with open findings (refused until confirmed),
and export the PDF.

Each step leaves a screenshot in `tests/browser/screenshots/` (git-ignored) for a person
to look at. Skipped, saying why, when the shared fixtures are not there.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from afteraction.core.access import SYSTEM
from afteraction.services import users
from afteraction.storage.db import make_session_factory, writing
from tests.conftest import PASSWORD
from tests.services.imports._helpers import shared_fixture

pytestmark = pytest.mark.browser
EMAIL = "loop-investigator@example.com"
SCREENSHOTS = Path(__file__).parent / "screenshots"
EXPORT = "slack/slack-export-viewer/tests/testarchive_zip_contents"
CHANNEL, DAY_FILE = "traveling-sailor", "2016-03-25.json"
TRANSCRIPT = "vtt/cip_test_transcript/small_transcript.vtt"


class Walk:
    """The browser tab and a numbered screenshot per step."""

    def __init__(self, page: Any) -> None:
        self.page, self.step = page, 0
        SCREENSHOTS.mkdir(exist_ok=True)
        for old in SCREENSHOTS.glob("loop-*.png"):
            old.unlink()

    def shot(self, name: str) -> None:
        self.step += 1
        path = SCREENSHOTS / f"loop-{self.step:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)

    def job_done(self) -> str:
        """Wait on the import job's page until the job ends; its final text."""
        page = self.page
        page.wait_for_url(re.compile(r".*/imports/jobs/\d+.*"))
        for _ in range(60):
            text = str(page.locator("main").inner_text())
            if "complete" in text or "failed" in text:
                return text
            page.wait_for_timeout(500)
            page.reload()
        raise AssertionError("the import job did not end")


def _zip(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*.json")):
            archive.write(path, path.relative_to(folder).as_posix())
    return target


def test_the_investigators_loop_on_a_real_export(page: Any, engine: Engine, tmp_path: Path) -> None:
    export = _zip(shared_fixture(EXPORT), tmp_path / "slack-export.zip")
    transcript = shared_fixture(TRANSCRIPT)
    session = make_session_factory(engine)()
    with writing(session):
        users.create_user(session, SYSTEM, email=EMAIL, password=PASSWORD, role="investigator")
    session.close()
    walk = Walk(page)
    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/incidents")

    # 1. declare
    page.goto("/incidents/new")
    page.get_by_label("Title").fill("Sailor bot stopped posting positions")
    page.get_by_label("Started").fill("2016-03-25T23:30")
    walk.shot("declare")
    page.get_by_role("button", name="Declare incident").click()
    page.wait_for_url(re.compile(r".*/incidents/INC-\d+$"))
    incident = page.url.rsplit("/", 1)[-1]
    walk.shot("declared")

    # 2. preview one channel with the window its day file's name suggests: a UTC day
    day = DAY_FILE.removesuffix(".json")
    page.goto(f"/imports?kind=slack&incident={incident}")
    page.locator("#file").set_input_files(str(export))
    page.locator("#channels").fill(CHANNEL)
    page.locator("#since").fill(f"{day}T00:00:00+00:00")
    page.locator("#until").fill("2016-03-26T00:00:00+00:00")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("#preview-channels")
    page.locator("details summary", has_text="messages per day").first.click()
    walk.shot("preview-day-file-window")
    preview = str(page.locator("main").inner_text())
    caught = re.search(r"(\d+) of (\d+) messages in 1 channels fall in the window", preview)
    assert caught is not None, preview
    inside, total = int(caught.group(1)), int(caught.group(2))
    assert inside * 2 < total  # the file's own day, read as a UTC day, misses most of it
    warning = str(page.locator("[role=alert]").first.inner_text())
    assert "outside the window" in warning, warning
    # ... and again, from the same upload, with the window the preview suggests
    page.locator("#suggested-window button").click()
    page.wait_for_selector("#preview-channels")
    assert f"{total} of {total} messages" in str(page.locator("main").inner_text())
    walk.shot("preview-suggested-window")
    page.locator("form[action$='/confirm'] button").click()
    done = walk.job_done()
    walk.shot("slack-imported")
    assert "complete" in done, done

    # 3. its messages in the Transcript tab
    page.goto(f"/incidents/{incident}/transcript")
    messages = page.locator("#transcript li.msg")
    assert messages.count() >= 3
    walk.shot("transcript-messages")

    # 4. a transcript through the web form, read in the Transcript tab
    page.goto(f"/imports?kind=transcript&incident={incident}")
    assert page.locator("#recording_start").input_value().startswith("2016-03-25T23:30")
    page.locator("#file").set_input_files(str(transcript))
    page.locator("#recording_start").fill("2016-03-26T05:00:00+00:00")
    walk.shot("transcript-form")
    page.get_by_role("button", name="Upload and import").click()
    done = walk.job_done()
    walk.shot("transcript-imported")
    assert "complete" in done, done
    page.goto(f"/incidents/{incident}/transcript")
    cues = page.locator("#transcript li.cue")
    assert cues.count() > 0
    cues.first.scroll_into_view_if_needed()
    walk.shot("transcript-cues")

    # 5. accept the suggestions in bulk
    page.goto(f"/incidents/{incident}/timeline")
    offered = page.locator("#suggestions input[name=key]").count()
    assert offered >= 2
    page.locator("input[data-check-all=suggestion-key]").check()
    walk.shot("suggestions-ticked")
    page.get_by_role("button", name="Accept ticked").click()
    page.wait_for_selector("#timeline li.entry")
    assert page.locator("#timeline li.entry").count() == offered
    walk.shot("timeline-accepted")

    # 6. cite evidence in a note by ticking it, and take one chip off again
    page.goto(f"/incidents/{incident}/transcript")
    picks = page.locator("#transcript li.msg input.cite-pick")
    picks.nth(0).check()
    picks.nth(1).check()
    page.locator("#transcript li.cue input.cite-pick").first.check()
    assert page.locator("[data-cite-count]").inner_text() == "3 ticked"
    page.locator("#cite-into").select_option("contributing_factor")
    walk.shot("evidence-ticked")
    page.get_by_role("button", name="Cite", exact=True).click()
    page.wait_for_selector("#compose")
    chips = page.locator("#compose li.chip")
    assert chips.count() == 3
    assert not re.search(r"(message|cue):\d", str(page.locator("#compose").inner_text()))
    walk.shot("note-form-with-chips")
    chips.nth(1).locator("button.chip-drop").click()
    assert chips.count() == 2
    page.locator("#compose-text").fill("The bot's position posts depended on one scheduler")
    page.locator("#compose button.primary").click()
    page.wait_for_selector("#contributing_factor li[id^=note-] li.chip")
    cited = page.locator("#contributing_factor li[id^=note-] li.chip")
    assert cited.count() == 2
    walk.shot("note-saved")

    # 7. plan an interview
    page.goto(f"/incidents/{incident}/interviews")
    page.get_by_role("button", name="Plan interview").first.click()
    page.wait_for_url(re.compile(r".*/interviews#interview-\d+"))
    assert page.locator("[id^=interview-]").count() >= 1
    walk.shot("interview-planned")

    # 8. draft the report; publishing with open findings asks first
    page.goto(f"/incidents/{incident}/report")
    page.get_by_role("button", name="Create the draft").click()
    page.wait_for_url(re.compile(r".*/report/edit"))
    body = page.locator("#report-body")
    body.fill(body.input_value() + "\n\nThe on-call engineer should have noticed the bot.\n")
    page.get_by_role("button", name="Save a version").click()
    page.wait_for_url(re.compile(r".*/report/edit"))
    walk.shot("report-draft")
    page.get_by_role("button", name="Move to in review").click()
    page.wait_for_url(re.compile(r".*/report/edit"))
    page.get_by_role("button", name="Publish").click()
    page.wait_for_selector("text=Publish anyway")
    refused = str(page.locator("main").inner_text())
    assert "open language finding" in refused and "should have" in refused
    walk.shot("publish-asks-first")
    page.get_by_role("button", name="Publish anyway").click()
    page.wait_for_url(re.compile(r".*/report$"))
    walk.shot("report-published")

    # 9. the PDF
    pdf = page.request.get(f"/incidents/{incident}/report/export?format=pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    (SCREENSHOTS / "loop-report.pdf").write_bytes(pdf.body())
