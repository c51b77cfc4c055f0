"""The analysis workspace's writes and reads: the tag set, annotations on transcript
messages, timeline entries (hand-made, from annotations, or accepted/dismissed
suggestions) and analysis notes, each checked against the incident it belongs to.

Rules: only investigators and admins change the analysis (`require_analysis`); anyone who
can see the incident may read it. Annotating a message of another incident, or outside
the window its channel is attached for, is a ValidationError naming `message_id`; a
hidden or deleted message cannot be annotated (its text is gone). A transcript cue of the
incident's call is annotated as the moment it was said (a time range of one instant), so
its marks are the time-range annotations covering it; a cue without a time cannot be.
Overlapping ranges are allowed — two people may read the same stretch differently — but
every overlap with the same tag is reported back so the UI can flag it. Interviews live in
`services.interviews`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from afteraction.core import times
from afteraction.core.access import Actor, require_admin, require_analysis
from afteraction.core.errors import NotFound, ValidationError
from afteraction.services import incidents as repo
from afteraction.storage import audit
from afteraction.storage.analysis_tables import (
    DEFAULT_TAGS,
    NOTE_KINDS,
    AnalysisNote,
    Annotation,
    AnnotationTag,
)
from afteraction.storage.evidence_tables import IncidentChannel, Message, Page, TranscriptCue
from afteraction.storage.types import utcnow

MAX_TEXT = 20_000
EVIDENCE_TYPES = ("message", "page", "cue", "person")


@dataclass(frozen=True, slots=True)
class Tag:
    slug: str
    label: str
    position: int


@dataclass(slots=True)
class Annotated:
    annotation: Annotation
    overlaps: list[int]


# -- tags --------------------------------------------------------------------------------


def list_tags(session: Session) -> list[Tag]:
    """The configured tag set in order; the default set when none is configured."""
    rows = session.execute(
        select(AnnotationTag.slug, AnnotationTag.label, AnnotationTag.position).order_by(
            AnnotationTag.position, AnnotationTag.slug
        )
    ).all()
    if rows:
        return [Tag(r.slug, r.label, r.position) for r in rows]
    return [Tag(slug, label, i) for i, (slug, label) in enumerate(DEFAULT_TAGS)]


def add_tag(session: Session, actor: Actor, slug: str, label: str) -> Tag:
    """Add a tag to the configured set (admins only); seeds the defaults first if empty."""
    require_admin(actor)
    slug = slug.strip().lower()
    if not slug or len(slug) > 60 or not all(c.isalnum() or c == "-" for c in slug):
        raise ValidationError("a tag is 1–60 letters, digits or dashes", field="slug")
    current = list_tags(session)
    if any(t.slug == slug for t in current):
        raise ValidationError(f"tag {slug!r} already exists", field="slug")
    if session.scalar(select(AnnotationTag.slug).limit(1)) is None:
        session.add_all(
            AnnotationTag(slug=t.slug, label=t.label, position=t.position) for t in current
        )
    tag = Tag(slug, label.strip()[:120] or slug, len(current))
    session.add(AnnotationTag(slug=tag.slug, label=tag.label, position=tag.position))
    audit.record(
        session, actor, "tag.added", target_type="tag", target_id=slug, after={"label": tag.label}
    )
    return tag


def _check_tag(session: Session, tag: str | None) -> str | None:
    if tag is None or tag == "":
        return None
    if tag not in {t.slug for t in list_tags(session)}:
        known = ", ".join(t.slug for t in list_tags(session))
        raise ValidationError(f"unknown tag {tag!r}; known tags: {known}", field="tag")
    return tag


def clean_text(value: str, name: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_TEXT:
        raise ValidationError(
            f"{name} is {len(value)} characters; the limit is {MAX_TEXT}", field=name
        )
    return value


# -- messages of an incident ---------------------------------------------------------------


def incident_message(
    session: Session, incident_id: int, message_id: int, name: str = "message_id"
) -> Any:
    """The message row (id, at, channel, author, hidden, subtype) if it is evidence of this
    incident: in a channel attached to it and inside the attached window."""
    query = (
        select(
            Message.id,
            Message.at,
            Message.channel_id,
            Message.author_person_id,
            Message.hidden,
            Message.subtype,
            IncidentChannel.since,
            IncidentChannel.until,
            IncidentChannel.channel_id.label("attached"),
        )
        .outerjoin(
            IncidentChannel,
            (IncidentChannel.channel_id == Message.channel_id)
            & (IncidentChannel.incident_id == incident_id),
        )
        .where(Message.id == message_id)
    )
    row = session.execute(query).first()
    if row is None:
        raise NotFound("message", str(message_id))
    outside = (row.since is not None and row.at < row.since) or (
        row.until is not None and row.at >= row.until
    )
    if row.attached is None or outside:
        raise ValidationError(
            f"message {message_id} is not evidence of this incident (its channel is not "
            "attached, or it falls outside the attached window)",
            field=name,
        )
    if row.hidden or row.subtype == "tombstone":
        raise ValidationError(
            f"message {message_id} was deleted or hidden in the source; its text is gone, so "
            "annotate a neighbouring message or a time range instead",
            field=name,
        )
    return row


# -- annotations -------------------------------------------------------------------------


def annotate(
    session: Session,
    actor: Actor,
    key: str | int,
    *,
    message_id: int | None = None,
    end_message_id: int | None = None,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    tag: str | None = None,
    note: str = "",
    question: bool = False,
    cue_id: int | None = None,
) -> Annotated:
    """Tag, note or question one message, a message range, a transcript cue, or a time
    range."""
    require_analysis(actor)
    incident = repo.get_incident(session, actor, key)
    tag = _check_tag(session, tag)
    note = clean_text(note, "note")
    if tag is None and not note:
        raise ValidationError("give a tag, a note or a question", field="tag")
    if message_id is not None:
        first = incident_message(session, incident.id, message_id)
        last = (
            incident_message(session, incident.id, end_message_id, "end_message_id")
            if end_message_id is not None
            else first
        )
        if last.at < first.at:
            first, last = last, first
        start, end = first.at, last.at
        message_id, end_message_id = first.id, (last.id if last.id != first.id else None)
    elif cue_id is not None:
        start = end = _cue_moment(session, incident.id, cue_id)
    else:
        start, end = times.as_utc(start_at, "start_at"), times.as_utc(end_at, "end_at")
        if start is None or end is None:
            raise ValidationError("choose a message or a time range", field="message_id")
        if end < start:
            raise ValidationError("the range ends before it starts", field="end_at")
    row = Annotation(
        incident_id=incident.id,
        message_id=message_id,
        end_message_id=end_message_id,
        start_at=start,
        end_at=end,
        tag=tag,
        note=note,
        is_question=question,
        author_user_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    overlaps = _overlaps(session, row) if tag else []
    audit.record(
        session,
        actor,
        "annotation.added",
        target_type="annotation",
        target_id=row.id,
        incident_id=incident.id,
        after={"tag": tag, "message_id": message_id, "cue_id": cue_id, "question": question},
    )
    return Annotated(row, overlaps)


def incident_cue(session: Session, incident_id: int, cue_id: int, name: str = "cue_id") -> Any:
    """The cue row (id, at) if it is from this incident's call (interview transcripts are
    never `TranscriptCue`s)."""
    cue = session.execute(
        select(TranscriptCue.id, TranscriptCue.at, TranscriptCue.incident_id).where(
            TranscriptCue.id == cue_id
        )
    ).first()
    if cue is None or cue.incident_id != incident_id:
        raise ValidationError(f"cue {cue_id} is not evidence of this incident", field=name)
    return cue


def _cue_moment(session: Session, incident_id: int, cue_id: int) -> datetime:
    cue = incident_cue(session, incident_id, cue_id)
    if cue.at is None:
        raise ValidationError(
            "this cue has no time: import its transcript with the recording's start time",
            field="cue_id",
        )
    moment: datetime = times.from_storage(cue.at)
    return moment


def _overlaps(session: Session, row: Annotation) -> list[int]:
    query = select(Annotation.id).where(
        Annotation.incident_id == row.incident_id,
        Annotation.tag == row.tag,
        Annotation.id != row.id,
        Annotation.start_at <= row.end_at,
        Annotation.end_at >= row.start_at,
    )
    return list(session.scalars(query.order_by(Annotation.id)))


def list_annotations(
    session: Session,
    incident_id: int,
    *,
    tag: str | None = None,
    question: bool | None = None,
) -> list[Annotation]:
    query = select(Annotation).where(Annotation.incident_id == incident_id)
    if tag:
        query = query.where(Annotation.tag == tag)
    if question is not None:
        query = query.where(Annotation.is_question.is_(question))
    return list(session.scalars(query.order_by(Annotation.start_at, Annotation.id)))


def annotated_message_ids(
    annotations: Iterable[Annotation], message_at: Mapping[int, datetime]
) -> dict[int, list[Annotation]]:
    """Message id → the annotations covering it (ranges cover every message inside)."""
    out: dict[int, list[Annotation]] = {}
    for annotation in annotations:
        for message_id, at in message_at.items():
            if annotation.message_id == message_id or (
                annotation.start_at <= at <= annotation.end_at
                and (annotation.end_message_id is not None or annotation.message_id is None)
            ):
                out.setdefault(message_id, []).append(annotation)
    return out


def delete_annotation(session: Session, actor: Actor, key: str | int, annotation_id: int) -> None:
    require_analysis(actor)
    incident = repo.get_incident(session, actor, key)
    row = session.get(Annotation, annotation_id)
    if row is None or row.incident_id != incident.id:
        raise NotFound("annotation", str(annotation_id))
    session.delete(row)
    audit.record(
        session,
        actor,
        "annotation.deleted",
        target_type="annotation",
        target_id=annotation_id,
        incident_id=incident.id,
    )


# -- evidence links ------------------------------------------------------------------------


def check_evidence(
    session: Session, incident_id: int, links: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Validate evidence links ({"type", "id"}) against this incident's rows."""
    clean: list[dict[str, Any]] = []
    for link in links:
        kind, ident = link.get("type"), link.get("id")
        if kind not in EVIDENCE_TYPES or not isinstance(ident, int) or isinstance(ident, bool):
            raise ValidationError(
                f"evidence links are {{type: {'/'.join(EVIDENCE_TYPES)}, id: number}}",
                field="evidence",
            )
        if kind == "message":
            incident_message(session, incident_id, ident, "evidence")
        elif kind == "page":
            page = session.execute(select(Page.incident_id).where(Page.id == ident)).first()
            if page is None or page.incident_id not in (incident_id, None):
                raise ValidationError(
                    f"page {ident} is not evidence of this incident", field="evidence"
                )
        elif kind == "cue":
            incident_cue(session, incident_id, ident, "evidence")
        clean.append({"type": kind, "id": ident})
    return clean


# -- timeline ------------------------------------------------------------------------------


# -- analysis notes --------------------------------------------------------------------------


def _note_kind(kind: str) -> str:
    if kind not in NOTE_KINDS:
        raise ValidationError(
            f"unknown kind {kind!r}; one of {', '.join(NOTE_KINDS)}", field="kind"
        )
    return kind


def add_note(
    session: Session,
    actor: Actor,
    key: str | int,
    *,
    kind: str,
    text: str,
    evidence: Sequence[Mapping[str, Any]] = (),
) -> AnalysisNote:
    require_analysis(actor)
    incident = repo.get_incident(session, actor, key)
    text = clean_text(text, "text")
    if not text:
        raise ValidationError("write the note's text", field="text")
    row = AnalysisNote(
        incident_id=incident.id,
        kind=_note_kind(kind),
        text=text,
        evidence=check_evidence(session, incident.id, evidence),
        author_user_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "note.added",
        target_type="analysis_note",
        target_id=row.id,
        incident_id=incident.id,
        after={"kind": kind},
    )
    return row


def update_note(
    session: Session,
    actor: Actor,
    key: str | int,
    note_id: int,
    *,
    text: str | None = None,
    evidence: Sequence[Mapping[str, Any]] | None = None,
) -> AnalysisNote:
    require_analysis(actor)
    incident = repo.get_incident(session, actor, key)
    row = session.get(AnalysisNote, note_id)
    if row is None or row.incident_id != incident.id:
        raise NotFound("note", str(note_id))
    if text is not None:
        row.text = clean_text(text, "text") or row.text
    if evidence is not None:
        row.evidence = check_evidence(session, incident.id, evidence)
    row.updated_at = utcnow()
    audit.record(
        session,
        actor,
        "note.updated",
        target_type="analysis_note",
        target_id=row.id,
        incident_id=incident.id,
    )
    return row


def delete_note(session: Session, actor: Actor, key: str | int, note_id: int) -> None:
    require_analysis(actor)
    incident = repo.get_incident(session, actor, key)
    session.execute(
        delete(AnalysisNote).where(
            AnalysisNote.id == note_id, AnalysisNote.incident_id == incident.id
        )
    )
    audit.record(
        session,
        actor,
        "note.deleted",
        target_type="analysis_note",
        target_id=note_id,
        incident_id=incident.id,
    )


def list_notes(session: Session, incident_id: int) -> list[AnalysisNote]:
    query = select(AnalysisNote).where(AnalysisNote.incident_id == incident_id)
    return list(
        session.scalars(query.order_by(AnalysisNote.kind, AnalysisNote.created_at, AnalysisNote.id))
    )


def evidence_labels(
    session: Session, links: Iterable[Mapping[str, Any]]
) -> dict[tuple[str, int], dict[str, Any]]:
    """(type, id) → {"at", "label"} for showing and linking evidence (one query per type)."""
    wanted: dict[str, set[int]] = {}
    for link in links:
        wanted.setdefault(str(link.get("type")), set()).add(int(link.get("id", 0)))
    out: dict[tuple[str, int], dict[str, Any]] = {}
    if wanted.get("message"):
        query = select(
            Message.id,
            Message.at,
            Message.author_name,
            Message.text_plain,
            Message.channel_id,
            Message.author_person_id,
        )
        for row in session.execute(query.where(Message.id.in_(wanted["message"]))):
            out[("message", row.id)] = {
                "at": row.at,
                "label": f"{row.author_name}: {row.text_plain[:80]}",
                "channel_id": row.channel_id,
                "person_id": row.author_person_id,
            }
    if wanted.get("page"):
        for page in session.execute(
            select(Page.id, Page.at, Page.kind, Page.summary).where(Page.id.in_(wanted["page"]))
        ):
            out[("page", page.id)] = {
                "at": page.at,
                "label": f"page {page.kind}: {page.summary[:80]}",
                "channel_id": None,
                "person_id": None,
            }
    if wanted.get("cue"):
        cues = select(
            TranscriptCue.id, TranscriptCue.at, TranscriptCue.speaker, TranscriptCue.text
        ).where(TranscriptCue.id.in_(wanted["cue"]))
        for cue in session.execute(cues):
            out[("cue", cue.id)] = {
                "at": cue.at,
                "label": f"{cue.speaker or '?'}: {cue.text[:80]}",
                "channel_id": None,
                "person_id": None,
            }
    return out
