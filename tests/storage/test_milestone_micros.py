"""The incidents' `*_us` columns (migration 0008) always hold their milestones exactly, as
epoch microseconds, whichever way the incident is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.core.incidents import MILESTONES
from afteraction.core.metrics import to_micros
from afteraction.services import incidents as repo
from afteraction.storage.db import writing
from afteraction.storage.tables import Incident

NY = ZoneInfo("America/New_York")
TRICKY = [
    datetime(2026, 3, 8, 1, 59, 59, 999_999, tzinfo=NY),  # just before a clock change
    datetime(2026, 3, 8, 3, 0, tzinfo=NY),
    datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),  # before 1970: floors
    datetime(2026, 1, 1, 0, 0, 0, 999_500, tzinfo=UTC),  # rounds up in SQLite's unixepoch
    datetime(2026, 1, 1, 5, 30, 0, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2099, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
]


def stored(db: Session, incident_id: int) -> dict[str, tuple[int | None, int | None]]:
    """milestone -> (expected micros from the *_at column, the *_us column)."""
    db.expire_all()
    row = db.execute(
        select(*(getattr(Incident, f"{m}_at") for m in MILESTONES),
               *(getattr(Incident, f"{m}_us") for m in MILESTONES))
        .where(Incident.id == incident_id)
    ).one()  # fmt: skip
    n = len(MILESTONES)
    return {
        m: (None if row[k] is None else to_micros(row[k]), row[n + k])
        for k, m in enumerate(MILESTONES)
    }


def assert_in_step(db: Session, incident_id: int) -> None:
    for name, (expected, micros) in stored(db, incident_id).items():
        assert micros == expected, name


def test_declare_and_edit_keep_the_micros_exact(db: Session) -> None:
    with writing(db):
        incident, _ = repo.declare(db, SYSTEM, repo.IncidentInput(
            title="clock edges", severity="SEV2",
            milestones={"started": TRICKY[0], "detected": TRICKY[1]},
        ))  # fmt: skip
    assert stored(db, incident.id)["started"] == (to_micros(TRICKY[0]),) * 2
    assert_in_step(db, incident.id)
    for moment in TRICKY:
        with writing(db):
            repo.set_milestones(db, SYSTEM, incident.id, {"started": moment, "closed": moment},
                                allow_out_of_order=True)  # fmt: skip
        assert stored(db, incident.id)["started"] == (to_micros(moment),) * 2
        assert_in_step(db, incident.id)
    with writing(db):
        repo.set_milestones(db, SYSTEM, incident.id, {"detected": None, "closed": None},
                            allow_out_of_order=True)  # fmt: skip
    assert stored(db, incident.id)["detected"] == (None, None)
    assert_in_step(db, incident.id)


def test_core_writes_keep_the_micros_exact(db: Session) -> None:
    """Bulk inserts and updates that bypass the ORM are kept in step too."""
    base = {"title": "bulk", "summary": "", "severity": "SEV3", "status": "resolved",
            "type": "default", "private": False, "customer_impact": "",
            "created_at": TRICKY[3], "updated_at": TRICKY[3], "version": 1}  # fmt: skip
    with writing(db):
        db.execute(insert(Incident), [
            {**base, "number": 900 + k, "started_at": moment,
             "resolved_at": moment + timedelta(microseconds=k)}
            for k, moment in enumerate(TRICKY)
        ])  # fmt: skip
    ids = db.scalars(select(Incident.id).order_by(Incident.number)).all()
    for incident_id in ids:
        assert_in_step(db, incident_id)
    with writing(db):
        db.execute(update(Incident).values(mitigated_at=Incident.started_at,
                                           started_at=None))  # fmt: skip
    for incident_id in ids:
        values = stored(db, incident_id)
        assert values["started"] == (None, None)
        assert values["mitigated"][0] is not None
        assert_in_step(db, incident_id)
