"""Names replaced in the audit log (`storage.privacy.replace_in_audit`): the entries that
name a person are found in SQL, so a log of thousands of entries is not read whole."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from afteraction.storage.db import writing
from afteraction.storage.privacy import replace_in_audit
from afteraction.storage.tables import AuditLog

PSEUDONYM = "Erased person 7"
OTHERS = 3000


def _entry(n: int | str, before: Any = None, after: Any = None) -> dict[str, Any]:
    return {
        "actor_label": "admin",
        "action": "person.updated",
        "target_type": "person",
        "target_id": str(n),
        "before": before,
        "after": after,
    }


@pytest.fixture
def statements(db: Session) -> Iterator[list[str]]:
    """The SQL sent while the test runs."""
    seen: list[str] = []
    engine = db.get_bind()

    def keep(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", keep)
    yield seen
    event.remove(engine, "before_cursor_execute", keep)


def test_only_the_entries_naming_the_person_are_read_and_rewritten(
    db: Session, statements: list[str]
) -> None:
    others = [
        _entry(n, before={"name": f"Person {n}"}, after={"notes": [f"met Bencho {n}", n]})
        for n in range(OTHERS)
    ]
    naming = [
        _entry("named-1", after={"name": "Ben Cho", "notes": ["met BEN CHO", {"by": "ben cho"}]}),
        _entry("named-2", before={"title": "José Núñez's lead"}, after=None),
        _entry("named-3", before={"quote": 'she said "Ben Cho"'}, after={"n": 1}),
        _entry("named-4", after={"text": "Ben Chomsky is someone else"}),  # a candidate, unchanged
    ]
    with writing(db):
        db.execute(insert(AuditLog), others + naming)
    db.expunge_all()
    statements.clear()
    with writing(db):
        changed = replace_in_audit(db, ["José Núñez", "Ben Cho"], PSEUDONYM)
    assert changed == 3
    # nothing was loaded as rows, and every read of the log was narrowed in SQL
    assert not [o for o in db.identity_map.values() if isinstance(o, AuditLog)]
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert reads and all("LIKE" in s.upper() for s in reads if "audit_log" in s)
    writes = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(writes) == 3
    rows = {
        row.target_id: (row.before, row.after)
        for row in db.scalars(select(AuditLog).where(AuditLog.target_id.like("named-%")))
    }
    assert rows == {
        "named-1": (
            None,
            {"name": PSEUDONYM, "notes": [f"met {PSEUDONYM}", {"by": PSEUDONYM}]},
        ),
        "named-2": ({"title": f"{PSEUDONYM}'s lead"}, None),
        "named-3": ({"quote": f'she said "{PSEUDONYM}"'}, {"n": 1}),
        "named-4": (None, {"text": "Ben Chomsky is someone else"}),
    }
    untouched = db.scalars(select(AuditLog.after).where(AuditLog.target_id == "2999")).all()
    assert {"notes": ["met Bencho 2999", 2999]} in untouched


def test_nothing_to_replace(db: Session) -> None:
    with writing(db):
        db.execute(insert(AuditLog), [_entry(1, after={"name": "Ada"})])
        assert replace_in_audit(db, [], PSEUDONYM) == 0
        assert replace_in_audit(db, ["Ben Cho"], PSEUDONYM) == 0
    assert db.scalars(select(AuditLog.after)).all() == [{"name": "Ada"}]
