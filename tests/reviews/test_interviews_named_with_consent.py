"""Reports and the calibration document say how many interviews were held and with which
incident roles, and name an interviewee only when their consent is recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from afteraction.core.access import Actor
from afteraction.core.analysis.interviews import HeldInterview, interviews_held
from afteraction.services import reports, reviews
from afteraction.storage.analysis_tables import Interview
from afteraction.storage.db import writing
from tests.reviews.conftest import Org


def _section(body: str, title: str) -> str:
    return body.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_lines_count_roles_and_name_only_the_consenting() -> None:
    held = [
        HeldInterview("Ana Ortiz", ("commander",), consent=False),
        HeldInterview("Ben Cho", ("responder", "scribe"), consent=True),
        HeldInterview("Ben Cho", ("responder", "scribe"), consent=True),
        HeldInterview("Cy Dale", (), consent=False),
    ]
    assert interviews_held(held) == (
        "4 interviews held (roles: commander, no incident role, responder, scribe)",
        "Named with their consent: Ben Cho",
    )
    assert interviews_held(held[:1]) == ("1 interview held (roles: commander)",)
    assert interviews_held([]) == ()


@pytest.mark.parametrize("consent", [True, False])
def test_report_and_calibration_name_the_interviewee_only_with_consent(
    db: Session, org: Org, consent: bool
) -> None:
    ivy = Actor(org.users["ivy"], "ivy@example.com", "investigator", org.people["ivy"])
    with writing(db):
        db.execute(update(Interview).values(consent=consent))
        calibration = reviews.generate_calibration(db, ivy, org.number)
        report = reports.create_report(db, ivy, org.number)
    sections = [
        _section(calibration.body, "Interviews held"),
        _section(reports.version(db, report).body, "Interviews held"),
    ]
    for text in sections:
        assert "1 interview held (roles: " in text
        assert ("Ann Responder" in text) is consent
