"""An incident's timeline: accepted entries with their evidence, the suggested events still to
decide (accepted or dismissed for good, one at a time or in bulk), entries written by hand or
from an annotation, and milestones set from an entry. Every write is audited; nothing here
commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core import times
from afteraction.core.access import Actor, require_analysis
from afteraction.core.analysis.suggestions import SuggestedEvent, suggest_timeline
from afteraction.core.errors import NotFound, ValidationError
from afteraction.core.incidents import MILESTONES
from afteraction.services import incidents as repo
from afteraction.services.analysis import clean_text
from afteraction.services.citations import check_evidence
from afteraction.storage import audit
from afteraction.storage.analysis_bundle import IncidentEvidence, build_incident_evidence
from afteraction.storage.analysis_tables import Annotation, TimelineEntry
from afteraction.storage.evidence_tables import Message
from afteraction.storage.tables import Incident
from afteraction.storage.types import utcnow


def list_timeline(
    session: Session, incident_id: int, *, status: str = "accepted"
) -> list[TimelineEntry]:
    query = select(TimelineEntry).where(
        TimelineEntry.incident_id == incident_id, TimelineEntry.status == status
    )
    return list(session.scalars(query.order_by(TimelineEntry.at, TimelineEntry.id)))


def decided_keys(session: Session, incident_id: int) -> set[str]:
    query = select(TimelineEntry.suggestion_key).where(
        TimelineEntry.incident_id == incident_id, TimelineEntry.suggestion_key.is_not(None)
    )
    return {k for k in session.scalars(query) if k}


def workspace_evidence(session: Session, incident_id: int) -> IncidentEvidence:
    """The incident's evidence as the timeline and the workspace read it (no past
    incidents): what suggestions are made from and what their links point to."""
    return build_incident_evidence(session, incident_id, with_history=False)


def pending_suggestions(session: Session, evidence: IncidentEvidence) -> list[SuggestedEvent]:
    """Suggestions not yet accepted or dismissed (a decision sticks via any of the
    suggestion's keys, so one taken before messages were merged still holds)."""
    done = decided_keys(session, evidence.incident_id)
    suggested = suggest_timeline(evidence.bundle, evidence.context)
    return [s for s in suggested if done.isdisjoint(s.keys)]


def decide_suggestion(
    session: Session, actor: Actor, key: str | int, suggestion_key: str, *, accept: bool
) -> TimelineEntry:
    """Accept (a timeline entry with its evidence) or dismiss a suggestion of incident `key`
    (INC-42 or its number), for good."""
    return decide_suggestions(session, actor, key, [suggestion_key], accept=accept)[0]


def decide_suggestions(
    session: Session,
    actor: Actor,
    key: str | int,
    suggestion_keys: Sequence[str],
    *,
    accept: bool,
) -> list[TimelineEntry]:
    """Accept or dismiss several suggestions of incident `key` at once (its evidence read
    once); refused whole when one is unknown or already decided."""
    require_analysis(actor)
    if not suggestion_keys:
        raise ValidationError("choose at least one suggestion", field="key")
    evidence = workspace_evidence(session, repo.get_incident(session, actor, key).id)
    done = decided_keys(session, evidence.incident_id)
    by_key = {key: s for s in suggest_timeline(evidence.bundle, evidence.context) for key in s.keys}
    chosen: dict[str, SuggestedEvent] = {}
    for wanted in suggestion_keys:
        suggestion = by_key.get(wanted)
        if suggestion is None:
            raise NotFound("suggestion", wanted)
        if not done.isdisjoint(suggestion.keys):
            raise ValidationError("this suggestion was already accepted or dismissed", field="key")
        chosen.setdefault(suggestion.key, suggestion)
    return [_decide(session, actor, evidence, s, accept=accept) for s in chosen.values()]


def _decide(
    session: Session,
    actor: Actor,
    evidence: IncidentEvidence,
    suggestion: SuggestedEvent,
    *,
    accept: bool,
) -> TimelineEntry:
    suggestion_key = suggestion.key
    person = suggestion.person_key
    row = TimelineEntry(
        incident_id=evidence.incident_id,
        at=suggestion.at,
        kind=suggestion.kind,
        text=suggestion.text,
        evidence=evidence.evidence_links(suggestion.evidence),
        status="accepted" if accept else "dismissed",
        suggestion_key=suggestion_key,
        person_id=evidence.person_ids.get(person) if person else None,
        author_user_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    action = "timeline.accepted" if accept else "timeline.dismissed"
    audit.record(
        session,
        actor,
        action,
        target_type="timeline_entry",
        target_id=row.id,
        incident_id=evidence.incident_id,
        after={"kind": row.kind, "at": row.at},
    )
    return row


def create_entry(
    session: Session,
    actor: Actor,
    key: str | int,
    *,
    at: datetime | None = None,
    text: str = "",
    kind: str = "event",
    evidence: Sequence[Mapping[str, Any]] = (),
    annotation_id: int | None = None,
) -> TimelineEntry:
    """A hand-made entry, or one made from an annotation (time, text and evidence from the
    annotated messages unless given)."""
    require_analysis(actor)
    incident = repo.get_incident(session, actor, key)
    links = check_evidence(session, incident.id, evidence)
    person_id = None
    if annotation_id is not None:
        annotation = session.get(Annotation, annotation_id)
        if annotation is None or annotation.incident_id != incident.id:
            raise NotFound("annotation", str(annotation_id))
        at = at or annotation.start_at
        kind = kind if kind != "event" else (annotation.tag or "event")
        ids = [i for i in (annotation.message_id, annotation.end_message_id) if i is not None]
        links = links + [
            {"type": "message", "id": i} for i in ids if {"type": "message", "id": i} not in links
        ]
        if ids:
            first = session.execute(
                select(Message.author_person_id, Message.text_plain).where(Message.id == ids[0])
            ).one()
            person_id = first.author_person_id
            text = text or annotation.note or first.text_plain[:300]
    at = times.as_utc(at, "at")
    if at is None:
        raise ValidationError("a timeline entry needs a time", field="at")
    text = clean_text(text, "text")
    if not text:
        raise ValidationError("a timeline entry needs text", field="text")
    row = TimelineEntry(
        incident_id=incident.id,
        at=at,
        kind=_kind(kind),
        text=text,
        evidence=links,
        status="accepted",
        person_id=person_id,
        author_user_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "timeline.created",
        target_type="timeline_entry",
        target_id=row.id,
        incident_id=incident.id,
        after={"kind": row.kind, "at": at},
    )
    return row


def _kind(kind: str) -> str:
    kind = (kind or "event").strip()
    if len(kind) > 60:
        raise ValidationError("kind is at most 60 characters", field="kind")
    return kind or "event"


def _entry(session: Session, incident: Incident, entry_id: int) -> TimelineEntry:
    row = session.get(TimelineEntry, entry_id)
    if row is None or row.incident_id != incident.id:
        raise NotFound("timeline entry", str(entry_id))
    return row


def update_entry(
    session: Session,
    actor: Actor,
    key: str | int,
    entry_id: int,
    *,
    at: datetime | None = None,
    text: str | None = None,
    kind: str | None = None,
) -> TimelineEntry:
    require_analysis(actor)
    incident = repo.get_incident(session, actor, key)
    row = _entry(session, incident, entry_id)
    before = {"at": row.at, "text": row.text, "kind": row.kind}
    if at is not None:
        row.at = times.as_utc(at, "at") or row.at
    if text is not None:
        row.text = clean_text(text, "text") or row.text
    if kind is not None:
        row.kind = _kind(kind)
    row.updated_at = utcnow()
    audit.record(
        session,
        actor,
        "timeline.updated",
        target_type="timeline_entry",
        target_id=row.id,
        incident_id=incident.id,
        before=before,
        after={"at": row.at, "text": row.text, "kind": row.kind},
    )
    return row


def delete_entry(session: Session, actor: Actor, key: str | int, entry_id: int) -> None:
    require_analysis(actor)
    incident = repo.get_incident(session, actor, key)
    row = _entry(session, incident, entry_id)
    session.delete(row)
    audit.record(
        session,
        actor,
        "timeline.deleted",
        target_type="timeline_entry",
        target_id=entry_id,
        incident_id=incident.id,
    )


def milestone_from_entry(
    session: Session,
    actor: Actor,
    key: str | int,
    entry_id: int,
    milestone: str,
    *,
    allow_out_of_order: bool = False,
) -> tuple[Incident, list[str]]:
    """Set or correct one of the incident's milestones to the time of a timeline entry."""
    require_analysis(actor)
    if milestone not in MILESTONES:
        raise ValidationError(
            f"unknown milestone {milestone!r}; one of {', '.join(MILESTONES)}", field="milestone"
        )
    incident = repo.get_incident(session, actor, key)
    row = _entry(session, incident, entry_id)
    return repo.set_milestones(
        session,
        actor,
        incident.number,
        {milestone: row.at},
        allow_out_of_order=allow_out_of_order,
        reason=f"from timeline entry {row.id}: {row.text[:200]}",
    )
