"""Fewer garbage collections during a bulk import: raised inside, put back by the last
import to leave, whatever the threshold was before."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services.imports._collection import BULK_THRESHOLD, fewer_collections
from afteraction.services.imports.slack import import_slack_export
from afteraction.storage.db import writing
from tests.services.imports.test_slack import first_export


@pytest.fixture
def custom_threshold() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(900, 11, 12)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_overlapping_uses_put_back_the_threshold_found(
    custom_threshold: tuple[int, int, int],
) -> None:
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    assert gc.get_threshold() == (BULK_THRESHOLD, 11, 12)
    second.__enter__()
    first.__exit__(None, None, None)  # the first to start ends first: still raised
    assert gc.get_threshold() == (BULK_THRESHOLD, 11, 12)
    second.__exit__(None, None, None)
    assert gc.get_threshold() == custom_threshold


def test_a_failure_inside_puts_it_back(custom_threshold: tuple[int, int, int]) -> None:
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("import failed")
    assert gc.get_threshold() == custom_threshold


def test_a_slack_import_runs_with_fewer_collections(
    db: Session, tmp_path: Path, custom_threshold: tuple[int, int, int]
) -> None:
    seen: dict[str, int] = {}

    def progress(done: int, total: int | None, what: str) -> None:
        seen[what] = gc.get_threshold()[0]

    with writing(db):
        import_slack_export(db, SYSTEM, first_export(tmp_path / "e"), progress=progress)
    assert seen == {"checking": 900, "#inc-db": BULK_THRESHOLD, "#general": BULK_THRESHOLD,
                    "done": BULK_THRESHOLD}  # fmt: skip
    assert gc.get_threshold() == custom_threshold
