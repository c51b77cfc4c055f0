"""The review lifecycle, warnings, calibration, meeting, survey, report versions, publishing,
notifications and readership on the database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import Actor
from afteraction.core.errors import InvalidTransition, PermissionDenied, ValidationError
from afteraction.core.reviews import SurveyAnswer
from afteraction.services import readership, report_publishing, reports, reviews
from afteraction.storage import notifications
from afteraction.storage.db import writing
from afteraction.storage.review_tables import ReadEvent, UserNotification
from tests.reviews.conftest import QUOTE, SECRET, Org


def actor(org: Org, key: str, role: str) -> Actor:
    return Actor(org.users[key], f"{key}@example.com", role, org.people[key])


def test_assignment_warns_for_responders_managers_and_load(db: Session, org: Org) -> None:
    admin = actor(org, "boss", "admin")
    with writing(db):
        _, warnings = reviews.assign_investigator(db, admin, org.number, org.people["ann"])
    assert any("was a responder" in w for w in warnings)
    assert any("management chain" in w and "Carl" in w for w in warnings)  # Ann manages Carl
    with writing(db):
        review, warnings = reviews.assign_investigator(db, admin, org.number, org.people["boss"])
    assert any("management chain" in w for w in warnings)  # Bea → Ann → Carl
    with writing(db):
        review, warnings = reviews.assign_investigator(db, admin, org.number, org.people["ivy"])
    assert warnings == [] and review.state == "in progress"
    assert review.meeting_due == date(2026, 10, 23)  # SEV1: 3 calendar days


def test_lifecycle_not_required_needs_a_reason_and_overdue(db: Session, org: Org) -> None:
    admin = actor(org, "boss", "admin")
    with writing(db), pytest.raises(ValidationError):
        reviews.change_state(db, admin, org.number, "not required")
    with writing(db), pytest.raises(InvalidTransition):
        reviews.change_state(db, admin, org.number, "published")
    with writing(db):
        reviews.ensure_review(db, reviews.repo.get_incident(db, admin, org.number))
    assert [r.incident.number for r in reviews.overdue(db, admin, date(2026, 11, 1))] == [
        org.number
    ]
    assert reviews.overdue(db, admin, date(2026, 10, 21)) == []
    with writing(db):
        review = reviews.change_state(db, admin, org.number, "not required", reason="drill")
    assert review.not_required_reason == "drill"
    assert reviews.overdue(db, admin, date(2026, 11, 1)) == []


def test_calibration_names_interviewees_never_content_and_tallies(db: Session, org: Org) -> None:
    ivy = actor(org, "ivy", "investigator")
    with writing(db):
        document = reviews.generate_calibration(db, ivy, org.number)
    assert "Ann Responder" in document.body and "Connection pool" in document.body
    assert SECRET not in document.body and "rec.example" not in document.body
    assert "How did the retry storm start?" in document.body
    with writing(db):
        sent = reviews.share_calibration(db, ivy, document.id)
    assert set(sent) == {org.users["ann"], org.users["carl"]}
    texts = db.scalars(select(UserNotification.body)).all()
    assert texts and all(SECRET not in t for t in texts)
    themes = document.themes
    with writing(db), pytest.raises(ValidationError):
        reviews.vote(db, actor(org, "ann", "responder"), document.id, themes[:1])
    with writing(db):
        reviews.vote(db, actor(org, "ann", "responder"), document.id, themes[:2])
        reviews.vote(db, actor(org, "carl", "responder"), document.id, themes[1:3])
        reviews.vote(db, actor(org, "carl", "responder"), document.id, themes[1:3])  # replaces
    assert reviews.results(db, document) == [(themes[1], 2), (themes[0], 1), (themes[2], 1)]


def test_meeting_agenda_attendance_parking_and_survey(db: Session, org: Org) -> None:
    ivy = actor(org, "ivy", "investigator")
    with writing(db):
        document = reviews.generate_calibration(db, ivy, org.number)
        reviews.vote(db, ivy, document.id, document.themes[:2])
        meeting = reviews.plan_meeting(db, ivy, org.number)
    assert "Connection pool limits" in meeting.agenda and "Restore retries" in meeting.agenda
    assert "No counterfactuals" in meeting.agenda
    with writing(db):
        reviews.record_meeting(
            db, ivy, meeting.id, attendees=[org.people["ann"], org.people["sam"]], notes="ok"
        )
        reviews.park(db, ivy, meeting.id, "Pool sizing deep dive")
        reviews.answer_survey(
            db,
            actor(org, "ann", "responder"),
            meeting.id,
            SurveyAnswer(True, False, "the timeline"),
        )
        reviews.answer_survey(
            db, actor(org, "sam", "viewer"), meeting.id, SurveyAnswer(False, True)
        )
    rows = reviews.attendance(db, meeting)
    assert {r.team_id for r in rows} == {org.teams["payments"], org.teams["platform"]}
    summary = reviews.survey_summary(db, meeting)
    assert (summary.responses, summary.learned, summary.again, summary.passes) == (2, 1, 1, True)
    assert summary.useful == ("the timeline",)


def test_report_prefill_versions_conflicts_and_publishing(db: Session, org: Org) -> None:
    ivy = actor(org, "ivy", "investigator")
    with writing(db):
        reviews.assign_investigator(db, actor(org, "boss", "admin"), org.number, org.people["ivy"])
        report = reports.create_report(db, ivy, org.number)
    body = reports.version(db, report).body
    for expected in (
        "## Contributors and enablers",
        "Pool size set years ago",
        "Carl Commander",
        "Rolled back the pool change",
        "Alert on pool saturation",
        "| prevention |",
        "| recovery |",
        "Ivy Investigator",
        "Ann Responder",
        QUOTE,
        "when customer or business impact began",
    ):
        assert expected in body, expected
    assert SECRET not in body and "rec.example" not in body
    with writing(db):
        first = reports.save(db, ivy, org.number, body + "\nmine", base=1)
        second = reports.save(
            db, actor(org, "carl", "responder"), org.number, body + "\ntheirs", base=1
        )
    assert not first.conflict and second.conflict and second.theirs == 2
    assert {v.number for v in reports.versions(db, report)} == {1, 2, 3}
    assert "+theirs" in reports.diff(db, report, 2, 3)
    with writing(db), pytest.raises(ValidationError):
        reports.save(db, ivy, org.number, "x" * 500_000, base=3)
    with writing(db):
        notifications.subscribe(db, org.users["sam"], incident_id=report.incident_id)
        report_publishing.change_state(db, ivy, org.number, "in review")
        report_publishing.change_state(db, ivy, org.number, "published", confirmed=True)
    notified = set(
        db.scalars(
            select(UserNotification.user_id).where(UserNotification.kind == "report_published")
        )
    )
    assert {org.users["ann"], org.users["carl"], org.users["sam"]} <= notified
    assert org.users["ivy"] not in notified  # the publisher
    with writing(db):
        reports.save(db, ivy, org.number, body + "\nafter publishing", base=3)
    readable = reports.readable(db, actor(org, "sam", "viewer"), org.number)
    assert readable.version.number == 3 and readable.report.state == "published"
    assert reports.readable(db, ivy, org.number, draft=True).version.number == 4


def test_viewers_cannot_read_drafts_and_dismissals(db: Session, org: Org) -> None:
    ivy = actor(org, "ivy", "investigator")
    with writing(db):
        report = reports.create_report(db, ivy, org.number)
        reports.save(db, ivy, org.number, "## Narrative\n\nCarl should have restarted it.", base=1)
    with pytest.raises(PermissionDenied):
        reports.readable(db, actor(org, "sam", "viewer"), org.number)
    findings, open_ = reports.check(db, report, reports.version(db, report).body)
    assert findings and findings == open_
    with writing(db), pytest.raises(ValidationError):
        reports.dismiss(db, ivy, report, fingerprint=findings[0].fingerprint, reason=" ")
    with writing(db):
        for finding in findings:
            reports.dismiss(db, ivy, report, fingerprint=finding.fingerprint, reason="quoted")
    assert reports.check(db, report, reports.version(db, report).body)[1] == []


def test_reading_is_deduplicated_and_credited_per_user(db: Session, org: Org) -> None:
    ivy = actor(org, "ivy", "investigator")
    with writing(db):
        report = reports.create_report(db, ivy, org.number)
        report_publishing.change_state(db, ivy, org.number, "in review")
        report_publishing.change_state(db, ivy, org.number, "published", confirmed=True)
    sam = actor(org, "sam", "viewer")
    now = datetime(2026, 10, 22, 9, 0, tzinfo=UTC)
    with writing(db):
        for second in range(50):  # a reload storm
            readership.record_open(db, sam, report, 1, now + timedelta(seconds=second))
        for beat in range(1, 5):
            readership.heartbeat(db, sam, report, now + timedelta(seconds=50 + 15 * beat))
        for _ in range(20):  # replayed beats earn nothing
            readership.heartbeat(db, sam, report, now + timedelta(seconds=110))
        readership.record_open(db, sam, report, 1, now + timedelta(hours=3))
    rows = db.scalars(select(ReadEvent).order_by(ReadEvent.id)).all()
    assert len(rows) == 2 and rows[0].opens == 50
    assert rows[0].active_seconds == 20 + 15 * 3  # first gap capped at 20 s
    assert {r.user_id for r in rows} == {org.users["sam"]}
    panel = readership.panel(db, report)
    assert panel.readers == 1 and panel.by_department == [("Sales", 1)] and panel.opens == 51
    with writing(db):
        comment = readership.add_comment(db, sam, report, section="narrative", body="Useful!")
        readership.add_comment(db, ivy, report, section="x", body="thanks", parent_id=comment.id)
        readership.react(db, sam, comment.id, "👍")
        readership.react(db, ivy, comment.id, "👍")
        readership.react(db, sam, comment.id, "👍")
    assert comment.reactions == {"👍": [org.users["ivy"]]}
    assert [c.section for c in readership.comments_of(db, report)] == ["narrative", "narrative"]
    rows_ = readership.learning_rows(db, sam)
    assert rows_[0].readers == 1 and rows_[0].items_done == 1 and rows_[0].items_total == 2
    assert rows_[0].teams_involved == 1 and rows_[0].teams_read == 0  # Sales is not involved


def test_audience_of_a_private_incident_stays_small(db: Session, org: Org) -> None:
    incident = reviews.repo.get_incident(db, actor(org, "boss", "admin"), org.number)
    with writing(db):
        notifications.subscribe(db, org.users["sam"], team_id=org.teams["payments"])
    assert org.users["sam"] in notifications.audience(db, incident, [org.people["carl"]])
    incident.private = True
    assert notifications.audience(db, incident, [org.people["carl"]]) == [org.users["carl"]]
