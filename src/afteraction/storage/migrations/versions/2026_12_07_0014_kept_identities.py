"""Accounts an import knows but did not make people (`kept_identities`): a Slack
workspace's users outside an incident import's window, kept to match later instead of
being added to the directory or forgotten.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kept_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_kept_identities_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kept_identities")),
        sa.UniqueConstraint("system", "external_id", name=op.f("uq_kept_identities_system")),
    )
    with op.batch_alter_table("kept_identities") as batch_op:
        batch_op.create_index(batch_op.f("ix_kept_identities_email"), ["email"])
        batch_op.create_index(batch_op.f("ix_kept_identities_source_id"), ["source_id"])


def downgrade() -> None:
    with op.batch_alter_table("kept_identities") as batch_op:
        batch_op.drop_index(batch_op.f("ix_kept_identities_source_id"))
        batch_op.drop_index(batch_op.f("ix_kept_identities_email"))
    op.drop_table("kept_identities")
