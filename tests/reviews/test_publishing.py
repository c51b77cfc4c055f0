"""Publishing is a deliberate act: from review only, with open language findings and
unfilled sections listed for confirmation, refused outright while findings are open when the
organisation requires it; template hints never reach readers; the review follows the
report, so every page shows one state."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.core import report_rules as rules
from afteraction.core.errors import InvalidTransition, ValidationError
from afteraction.services import report_publishing, reports, reviews
from afteraction.services.report_publishing import NeedsConfirmation
from afteraction.storage.db import writing
from tests.conftest import login, token_of
from tests.reviews.conftest import Org
from tests.reviews.test_storage_reviews import actor

BODY = "# INC\n\n## Summary\n\nThe pool ran dry.\n\n## Impact\n\n_To write._\n\n## Trigger\n\n"


def test_unfilled_sections_and_what_readers_get() -> None:
    assert rules.unfilled_sections(BODY) == ["Impact", "Trigger"]
    shown = rules.without_hints(BODY + "## Notes\n\nkept\n_To write._\n")
    assert "_To write._" not in shown and "## Impact" not in shown and "## Trigger" not in shown
    assert "## Summary\n\nThe pool ran dry." in shown and "## Notes\n\nkept" in shown
    assert rules.next_report_states("draft") == ("in review",)


def test_a_report_is_published_from_review_with_confirmation(db: Session, org: Org) -> None:
    ivy = actor(org, "ivy", "investigator")
    with writing(db):
        reports.create_report(db, ivy, org.number)
        reports.save(db, ivy, org.number, BODY + "Carl should have restarted it.\n", base=1)
    with writing(db), pytest.raises(InvalidTransition):
        report_publishing.change_state(db, ivy, org.number, "published", confirmed=True)
    with writing(db):
        report_publishing.change_state(db, ivy, org.number, "in review")
    with writing(db), pytest.raises(NeedsConfirmation) as asked:
        report_publishing.change_state(db, ivy, org.number, "published")
    assert asked.value.check.open_findings >= 1
    assert asked.value.check.unfilled == ("Impact",)  # Trigger now holds a sentence
    with writing(db), pytest.raises(ValidationError, match="none open"):
        report_publishing.change_state(
            db, ivy, org.number, "published", confirmed=True, clean_required=True
        )
    with writing(db):
        report = report_publishing.change_state(db, ivy, org.number, "published", confirmed=True)
    assert report.state == "published"
    incident = reviews.repo.get_incident(db, ivy, org.number)
    assert reviews.review_of(db, incident).state == "published"  # type: ignore[union-attr]
    readable = reports.readable(db, actor(org, "sam", "viewer"), org.number)
    assert "_To write._" not in readable.body and "## Impact" not in readable.body
    with writing(db):
        report_publishing.change_state(db, ivy, org.number, "in review")
    assert reviews.review_of(db, incident).state == "in review"  # type: ignore[union-attr]


def test_a_review_is_not_published_on_its_own(db: Session, org: Org) -> None:
    ivy = actor(org, "ivy", "investigator")
    with writing(db):
        reports.create_report(db, ivy, org.number)
        review = reviews.ensure_review(db, reviews.repo.get_incident(db, ivy, org.number))
        review.state = "in review"
    with writing(db), pytest.raises(ValidationError, match="publishing its report"):
        reviews.change_state(db, ivy, org.number, "published")


def _post(client: TestClient, url: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post(url, data={**data, "csrf_token": token_of(client)}, follow_redirects=False)


def test_the_publish_page_lists_what_is_open_and_asks(client: TestClient, org: Org) -> None:
    ivy = login(client, "ivy@example.com")
    key = f"/incidents/INC-{org.number}/report"
    assert _post(ivy, key, {"template": "learning-review"}).status_code == 303
    assert _post(ivy, f"{key}/state", {"state": "in review"}).status_code == 303
    asked = _post(ivy, f"{key}/state", {"state": "published"})
    assert asked.status_code == 409
    assert "Publish anyway" in asked.text and "unfilled section" in asked.text
    done = _post(ivy, f"{key}/state", {"state": "published", "confirm": "yes"})
    assert done.status_code == 303
    assert "_To write._" not in ivy.get(key).text
