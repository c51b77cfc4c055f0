"""The demo flagship's analysis: skipped with a reason when the incident or its evidence is
missing, refused loudly when the evidence does not hold the messages it names."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from afteraction.demo.analysis import annotate_flagship
from afteraction.demo.story import StoryError
from afteraction.storage.db import writing
from tests.analysis_fixtures import build


def test_skips_without_the_incident_and_refuses_other_evidence(db: Session) -> None:
    with writing(db):
        assert annotate_flagship(db, 4242) == 0
    built = build(db)
    with pytest.raises(StoryError, match=r"annotations\[0\]: no imported message has ts"):
        with writing(db):
            annotate_flagship(db, built.incident)
