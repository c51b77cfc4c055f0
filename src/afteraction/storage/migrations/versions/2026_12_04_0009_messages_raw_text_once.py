"""A message's raw text is stored only when it differs from its plain text, and the thread
index holds only messages in a thread.

About three messages in four carry no markup to decode, so their raw and plain texts were
the same string stored twice; `messages.text_raw` is now NULL for them and readers take
`coalesce(text_raw, text_plain)` (`Message.raw_text`). Seven messages in ten are in no
thread, and no query looks a thread up by NULL, so `ix_messages_thread` leaves them out.
Together a million imported messages take about 70 MB (15 %) less, which an import writes
and commits.

On SQLite the table is rebuilt (batch mode), which drops its triggers with it: the
full-text triggers of migration 0002 are put back exactly as they were stored. The
foreign keys that point at `messages` survive the rebuild because `env.py` turns foreign
key enforcement off for the migration (and checks every key before committing).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 00:30:00
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_IN_A_THREAD = sa.text("thread_ts IS NOT NULL")


@contextmanager
def _keeping_triggers() -> Iterator[None]:
    """Put back the triggers on `messages` that a SQLite table rebuild drops."""
    bind = op.get_bind()
    triggers: list[str] = []
    if bind.dialect.name == "sqlite":
        triggers = [
            str(sql)
            for (sql,) in bind.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'messages'"
                " ORDER BY name"
            )
        ]
    yield
    for sql in triggers:
        op.execute(sql)


def upgrade() -> None:
    with _keeping_triggers(), op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("text_raw", existing_type=sa.Text(), nullable=True)
        batch_op.drop_index("ix_messages_thread")
        batch_op.create_index(
            "ix_messages_thread",
            ["channel_id", "thread_ts"],
            unique=False,
            sqlite_where=_IN_A_THREAD,
            postgresql_where=_IN_A_THREAD,
        )
    # the update trigger of migration 0002 fires on text_plain only: the search index stays
    op.execute("UPDATE messages SET text_raw = NULL WHERE text_raw = text_plain")


def downgrade() -> None:
    op.execute("UPDATE messages SET text_raw = text_plain WHERE text_raw IS NULL")
    with _keeping_triggers(), op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("text_raw", existing_type=sa.Text(), nullable=False)
        batch_op.drop_index("ix_messages_thread")
        batch_op.create_index("ix_messages_thread", ["channel_id", "thread_ts"], unique=False)
