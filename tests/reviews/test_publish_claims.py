"""Publishing over claims that disagree with the evidence: the publish-readiness check lists
each open claim finding (what the draft says, what the evidence shows) beside the language
findings and unfilled sections, and the service, `POST /api/v1/incidents/{key}/report/state`
and `afteraction report publish` all refuse until the publisher confirms; a dismissed claim
no longer asks, and an organisation that publishes only clean reports refuses outright."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from afteraction.cli.main import app
from afteraction.core.errors import ValidationError
from afteraction.services import report_claims, report_publishing, reports
from afteraction.services.report_publishing import NeedsConfirmation
from afteraction.storage.db import writing
from tests.conftest import login
from tests.reviews.conftest import Org
from tests.reviews.test_storage_reviews import actor

CLEAN = "# INC\n\n## Summary\n\nCard payments timed out; Carl Commander led the response.\n"
WRONG = CLEAN + "\nSam Sales restarted the pool at 03:33 UTC.\n"
"""Sam Sales is in the directory but took no part; nothing happened near 03:33 UTC."""


def _in_review(db: Session, org: Org, body: str) -> None:
    ivy = actor(org, "ivy", "investigator")
    with writing(db):
        reports.create_report(db, ivy, org.number)
        reports.save(db, ivy, org.number, body, base=1)
        report_publishing.change_state(db, ivy, org.number, "in review")


def test_open_claims_ask_for_confirmation_and_name_what_disagrees(db: Session, org: Org) -> None:
    _in_review(db, org, WRONG)
    ivy = actor(org, "ivy", "investigator")
    with writing(db), pytest.raises(NeedsConfirmation) as asked:
        report_publishing.change_state(db, ivy, org.number, "published")
    check = asked.value.check
    assert (check.open_findings, check.unfilled, check.open_claims) == (0, (), 2)
    assert sorted((c.kind, c.text) for c in asked.value.claims) == [
        ("person", "Sam Sales"),
        ("time", "03:33 UTC"),
    ]
    assert "2 claim(s) disagree with the evidence" in asked.value.message
    assert "“Sam Sales” (person)" in asked.value.message
    listed = asked.value.details["claims"]
    assert {c["text"] for c in listed} == {"Sam Sales", "03:33 UTC"}
    time = next(c for c in listed if c["kind"] == "time")
    assert "Nearest event" in time["evidence"] and time["line"] == WRONG.count("\n")
    with writing(db), pytest.raises(ValidationError, match="2 claim finding"):
        report_publishing.change_state(
            db, ivy, org.number, "published", confirmed=True, clean_required=True
        )
    incident = reports.repo.get_incident(db, ivy, org.number)
    report = reports.report_of(db, incident)
    assert report is not None and report.state == "in review"
    with writing(db):
        for claim in asked.value.claims:
            reports.dismiss(
                db,
                ivy,
                report,
                fingerprint=claim.fingerprint,
                reason="checked with the responders",
                text=claim.text,
                category=report_claims.CATEGORY,
            )
    with writing(db):  # nothing left open: no confirmation asked
        published = report_publishing.change_state(db, ivy, org.number, "published")
    assert published.state == "published" and published.published_version == 2


def test_a_report_whose_claims_agree_publishes_without_asking(db: Session, org: Org) -> None:
    _in_review(db, org, CLEAN)
    with writing(db):
        report = report_publishing.change_state(
            db, actor(org, "ivy", "investigator"), org.number, "published", clean_required=True
        )
    assert report.state == "published"


def test_the_api_refuses_until_the_request_confirms(
    db: Session, org: Org, client: TestClient
) -> None:
    ivy = actor(org, "ivy", "investigator")
    with writing(db):
        reports.create_report(db, ivy, org.number)
        reports.save(db, ivy, org.number, WRONG, base=1)
    url = f"/api/v1/incidents/INC-{org.number}/report/state"
    login(client, "sam@example.com")  # a viewer may not move a report
    assert client.post(url, json={"state": "in review"}).status_code == 403
    client.cookies.clear()
    login(client, "ivy@example.com")
    moved = client.post(url, json={"state": "in review"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["state"] == "in review" and moved.json()["published_version"] is None
    refused = client.post(url, json={"state": "published"})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "needs_confirmation" and error["details"]["field"] == "confirm"
    assert "Sam Sales" in error["message"]
    claims = error["details"]["claims"]
    assert [(c["kind"], c["text"]) for c in claims] == [
        ("person", "Sam Sales"),
        ("time", "03:33 UTC"),
    ]
    assert all(c["evidence"] and c["suggestion"] for c in claims)
    assert error["details"]["open_claims"] == 2 and error["details"]["findings"] == []
    assert client.post(url, json={"state": "published", "confirm": "maybe"}).status_code == 422
    done = client.post(url, json={"state": "published", "confirm": True})
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "published" and done.json()["published_version"] == 2
    assert client.post(url, json={"state": "draft"}).status_code == 422  # not from published


def test_the_cli_lists_the_claims_and_publishes_only_when_confirmed(
    database_url: str, db: Session, org: Org
) -> None:
    _in_review(db, org, WRONG)
    env = {"AFTERACTION_DATABASE_URL": database_url, "AFTERACTION_ENVIRONMENT": "development"}
    runner = CliRunner()
    key = f"INC-{org.number}"
    asked = runner.invoke(app, ["report", "publish", key], env=env)
    assert asked.exit_code == 1, asked.output
    assert "person 'Sam Sales'" in asked.stdout and "time '03:33 UTC'" in asked.stdout
    assert "evidence: Nearest event" in asked.stdout
    assert "not published: 2 claim(s) disagree" in asked.output and "--confirm" in asked.output
    done = runner.invoke(app, ["report", "publish", key, "--confirm", "--json"], env=env)
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["published_version"] == 2


def test_the_publish_page_lists_each_claim_with_its_evidence(
    db: Session, org: Org, client: TestClient
) -> None:
    _in_review(db, org, WRONG)
    login(client, "ivy@example.com")
    url = f"/incidents/INC-{org.number}/report/state"
    data = {"state": "published", "csrf_token": client.headers["X-CSRF-Token"]}
    asked = client.post(url, data=data, follow_redirects=False)
    assert asked.status_code == 409
    page = BeautifulSoup(asked.text, "html.parser")
    claims = page.select("ul.claims li.claim")
    assert [c["data-kind"] for c in claims] == ["person", "time"]
    said = [" ".join(c.get_text(" ").split()) for c in claims]
    assert "the draft says Sam Sales" in said[0] and "took no part" in said[0]
    assert "the draft says 03:33 UTC" in said[1]
    assert "The evidence shows: Nearest event:" in said[1]
    assert page.find(id="claims-h").get_text() == "2 claims disagree with the evidence"
    assert page.find("button", string="Publish anyway") is not None
    done = client.post(url, data=data | {"confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303
