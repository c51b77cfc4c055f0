"""A demo started today has data in the default views that look back from now: on-call load
(the last 28 days), SLOs (each one's window ending now) and SLAs. Its flagship evidence
moves with it, so the flagship is as recent as the story tells, on the same weekday."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from afteraction.core import times
from afteraction.demo import story
from afteraction.demo.evidence_shift import demo_day, shift_text, shifted_copy
from afteraction.demo.flagship_evidence import FLAGSHIP_EVIDENCE
from afteraction.demo.load import DEMO_PASSWORD, load_demo
from afteraction.storage.analysis_tables import Annotation
from afteraction.storage.evidence_tables import TranscriptCue
from afteraction.storage.tables import Incident
from tests.conftest import login


def test_the_demo_day_keeps_the_story_weekday_and_never_goes_back() -> None:
    start = story.directory().story_date
    assert demo_day(start - timedelta(days=40)) == start
    for days in range(30):
        today = start + timedelta(days=days)
        day = demo_day(today)
        assert day.weekday() == start.weekday() and today - timedelta(days=7) < day <= today


def test_evidence_moves_by_whole_days(tmp_path: Path) -> None:
    week = timedelta(days=7)
    text = '{"ts": "1792529790.946361", "at": "2026-10-20T20:38:45Z", "day": "2026-10-20"}'
    moved = shift_text(text, week, epochs=True)
    assert moved == '{"ts": "1793134590.946361", "at": "2026-10-27T20:38:45Z", "day": "2026-10-27"}'
    assert shift_text(text, week, epochs=False).startswith('{"ts": "1792529790.946361"')
    with pytest.raises(story.StoryError, match="whole days"):
        shift_text(text, timedelta(hours=1), epochs=True)
    copy = shifted_copy(FLAGSHIP_EVIDENCE, tmp_path / "moved", week)
    assert (copy / "slack" / "payments-eng" / "2026-10-27.json").is_file()
    assert not (copy / "slack" / "payments-eng" / "2026-10-20.json").exists()


def test_default_views_have_data_for_a_demo_started_today(client: TestClient, db: Session) -> None:
    today = demo_day(datetime.now(UTC).date())
    load_demo(db, today=today)
    flagship = db.scalar(select(Incident).order_by(Incident.number.desc()).limit(1))
    assert flagship is not None and flagship.started_at is not None
    shift = today - story.directory().story_date
    assert flagship.started_at == datetime(2026, 10, 20, 20, 31, tzinfo=UTC) + shift
    assert len(db.scalars(select(Annotation)).all()) == 7  # every annotation found its message
    # the review meeting moves with the evidence: nine days after the incident began, as in
    # the story, not a month before it
    first_cue = db.scalar(select(func.min(TranscriptCue.at)))
    assert first_cue is not None
    assert (
        times.from_storage(first_cue)
        == datetime(2026, 10, 29, 16, 0, 2, 310000, tzinfo=UTC) + shift
    )
    admin = login(client, "admin@example.com", DEMO_PASSWORD)

    people = admin.get("/insights/oncall", params={"format": "json"}).json()
    assert sum(row["pages"] for row in people) >= 5
    involved = admin.get(
        "/insights/oncall", params={"format": "json", "table": "involvements"}
    ).json()
    assert any(row["incident"] == flagship.public_id for row in involved)

    slos = admin.get("/slos", params={"format": "json"}).json()
    assert len(slos) == 2
    for slo in slos:
        assert slo["samples_in_window"] >= 24 * 20 and slo["total_events"] > 0

    slas = admin.get("/slas", params={"format": "json"}).json()
    assert len(slas) == 4
    assert all(row["met"] + row["breached"] > 0 for row in slas)
    assert admin.get("/slas").status_code == 200 and admin.get("/slos").status_code == 200
