"""Analysis workspace: annotation tags (seeded with the default set), annotations,
timeline entries, analysis notes, and confidential interviews with their readers,
questions and the log of quoted passages.

It revises 0003 (import jobs), the newest revision when it was written (0003 itself
revises 0004).

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-23 10:13:59.476006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import afteraction.storage.types

# the default tag set, copied here so this migration never changes when the code does
DEFAULT_TAGS = (
    ("narrative", "Narrative"),
    ("participant-follow-up", "Participant follow-up"),
    ("detection", "Detection"),
    ("diagnosis", "Diagnosis"),
    ("repair", "Repair"),
    ("hypothesis-raised", "Hypothesis raised"),
    ("hypothesis-disproved", "Hypothesis disproved"),
    ("stakeholder-update", "Stakeholder update"),
    ("mitigation", "Mitigation"),
    ("key-moment", "Key moment"),
)


revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    tags = op.create_table(
        "annotation_tags",
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_annotation_tags")),
    )
    op.create_table(
        "analysis_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_analysis_notes_author_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_analysis_notes_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_notes")),
    )
    with op.batch_alter_table("analysis_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analysis_notes_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "interviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("investigator_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "scheduled_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("held_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column(
            "consent_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recording_url", sa.String(length=2000), nullable=False),
        sa.Column(
            "created_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_interviews_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["investigator_user_id"],
            ["users.id"],
            name=op.f("fk_interviews_investigator_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_interviews_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interviews")),
    )
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interviews_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "timeline_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("suggestion_key", sa.String(length=300), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_timeline_entries_author_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_timeline_entries_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_timeline_entries_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_entries")),
        sa.UniqueConstraint(
            "incident_id", "suggestion_key", name=op.f("uq_timeline_entries_incident_id")
        ),
    )
    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_timeline_entries_incident_at", ["incident_id", "at"], unique=False
        )

    op.create_table(
        "interview_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("drafted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_interview_questions_interview_id_interviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_questions")),
    )
    with op.batch_alter_table("interview_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interview_questions_interview_id"), ["interview_id"], unique=False
        )

    op.create_table(
        "interview_quotes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=True),
        sa.Column("passage", sa.Text(), nullable=False),
        sa.Column("quoted_by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_interview_quotes_interview_id_interviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["note_id"],
            ["analysis_notes.id"],
            name=op.f("fk_interview_quotes_note_id_analysis_notes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["quoted_by_user_id"],
            ["users.id"],
            name=op.f("fk_interview_quotes_quoted_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_quotes")),
    )
    with op.batch_alter_table("interview_quotes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interview_quotes_interview_id"), ["interview_id"], unique=False
        )

    op.create_table(
        "interview_readers",
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["interviews.id"],
            name=op.f("fk_interview_readers_interview_id_interviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_interview_readers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("interview_id", "user_id", name=op.f("pk_interview_readers")),
    )
    with op.batch_alter_table("interview_readers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interview_readers_user_id"), ["user_id"], unique=False)

    op.create_table(
        "annotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("end_message_id", sa.Integer(), nullable=True),
        sa.Column("start_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tag", sa.String(length=60), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("is_question", sa.Boolean(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", afteraction.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_annotations_author_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["end_message_id"],
            ["messages.id"],
            name=op.f("fk_annotations_end_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_annotations_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_annotations_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
    )
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.create_index("ix_annotations_incident_tag", ["incident_id", "tag"], unique=False)
        batch_op.create_index(batch_op.f("ix_annotations_message_id"), ["message_id"], unique=False)

    op.bulk_insert(
        tags,
        [
            {"slug": slug, "label": label, "position": position, "description": ""}
            for position, (slug, label) in enumerate(DEFAULT_TAGS)
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_annotations_message_id"))
        batch_op.drop_index("ix_annotations_incident_tag")

    op.drop_table("annotations")
    with op.batch_alter_table("interview_readers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interview_readers_user_id"))

    op.drop_table("interview_readers")
    with op.batch_alter_table("interview_quotes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interview_quotes_interview_id"))

    op.drop_table("interview_quotes")
    with op.batch_alter_table("interview_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interview_questions_interview_id"))

    op.drop_table("interview_questions")
    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_timeline_entries_incident_at")

    op.drop_table("timeline_entries")
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interviews_incident_id"))

    op.drop_table("interviews")
    with op.batch_alter_table("analysis_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analysis_notes_incident_id"))

    op.drop_table("analysis_notes")
    op.drop_table("annotation_tags")
