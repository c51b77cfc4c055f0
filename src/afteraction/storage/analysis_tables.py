"""Rows of the analysis workspace: transcript annotations and the configurable tag set,
timeline entries (accepted, dismissed or hand-made), analysis notes (themes, contributing
factors, risks, mitigators, difficulties, open questions), and interviews with their
questions, named readers, transcripts and the log of passages quoted into the analysis.

Interview notes, recording links and interview transcripts are confidential; the rules
that keep them so live in `afteraction.services.interviews`. An interview's transcript is
its own table (`InterviewCue`), never an imported `Source` or an incident's
`TranscriptCue`, so nothing that lists, searches or removes evidence can reach it. Row
definitions only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from afteraction.storage.tables import Base
from afteraction.storage.types import utcnow

DEFAULT_TAGS: tuple[tuple[str, str], ...] = (
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
NOTE_KINDS: tuple[str, ...] = (
    "theme",
    "contributing_factor",
    "risk",
    "mitigator",
    "difficulty",
    "open_question",
)
TIMELINE_STATUSES: tuple[str, ...] = ("suggested", "accepted", "dismissed")


class AnnotationTag(Base):
    """One tag investigators may put on transcript messages; the set is configurable."""

    __tablename__ = "annotation_tags"

    slug: Mapped[str] = mapped_column(String(60), primary_key=True)
    label: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text, default="")


class Annotation(Base):
    """A tag, note or open question on one message, a range of messages, or a time range."""

    __tablename__ = "annotations"
    __table_args__ = (Index("ix_annotations_incident_tag", "incident_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    end_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    start_at: Mapped[datetime] = mapped_column()
    end_at: Mapped[datetime] = mapped_column()
    tag: Mapped[str | None] = mapped_column(String(60))
    note: Mapped[str] = mapped_column(Text, default="")
    is_question: Mapped[bool] = mapped_column(Boolean, default=False)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TimelineEntry(Base):
    """One event of the incident's timeline, keeping links to the evidence behind it.

    `suggestion_key` is the stable key of the suggestion it came from, so an accepted or
    dismissed suggestion is never offered again. `evidence` is a list of
    `{"type": "message" | "page" | "cue", "id": int}`.
    """

    __tablename__ = "timeline_entries"
    __table_args__ = (
        UniqueConstraint("incident_id", "suggestion_key"),
        Index("ix_timeline_entries_incident_at", "incident_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column()
    kind: Mapped[str] = mapped_column(String(60), default="event")
    text: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="accepted")
    suggestion_key: Mapped[str | None] = mapped_column(String(300))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnalysisNote(Base):
    """A theme, contributing factor, risk, mitigator, difficulty or open question."""

    __tablename__ = "analysis_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[Any]] = mapped_column(JSON, default=list)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Interview(Base):
    """A planned or held interview. `notes` and `recording_url` are confidential."""

    __tablename__ = "interviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    investigator_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    scheduled_at: Mapped[datetime | None] = mapped_column()
    held_at: Mapped[datetime | None] = mapped_column()
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime | None] = mapped_column()
    notes: Mapped[str] = mapped_column(Text, default="")
    recording_url: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class InterviewReader(Base):
    """A user the incident's investigators named as a reader of one interview."""

    __tablename__ = "interview_readers"

    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class InterviewQuestion(Base):
    __tablename__ = "interview_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    drafted: Mapped[bool] = mapped_column(Boolean, default=False)


class InterviewCue(Base):
    """One cue of a transcript attached to an interview; as confidential as its notes."""

    __tablename__ = "interview_cues"
    __table_args__ = (UniqueConstraint("interview_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    start_seconds: Mapped[float] = mapped_column(Float)
    end_seconds: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime | None] = mapped_column()
    speaker: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    # When the retention policy removed this cue's text (services.privacy)
    purged_at: Mapped[datetime | None] = mapped_column()


class InterviewQuote(Base):
    """The log of passages an investigator deliberately quoted into the analysis."""

    __tablename__ = "interview_quotes"

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    note_id: Mapped[int | None] = mapped_column(
        ForeignKey("analysis_notes.id", ondelete="SET NULL")
    )
    passage: Mapped[str] = mapped_column(Text)
    quoted_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
