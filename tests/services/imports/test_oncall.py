"""On-call import: shifts from schedules and on-calls, idempotency, windows, hostile input."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.core.errors import ImportFailed
from afteraction.services.imports.oncall import import_oncall
from afteraction.services.imports.pagerduty import import_pagerduty
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import OnCallShift
from tests.services.imports._helpers import FLAGSHIP, count, row_counts, shared_fixture

PD = FLAGSHIP / "pagerduty"


def test_flagship_schedules_and_oncalls(db: Session) -> None:
    with writing(db):
        summary = import_oncall(db, SYSTEM, PD)
    # 7 on-calls + 14 schedule entries; 6 schedule entries repeat an on-call
    assert summary.counts["shifts"] == 15
    assert summary.counts["duplicates within the files"] == 6
    assert summary.counts["people created"] == 39  # users.json, empty directory
    assert count(db, OnCallShift) == 15
    levels = {s.escalation_level for s in db.scalars(select(OnCallShift))}
    assert {1, 2} <= levels
    assert all(s.person_id is not None for s in db.scalars(select(OnCallShift)))


def test_people_come_from_pagerduty_identities(db: Session) -> None:
    with writing(db):
        import_pagerduty(db, SYSTEM, PD)
    with writing(db):
        summary = import_oncall(db, SYSTEM, PD)
    assert summary.counts["users matched by identity"] == 39
    assert "people created" not in summary.counts and summary.unmatched == []


def test_second_and_overlapping_imports(db: Session, tmp_path: Path) -> None:
    with writing(db):
        import_oncall(db, SYSTEM, PD / "oncalls.json")
    before = row_counts(db)
    with writing(db):
        again = import_oncall(db, SYSTEM, PD / "oncalls.json")
    assert again.already_imported and row_counts(db) == before
    with writing(db):
        more = import_oncall(db, SYSTEM, PD)
    assert more.counts["already present"] == 13  # the 7 on-calls and 6 schedule repeats
    assert more.counts["shifts"] == 8
    assert count(db, OnCallShift) == 15


def test_window_clips_shifts(db: Session) -> None:
    since = datetime(2026, 10, 20, 21, 0, tzinfo=UTC)
    until = datetime(2026, 10, 20, 22, 0, tzinfo=UTC)
    with writing(db):
        import_oncall(db, SYSTEM, PD / "oncalls.json", since=since, until=until)
    shifts = list(db.scalars(select(OnCallShift)))
    assert shifts and all(since <= s.start and s.end <= until for s in shifts)


def test_real_oncalls_example(db: Session) -> None:
    path = shared_fixture("pagerduty/api-schema/oncalls_list.json")
    with writing(db):
        summary = import_oncall(db, SYSTEM, path)
    shift = db.scalar(select(OnCallShift))
    assert summary.counts["shifts"] == 1 and shift is not None
    assert (shift.person_external, shift.escalation_level) == ("PT23IWX", 2)
    assert shift.start == datetime(2015, 3, 6, 20, 28, 51, tzinfo=UTC)
    assert summary.unmatched == ["pagerduty:PT23IWX (no PagerDuty identity)"]


def test_real_schedule_with_layers(db: Session) -> None:
    path = shared_fixture("pagerduty/api-schema/schedules_list_with_layers.json")
    with writing(db):
        summary = import_oncall(db, SYSTEM, path)
    assert summary.counts.get("shifts", 0) == count(db, OnCallShift)


def test_hostile_oncalls_change_nothing(db: Session, tmp_path: Path) -> None:
    folder = tmp_path / "pd"
    shutil.copytree(PD, folder)
    body = json.loads((PD / "oncalls.json").read_text())
    body["oncalls"][2]["start"] = "yesterday"
    (folder / "oncalls.json").write_text(json.dumps(body))
    before = row_counts(db)
    with pytest.raises(ImportFailed, match="start") as caught:
        with writing(db):
            import_oncall(db, SYSTEM, folder)
    assert "oncalls.json: on-call 3" in str(caught.value.details.get("where"))
    assert row_counts(db) == before


def test_a_folder_without_schedules_is_refused(db: Session, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="no schedules or on-calls"):
        import_oncall(db, SYSTEM, tmp_path)
