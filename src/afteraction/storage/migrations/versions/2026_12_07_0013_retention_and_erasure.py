"""Retention of raw chat and interview recordings, and erasure of a person's personal data.

`messages.purged_at` marks text removed by the retention policy (the row stays, with its
time, author and reactions, so the analysis keeps its counts; interview cues get theirs in
0015); `people.erased_at` marks a person whose personal data was erased on request
(the row stays under a pseudonym, so the incidents they took part in keep their shape).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 03:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import afteraction.storage.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = afteraction.storage.types.UTCDateTime
_COLUMNS = (("messages", "purged_at"), ("people", "erased_at"))


# Plain ADD/DROP COLUMN on both databases (SQLite has both since 3.35): a batch copy of
# `messages` would drop its full-text triggers.


def upgrade() -> None:
    for table, column in _COLUMNS:
        op.add_column(table, sa.Column(column, UTC_TIME(timezone=True), nullable=True))


def downgrade() -> None:
    for table, column in reversed(_COLUMNS):
        op.drop_column(table, column)
