"""Shared helpers of the importer tests: the demo evidence folder, the shared real fixtures,
and a count of every table's rows (to prove a failed import changed nothing)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from afteraction.storage.models import Base

REPO_ROOT = Path(__file__).resolve().parents[3]
# the shared fixtures sit beside the checkout; a checkout elsewhere names them
SHARED_FIXTURES = Path(
    os.environ.get("AFTERACTION_SHARED_FIXTURES") or REPO_ROOT / ".." / "shared" / "fixtures"
)
FLAGSHIP = REPO_ROOT / "src" / "afteraction" / "demo" / "evidence" / "flagship"


def shared_fixture(relative: str) -> Path:
    path = SHARED_FIXTURES / relative
    if not path.exists():
        pytest.skip(f"shared fixture {relative} not found under {SHARED_FIXTURES}")
    return path


def row_counts(db: Session) -> dict[str, int]:
    counts = {
        table.name: int(db.scalar(select(func.count()).select_from(table)) or 0)
        for table in Base.metadata.sorted_tables
    }
    db.rollback()
    return counts


def count(db: Session, model: type[Base]) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def slack_ts(moment: datetime, n: int = 0) -> str:
    """A Slack ts for `moment`'s whole second, `n` as its microseconds."""
    return f"{int(moment.timestamp())}.{n:06d}"


def slack_message(moment: datetime, text: str, user: str = "U1", n: int = 0, **extra: Any) -> dict:
    """A person's message as a Slack export's day file holds it."""
    return {"type": "message", "ts": slack_ts(moment, n), "user": user, "text": text, **extra}
