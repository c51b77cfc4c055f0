"""Incident milestones also as whole microseconds since 1970 (UTC), kept by the database,
and an index covering the insights queries.

The insights dashboard reads every matching incident's milestones at once; SQLite stores
datetimes as text, and turning five of them per row back into numbers cost as much as the
whole percentile computation. These integer columns hold the same instants exactly and
are written by triggers on every insert and on every update of a milestone, whatever
code path writes the incident, so they can never drift from the `*_at` columns.

A later migration that rebuilds `incidents` with `batch_alter_table` on SQLite drops the
triggers with the old table: it must call `create_triggers()` again (a test checks that
the triggers exist at head).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 16:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MILESTONES = (
    "started", "detected", "declared", "acknowledged", "mitigated", "resolved", "closed",
)  # fmt: skip


def _sqlite_micros(column: str) -> str:
    """Exact microseconds from SQLAlchemy's SQLite text 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC):
    whole seconds by strftime('%s') of the first 19 characters, plus the six digits after
    the point ('' when absent, which casts to 0). Negative instants floor like Python."""
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE "
        f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000"
        f" + CAST(substr({column}, 21, 6) AS INTEGER) END"
    )


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        sets = "\n".join(
            f"  NEW.{m}_us := CASE WHEN NEW.{m}_at IS NULL THEN NULL ELSE"
            f" (extract(epoch FROM NEW.{m}_at) * 1000000)::bigint END;"
            for m in MILESTONES
        )
        op.execute(
            "CREATE OR REPLACE FUNCTION incidents_milestone_micros() RETURNS trigger AS $$\n"
            f"BEGIN\n{sets}\n  RETURN NEW;\nEND\n$$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER incidents_milestone_micros BEFORE INSERT OR UPDATE ON incidents"
            " FOR EACH ROW EXECUTE FUNCTION incidents_milestone_micros()"
        )
        return
    sets = ", ".join(f"{m}_us = {_sqlite_micros(f'NEW.{m}_at')}" for m in MILESTONES)
    columns = ", ".join(f"{m}_at" for m in MILESTONES)
    op.execute(
        "CREATE TRIGGER incidents_milestone_micros_insert AFTER INSERT ON incidents BEGIN"
        f" UPDATE incidents SET {sets} WHERE id = NEW.id; END"
    )
    op.execute(
        f"CREATE TRIGGER incidents_milestone_micros_update AFTER UPDATE OF {columns}"
        f" ON incidents BEGIN UPDATE incidents SET {sets} WHERE id = NEW.id; END"
    )


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS incidents_milestone_micros ON incidents")
        op.execute("DROP FUNCTION IF EXISTS incidents_milestone_micros()")
        return
    op.execute("DROP TRIGGER IF EXISTS incidents_milestone_micros_insert")
    op.execute("DROP TRIGGER IF EXISTS incidents_milestone_micros_update")


METRICS_INDEX = (
    "started_us", "severity", "type", "problem_id", "private", "created_by_id", "number",
    "detected_us", "acknowledged_us", "mitigated_us", "resolved_us",
)  # fmt: skip
"""Covers the insights dashboard's queries: a start range is one index range, and reading
every matching incident never touches the wide table rows."""


def upgrade() -> None:
    for m in MILESTONES:
        op.add_column("incidents", sa.Column(f"{m}_us", sa.BigInteger(), nullable=True))
    create_triggers()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"UPDATE incidents SET {MILESTONES[0]}_at = {MILESTONES[0]}_at")
    else:
        sets = ", ".join(f"{m}_us = {_sqlite_micros(f'{m}_at')}" for m in MILESTONES)
        op.execute(f"UPDATE incidents SET {sets}")
    op.create_index("ix_incidents_metrics", "incidents", list(METRICS_INDEX))


def downgrade() -> None:
    op.drop_index("ix_incidents_metrics", table_name="incidents")
    drop_triggers()
    for m in reversed(MILESTONES):
        op.drop_column("incidents", f"{m}_us")
