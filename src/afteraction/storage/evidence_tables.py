"""Rows for imported evidence and its provenance: sources, chat channels and messages,
PagerDuty pages and on-call shifts, transcript cues, links to external incidents, and
imported past reports.

Every evidence row points at the `Source` that brought it, so a source can be removed
with everything it brought; natural keys (channel + ts, PagerDuty ids, schedule + person +
start) are unique so importing the same data twice adds nothing. Row definitions only.
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
    func,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import ColumnElement

from afteraction.storage.tables import Base, Incident, Person
from afteraction.storage.types import utcnow

SOURCE_KINDS = (
    "slack_export",
    "slack_api",
    "pagerduty",
    "oncall",
    "roster",
    "transcript",
    "reports",
)


class Source(Base):
    """One imported artefact: what it was, where from, when, by whom, and what it held."""

    __tablename__ = "sources"
    __table_args__ = (Index("ix_sources_kind_checksum", "kind", "checksum"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    origin: Mapped[str] = mapped_column(String(2000))
    checksum: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(320), default="")
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="complete")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    warnings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    incident: Mapped[Incident | None] = relationship()


class Channel(Base):
    """A Slack conversation (public or private channel, DM, group DM)."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("workspace", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace: Mapped[str] = mapped_column(String(80), default="")
    external_id: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="public")
    topic: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime | None] = mapped_column()
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL"), index=True
    )


class IncidentChannel(Base):
    """A channel (or a window of one) attached to an incident as evidence."""

    __tablename__ = "incident_channels"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    since: Mapped[datetime | None] = mapped_column()
    until: Mapped[datetime | None] = mapped_column()
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), index=True
    )

    channel: Mapped[Channel] = relationship()


class Message(Base):
    """One chat message or channel event. `ts` is Slack's exact string id."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "ts"),
        Index("ix_messages_channel_at", "channel_id", "at"),
        Index(
            "ix_messages_thread",
            "channel_id",
            "thread_ts",
            sqlite_where=text("thread_ts IS NOT NULL"),
            postgresql_where=text("thread_ts IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    ts: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column()
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    author_external: Mapped[str | None] = mapped_column(String(80))
    author_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    author_name: Mapped[str] = mapped_column(String(200), default="")
    subtype: Mapped[str | None] = mapped_column(String(60))
    # Slack's text as received; NULL when it is `text_plain` (no markup to decode, about
    # three messages in four), and readers take `coalesce(text_raw, text_plain)`.
    text_raw: Mapped[str | None] = mapped_column(Text)
    text_plain: Mapped[str] = mapped_column(Text, default="")
    edited_at: Mapped[datetime | None] = mapped_column()
    inviter_external: Mapped[str | None] = mapped_column(String(80))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    mentions: Mapped[list[str] | None] = mapped_column(JSON)
    reactions: Mapped[list[Any] | None] = mapped_column(JSON)
    files: Mapped[list[str] | None] = mapped_column(JSON)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # When the retention policy removed this message's text (services.privacy)
    purged_at: Mapped[datetime | None] = mapped_column()

    channel: Mapped[Channel] = relationship()
    author: Mapped[Person | None] = relationship()

    @hybrid_property
    def raw_text(self) -> str:
        """Slack's text as received (the stored raw text, or the plain text when none is)."""
        return self.text_plain if self.text_raw is None else self.text_raw

    @raw_text.inplace.expression
    @classmethod
    def _raw_text_expression(cls) -> ColumnElement[str]:
        return func.coalesce(cls.text_raw, cls.text_plain)


class ExternalIncident(Base):
    """Links an afteraction incident to an incident in another system (PagerDuty...)."""

    __tablename__ = "external_incidents"
    __table_args__ = (UniqueConstraint("system", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    system: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(80))
    url: Mapped[str] = mapped_column(String(2000), default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), index=True
    )


class Page(Base):
    """A paging log entry about a person: notified, acknowledged, assigned, escalated..."""

    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint("system", "external_id"),
        Index("ix_pages_person_at", "person_id", "at"),
        Index("ix_pages_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    system: Mapped[str] = mapped_column(String(40), default="pagerduty")
    external_id: Mapped[str] = mapped_column(String(120))
    external_incident_id: Mapped[str] = mapped_column(String(80), index=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column()
    person_external: Mapped[str | None] = mapped_column(String(80))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    method: Mapped[str | None] = mapped_column(String(20))
    escalation_level: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")

    person: Mapped[Person | None] = relationship()


class OnCallShift(Base):
    """Who was on call for a schedule from `start` (inclusive) to `end` (exclusive)."""

    __tablename__ = "oncall_shifts"
    __table_args__ = (
        UniqueConstraint("schedule", "person_external", "start"),
        Index("ix_oncall_shifts_person_start", "person_id", "start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    schedule: Mapped[str] = mapped_column(String(200))
    person_external: Mapped[str] = mapped_column(String(80))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    start: Mapped[datetime] = mapped_column()
    end: Mapped[datetime] = mapped_column()
    escalation_level: Mapped[int | None] = mapped_column(Integer)

    person: Mapped[Person | None] = relationship()


class TranscriptCue(Base):
    """One cue of a meeting transcript or chat log attached to an incident. Interview
    transcripts are never stored here (`analysis_tables.InterviewCue`)."""

    __tablename__ = "transcript_cues"
    __table_args__ = (UniqueConstraint("source_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    start_seconds: Mapped[float] = mapped_column(Float)
    end_seconds: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime | None] = mapped_column()
    speaker: Mapped[str | None] = mapped_column(String(200))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)


class ImportedReport(Base):
    """A past post-mortem or incident-list row imported with its text, kept as written."""

    __tablename__ = "imported_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    external_id: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(String(2000), default="")
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
