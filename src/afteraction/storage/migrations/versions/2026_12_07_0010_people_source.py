"""A person remembers the import that created them (`people.source_id`), so that removing
that source removes the people it alone created.

Null for people made by hand, by a roster, before this migration, or kept when their
source was removed (the key is set to null then). On SQLite the `people` table is rebuilt
(batch mode) to add the foreign key; it has no triggers, and the keys that point at
`people` survive the rebuild because `env.py` turns foreign key enforcement off for the
migration (and checks every key before committing).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 00:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch_op:
        batch_op.add_column(sa.Column("source_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_people_source_id_sources"),
            "sources",
            ["source_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_people_source_id"), ["source_id"])


def downgrade() -> None:
    with op.batch_alter_table("people") as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_source_id"))
        batch_op.drop_constraint(batch_op.f("fk_people_source_id_sources"), type_="foreignkey")
        batch_op.drop_column("source_id")
