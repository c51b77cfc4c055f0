"""Refusing to delete a person counts only what the caller may see: roles, updates and
timeline entries in a private incident they may not see make the refusal say that records
they may not see refer to the person, without a number (issue 17, counts)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM, Actor
from afteraction.core.errors import Conflict
from afteraction.services import directory_edit
from tests.analysis_fixtures import build

OUTSIDER = Actor(user_id=999, label="responder", role="responder")


def test_roles_in_a_hidden_private_incident_are_not_counted(db: Session) -> None:
    built = build(db, private=True)
    with pytest.raises(Conflict) as outsider:
        directory_edit.delete_person(db, OUTSIDER, built.people["ana"])
    said = outsider.value.message
    assert "role" not in said and "records you may not see" in said
    assert "role_assignments" not in outsider.value.details["references"]
    with pytest.raises(Conflict) as admin:
        directory_edit.delete_person(db, SYSTEM, built.people["ana"])
    assert "holds 1 role in incidents" in admin.value.message
    assert "records you may not see" not in admin.value.message
