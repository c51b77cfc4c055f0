"""Customer impact intervals: the stretches during which customers were affected, from
which the impact duration of an incident is computed (overlaps counted once).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 13:40:45.157672
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import afteraction.storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_impacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("start_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "created_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_customer_impacts_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_impacts")),
    )
    with op.batch_alter_table("customer_impacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_impacts_incident_id"), ["incident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("customer_impacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_impacts_incident_id"))

    op.drop_table("customer_impacts")
