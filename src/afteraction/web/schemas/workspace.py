"""API schemas of the analysis workspace: annotation tags, annotations, the timeline (with
suggestions), analysis notes and interviews — bodies, Read models and builders. The people
analysis is shared with the CLI (`afteraction.services.schemas.people`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from afteraction.services.schemas.common import ReadModel, Timestamp
from afteraction.storage.analysis_tables import AnalysisNote, Annotation, Interview, TimelineEntry
from afteraction.web.schemas.common import Strict, StrictRowId, UserTime

Evidence = list[dict[str, Any]]
"""Links to evidence rows, such as `{"type": "message", "id": 42}`."""


class TagCreate(Strict):
    slug: str = Field(max_length=60, description="1–60 letters, digits or dashes")
    label: str = Field("", max_length=120)


class TagRead(ReadModel):
    slug: str
    label: str


class TagList(ReadModel):
    items: list[TagRead]


class AnnotationCreate(Strict):
    """A message, a range of messages (message_id..end_message_id), a transcript cue of the
    incident's call (its moment) or a time range."""

    message_id: StrictRowId | None = None
    cue_id: StrictRowId | None = None
    end_message_id: StrictRowId | None = None
    start_at: UserTime | None = None
    end_at: UserTime | None = None
    tag: str | None = Field(None, max_length=60)
    note: str = Field("", max_length=20_000)
    question: bool = False


class AnnotationRead(ReadModel):
    id: int
    message_id: int | None
    end_message_id: int | None
    start_at: Timestamp
    end_at: Timestamp
    tag: str | None
    note: str
    question: bool


class AnnotationCreated(AnnotationRead):
    overlaps: list[int] = Field(description="Annotations with the same tag that overlap")


class AnnotationList(ReadModel):
    items: list[AnnotationRead]


def annotation_read(a: Annotation) -> AnnotationRead:
    return AnnotationRead(
        id=a.id,
        message_id=a.message_id,
        end_message_id=a.end_message_id,
        start_at=a.start_at,
        end_at=a.end_at,
        tag=a.tag,
        note=a.note,
        question=a.is_question,
    )


class EntryCreate(Strict):
    at: UserTime | None = None
    text: str = Field("", max_length=20_000)
    kind: str = Field("event", max_length=60)
    evidence: Evidence = Field(default_factory=list, max_length=200)
    annotation_id: StrictRowId | None = Field(
        None, description="Take time, text and evidence from this annotation"
    )


class EntryUpdate(Strict):
    at: UserTime | None = None
    text: str | None = Field(None, max_length=20_000)
    kind: str | None = Field(None, max_length=60)


class SuggestionDecision(Strict):
    key: str = Field(description="The suggestion's key, from GET …/timeline")


class EntryMilestone(Strict):
    milestone: str = Field(description="started, detected, declared, … or closed")
    allow_out_of_order: bool = False


class EntryRead(ReadModel):
    id: int
    at: Timestamp
    kind: str
    text: str
    evidence: Evidence
    status: str
    suggestion_key: str | None
    person_id: int | None


class SuggestionRead(ReadModel):
    key: str
    at: Timestamp
    kind: str
    text: str
    evidence: Evidence


class Timeline(ReadModel):
    items: list[EntryRead]
    suggestions: list[SuggestionRead] = Field(description="Suggested entries not yet decided")


class MilestoneSet(ReadModel):
    incident: str
    warnings: list[str]


def entry_read(e: TimelineEntry) -> EntryRead:
    return EntryRead(
        id=e.id,
        at=e.at,
        kind=e.kind,
        text=e.text,
        evidence=e.evidence,
        status=e.status,
        suggestion_key=e.suggestion_key,
        person_id=e.person_id,
    )


class NoteCreate(Strict):
    kind: str = Field(max_length=40, description="theme, risk, contributing factor, …")
    text: str = Field(max_length=20_000)
    evidence: Evidence = Field(default_factory=list, max_length=200)


class NoteRead(ReadModel):
    id: int
    kind: str
    text: str
    evidence: Evidence


class NoteList(ReadModel):
    items: list[NoteRead]


def note_read(n: AnalysisNote) -> NoteRead:
    return NoteRead(id=n.id, kind=n.kind, text=n.text, evidence=n.evidence)


class InterviewCreate(Strict):
    person_id: StrictRowId
    scheduled_at: UserTime | None = None
    questions: list[str] = Field(default_factory=list, max_length=20)


class InterviewUpdate(Strict):
    scheduled_at: UserTime | None = None
    held_at: UserTime | None = None
    consent: bool | None = None
    notes: str | None = Field(None, max_length=100_000)
    recording_url: str | None = Field(None, max_length=2000)
    readers: list[str] = Field(default_factory=list, description="Emails of users to name")


class QuoteCreate(Strict):
    passage: str = Field(max_length=20_000)
    kind: str = Field("theme", max_length=40)


class TranscriptCue(ReadModel):
    speaker: str | None
    text: str


class InterviewRead(ReadModel):
    id: int
    person_id: int
    investigator_user_id: int | None
    scheduled_at: Timestamp | None
    held_at: Timestamp | None
    consent: bool
    consent_at: Timestamp | None
    notes: str
    recording_url: str
    questions: list[str]
    readers: list[str] = Field(description="Emails of the named readers")
    transcript: list[TranscriptCue]


class InterviewList(ReadModel):
    items: list[InterviewRead]


def interview_read(
    row: Interview,
    *,
    questions: Sequence[str],
    readers: Sequence[str],
    transcript: Sequence[tuple[str | None, str]],
) -> InterviewRead:
    return InterviewRead(
        id=row.id,
        person_id=row.person_id,
        investigator_user_id=row.investigator_user_id,
        scheduled_at=row.scheduled_at,
        held_at=row.held_at,
        consent=row.consent,
        consent_at=row.consent_at,
        notes=row.notes,
        recording_url=row.recording_url,
        questions=list(questions),
        readers=list(readers),
        transcript=[TranscriptCue(speaker=s, text=t) for s, t in transcript],
    )
