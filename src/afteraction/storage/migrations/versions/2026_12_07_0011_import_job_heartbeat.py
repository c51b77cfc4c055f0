"""A running import job's heartbeat (`import_jobs.heartbeat_at`): when its worker last said
it was alive, so that a job whose worker was killed is failed instead of left "running".

Null for jobs that never ran, and for jobs that ran before this migration. Adding a
nullable column needs no table rebuild on SQLite.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 01:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import afteraction.storage.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "import_jobs",
        sa.Column(
            "heartbeat_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch_op:
        batch_op.drop_column("heartbeat_at")
