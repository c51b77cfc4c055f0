"""The demo's flagship analysis: added on imported messages, skipped with a reason when
the evidence is missing, never twice."""

from __future__ import annotations

from sqlalchemy.orm import Session

from afteraction.demo.analysis import annotate_flagship
from afteraction.services import analysis as work
from afteraction.storage.db import writing
from afteraction.storage.tables import Incident
from tests.analysis_fixtures import build


def test_annotates_whatever_exists_and_skips_otherwise(db: Session) -> None:
    with writing(db):
        assert annotate_flagship(db, 4242) == 0
    built = build(db)
    with writing(db):
        added = annotate_flagship(db, built.incident)
    assert added > 10
    incident = db.query(Incident).filter_by(number=built.incident).one()
    assert {a.tag for a in work.list_annotations(db, incident.id)} >= {"mitigation"}
    assert len(work.list_notes(db, incident.id)) == 7
    with writing(db):
        assert annotate_flagship(db, built.incident) == 0
