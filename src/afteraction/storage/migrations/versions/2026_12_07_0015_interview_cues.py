"""Interview transcripts get their own table, `interview_cues`, off the general evidence.

Until now an interview's transcript was a `Source` (kind "transcript", no incident) with
`transcript_cues` rows carrying `interview_id`, so every role saw it in the list of imports
and any responder could remove it. The upgrade copies every such cue whose interview exists
into `interview_cues` (numbered per interview in their old order), deletes the old cues
(cues of interviews that no longer exist were unreadable and go too), deletes the sources
that held nothing else (`origin` "interview:<id>", no incident, no cues left) and drops
`transcript_cues.interview_id`. The downgrade puts them back, one source per interview.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import afteraction.storage.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = afteraction.storage.types.UTCDateTime
CUE_COLUMNS = "start_seconds, end_seconds, at, speaker, text"


def upgrade() -> None:
    op.create_table(
        "interview_cues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("start_seconds", sa.Float(), nullable=False),
        sa.Column("end_seconds", sa.Float(), nullable=False),
        sa.Column("at", UTC_TIME(timezone=True), nullable=True),
        sa.Column("speaker", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        # when the retention policy removed the cue's text (services.privacy)
        sa.Column("purged_at", UTC_TIME(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_interview_cues_interview_id_interviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_cues")),
        sa.UniqueConstraint("interview_id", "seq", name=op.f("uq_interview_cues_interview_id")),
    )
    with op.batch_alter_table("interview_cues", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interview_cues_interview_id"), ["interview_id"], unique=False
        )
    op.execute(
        f"""
        INSERT INTO interview_cues (interview_id, seq, {CUE_COLUMNS})
        SELECT c.interview_id,
               ROW_NUMBER() OVER (PARTITION BY c.interview_id ORDER BY c.source_id, c.seq) - 1,
               c.start_seconds, c.end_seconds, c.at, c.speaker, c.text
        FROM transcript_cues c JOIN interviews i ON i.id = c.interview_id
        """
    )
    op.execute("DELETE FROM transcript_cues WHERE interview_id IS NOT NULL")
    op.execute(
        """
        DELETE FROM sources
        WHERE kind = 'transcript' AND incident_id IS NULL AND origin LIKE 'interview:%'
          AND NOT EXISTS (SELECT 1 FROM transcript_cues c WHERE c.source_id = sources.id)
        """
    )
    with op.batch_alter_table("transcript_cues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transcript_cues_interview_id"))
        batch_op.drop_column("interview_id")


def downgrade() -> None:
    with op.batch_alter_table("transcript_cues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("interview_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_transcript_cues_interview_id"), ["interview_id"], unique=False
        )
    bind = op.get_bind()
    interviews = bind.execute(
        sa.text("SELECT interview_id, COUNT(*) FROM interview_cues GROUP BY interview_id")
    ).all()
    sources = sa.table(
        "sources",
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("origin", sa.String()),
        sa.column("checksum", sa.String()),
        sa.column("imported_at", UTC_TIME()),
        sa.column("imported_by", sa.String()),
        sa.column("incident_id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("counts", sa.JSON()),
        sa.column("warnings", sa.JSON()),
        sa.column("options", sa.JSON()),
    )
    now = afteraction.storage.types.utcnow()
    for interview_id, count in interviews:
        inserted = bind.execute(
            sources.insert()
            .values(
                kind="transcript",
                origin=f"interview:{interview_id}",
                checksum="",
                imported_at=now,
                imported_by="",
                incident_id=None,
                status="complete",
                counts={"cues": int(count)},
                warnings={},
                options={"interview_id": int(interview_id)},
            )
            .returning(sources.c.id)
        )
        source_id = inserted.scalar_one()
        bind.execute(
            sa.text(
                f"""
                INSERT INTO transcript_cues (source_id, incident_id, interview_id, seq,
                                             {CUE_COLUMNS})
                SELECT :source_id, NULL, interview_id, seq, {CUE_COLUMNS}
                FROM interview_cues WHERE interview_id = :interview_id
                """
            ),
            {"source_id": source_id, "interview_id": interview_id},
        )
    with op.batch_alter_table("interview_cues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interview_cues_interview_id"))
    op.drop_table("interview_cues")
