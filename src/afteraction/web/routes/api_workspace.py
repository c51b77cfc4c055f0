"""JSON endpoints of the analysis workspace under `/api/v1/incidents/{id}/...`: people &
coordination (`/people`, the same data as `afteraction incident people --json`), tags,
annotations, timeline (with suggestions to accept or dismiss), analysis notes and
interviews (confidential: listed only for the incident's investigators and named readers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Response
from sqlalchemy.orm import Session

from afteraction.core import times
from afteraction.core.errors import ValidationError
from afteraction.services import analysis as work
from afteraction.services import incidents as repo
from afteraction.services import interviews as iv
from afteraction.services import people as people_service
from afteraction.storage.analysis_bundle import build_incident_evidence
from afteraction.storage.analysis_tables import AnalysisNote, Annotation, Interview, TimelineEntry
from afteraction.storage.db import writing
from afteraction.web.deps import CurrentActor, DbSession

router = APIRouter(tags=["analysis"])
JsonBody = Annotated[dict[str, Any], Body()]


def _json(data: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status_code, media_type="application/json")


def _key(key: str) -> int:
    from afteraction.web.routes.pages_incidents import incident_key

    return incident_key(key)


def _time(body: dict[str, Any], name: str) -> datetime | None:
    value = body.get(name)
    return times.parse_time(None if value is None else str(value), name)


def _int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(f"{name} must be a number", field=name)
    return value


@router.get("/incidents/{key}/people")
def people(key: str, db: DbSession, actor: CurrentActor) -> Response:
    """People & coordination: one object per person with facts and explanations, and the
    roll-up. Unknowns (no time zone, no roster, no schedule) are null or "unknown"."""
    view = people_service.analyse(db, actor, _key(key))
    return _json(people_service.as_json(view))


@router.get("/annotation-tags")
def tags(db: DbSession, actor: CurrentActor) -> Response:  # noqa: ARG001
    return _json({"items": [{"slug": t.slug, "label": t.label} for t in work.list_tags(db)]})


@router.post("/annotation-tags", status_code=201)
def add_tag(body: JsonBody, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        tag = work.add_tag(db, actor, str(body.get("slug", "")), str(body.get("label", "")))
    return _json({"slug": tag.slug, "label": tag.label}, 201)


def annotation_dict(a: Annotation) -> dict[str, Any]:
    return {
        "id": a.id,
        "message_id": a.message_id,
        "end_message_id": a.end_message_id,
        "start_at": a.start_at.isoformat(),
        "end_at": a.end_at.isoformat(),
        "tag": a.tag,
        "note": a.note,
        "question": a.is_question,
    }


@router.get("/incidents/{key}/annotations")
def list_annotations(
    key: str,
    db: DbSession,
    actor: CurrentActor,
    tag: str | None = None,
    question: bool | None = None,
) -> Response:
    incident = repo.get_incident(db, actor, _key(key))
    rows = work.list_annotations(db, incident.id, tag=tag, question=question)
    return _json({"items": [annotation_dict(a) for a in rows]})


@router.post("/incidents/{key}/annotations", status_code=201)
def annotate(key: str, body: JsonBody, db: DbSession, actor: CurrentActor) -> Response:
    """Annotate a message, a range of messages (message_id..end_message_id) or a time range
    (start_at..end_at). `overlaps` lists annotations with the same tag that overlap."""
    with writing(db):
        result = work.annotate(
            db,
            actor,
            _key(key),
            message_id=_int(body, "message_id"),
            end_message_id=_int(body, "end_message_id"),
            start_at=_time(body, "start_at"),
            end_at=_time(body, "end_at"),
            tag=body.get("tag") or None,
            note=str(body.get("note") or ""),
            question=bool(body.get("question")),
        )
        data = annotation_dict(result.annotation) | {"overlaps": result.overlaps}
    return _json(data, 201)


@router.delete("/incidents/{key}/annotations/{annotation_id}", status_code=204)
def unannotate(key: str, annotation_id: int, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        work.delete_annotation(db, actor, _key(key), annotation_id)
    return Response(status_code=204)


def entry_dict(e: TimelineEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "kind": e.kind,
        "text": e.text,
        "evidence": e.evidence,
        "status": e.status,
        "suggestion_key": e.suggestion_key,
        "person_id": e.person_id,
    }


@router.get("/incidents/{key}/timeline")
def timeline(key: str, db: DbSession, actor: CurrentActor) -> Response:
    incident = repo.get_incident(db, actor, _key(key))
    evidence = build_incident_evidence(db, incident.id, with_history=False)
    suggestions = work.pending_suggestions(db, evidence)
    return _json(
        {
            "items": [entry_dict(e) for e in work.list_timeline(db, incident.id)],
            "suggestions": [
                {
                    "key": s.key,
                    "at": s.at.isoformat(),
                    "kind": s.kind,
                    "text": s.text,
                    "evidence": evidence.evidence_links(s.evidence),
                }
                for s in suggestions
            ],
        }
    )


@router.post("/incidents/{key}/timeline", status_code=201)
def add_entry(key: str, body: JsonBody, db: DbSession, actor: CurrentActor) -> Response:
    evidence = body.get("evidence") or []
    if not isinstance(evidence, list):
        raise ValidationError("evidence is a list", field="evidence")
    with writing(db):
        row = work.create_entry(
            db,
            actor,
            _key(key),
            at=_time(body, "at"),
            text=str(body.get("text") or ""),
            kind=str(body.get("kind") or "event"),
            evidence=evidence,
            annotation_id=_int(body, "annotation_id"),
        )
        data = entry_dict(row)
    return _json(data, 201)


@router.post("/incidents/{key}/timeline/suggestions/{decision}", status_code=201)
def decide(key: str, decision: str, body: JsonBody, db: DbSession, actor: CurrentActor) -> Response:
    """`decision` is accept or dismiss; body `{"key": suggestion key}`."""
    if decision not in ("accept", "dismiss"):
        raise ValidationError("decision is accept or dismiss", field="decision")
    incident = repo.get_incident(db, actor, _key(key))
    with writing(db):
        evidence = build_incident_evidence(db, incident.id, with_history=False)
        row = work.decide_suggestion(
            db, actor, evidence, str(body.get("key", "")), accept=decision == "accept"
        )
        data = entry_dict(row)
    return _json(data, 201)


@router.patch("/incidents/{key}/timeline/{entry_id}")
def edit_entry(
    key: str, entry_id: int, body: JsonBody, db: DbSession, actor: CurrentActor
) -> Response:
    with writing(db):
        row = work.update_entry(
            db,
            actor,
            _key(key),
            entry_id,
            at=_time(body, "at"),
            text=body.get("text"),
            kind=body.get("kind"),
        )
        data = entry_dict(row)
    return _json(data)


@router.post("/incidents/{key}/timeline/{entry_id}/milestone")
def entry_milestone(
    key: str, entry_id: int, body: JsonBody, db: DbSession, actor: CurrentActor
) -> Response:
    with writing(db):
        incident, warnings = work.milestone_from_entry(
            db,
            actor,
            _key(key),
            entry_id,
            str(body.get("milestone", "")),
            allow_out_of_order=bool(body.get("allow_out_of_order")),
        )
        data = {"incident": incident.public_id, "warnings": warnings}
    return _json(data)


def note_dict(n: AnalysisNote) -> dict[str, Any]:
    return {"id": n.id, "kind": n.kind, "text": n.text, "evidence": n.evidence}


@router.get("/incidents/{key}/notes")
def notes(key: str, db: DbSession, actor: CurrentActor) -> Response:
    incident = repo.get_incident(db, actor, _key(key))
    return _json({"items": [note_dict(n) for n in work.list_notes(db, incident.id)]})


@router.post("/incidents/{key}/notes", status_code=201)
def add_note(key: str, body: JsonBody, db: DbSession, actor: CurrentActor) -> Response:
    evidence = body.get("evidence") or []
    if not isinstance(evidence, list):
        raise ValidationError("evidence is a list", field="evidence")
    with writing(db):
        row = work.add_note(
            db,
            actor,
            _key(key),
            kind=str(body.get("kind", "")),
            text=str(body.get("text", "")),
            evidence=evidence,
        )
        data = note_dict(row)
    return _json(data, 201)


def interview_dict(db: Session, row: Interview) -> dict[str, Any]:
    return {
        "id": row.id,
        "person_id": row.person_id,
        "investigator_user_id": row.investigator_user_id,
        "scheduled_at": row.scheduled_at.isoformat() if row.scheduled_at else None,
        "held_at": row.held_at.isoformat() if row.held_at else None,
        "consent": row.consent,
        "consent_at": row.consent_at.isoformat() if row.consent_at else None,
        "notes": row.notes,
        "recording_url": row.recording_url,
        "questions": [q.text for q in iv.questions_of(db, row.id)],
        "readers": [u.email for u in iv.readers_of(db, row.id)],
        "transcript": [
            {"speaker": c.speaker, "text": c.text} for c in iv.transcript_of(db, row.id)
        ],
    }


@router.get("/incidents/{key}/interviews")
def interviews(key: str, db: DbSession, actor: CurrentActor) -> Response:
    """Confidential: only the interviews the caller may read (none for most people)."""
    rows = iv.list_interviews(db, actor, _key(key))
    return _json({"items": [interview_dict(db, r) for r in rows]})


@router.get("/incidents/{key}/interviews/{interview_id}")
def interview(key: str, interview_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _json(interview_dict(db, iv.get_interview(db, actor, _key(key), interview_id)))


@router.post("/incidents/{key}/interviews", status_code=201)
def plan(key: str, body: JsonBody, db: DbSession, actor: CurrentActor) -> Response:
    person = _int(body, "person_id")
    if person is None:
        raise ValidationError("person_id is required", field="person_id")
    questions = [str(q) for q in body.get("questions") or []][:20]
    with writing(db):
        row = iv.plan_interview(
            db,
            actor,
            _key(key),
            person_id=person,
            scheduled_at=_time(body, "scheduled_at"),
            questions=questions,
        )
        data = interview_dict(db, row)
    return _json(data, 201)


@router.patch("/incidents/{key}/interviews/{interview_id}")
def update(
    key: str, interview_id: int, body: JsonBody, db: DbSession, actor: CurrentActor
) -> Response:
    with writing(db):
        row = iv.update_interview(
            db,
            actor,
            _key(key),
            interview_id,
            scheduled_at=_time(body, "scheduled_at"),
            held_at=_time(body, "held_at"),
            consent=body.get("consent"),
            notes=body.get("notes"),
            recording_url=body.get("recording_url"),
        )
        for email in body.get("readers") or []:
            iv.name_reader(db, actor, _key(key), interview_id, str(email))
        data = interview_dict(db, row)
    return _json(data)


@router.post("/incidents/{key}/interviews/{interview_id}/quotes", status_code=201)
def quote(
    key: str, interview_id: int, body: JsonBody, db: DbSession, actor: CurrentActor
) -> Response:
    """Quote a passage into the analysis deliberately; the quote is logged."""
    with writing(db):
        note = iv.quote(
            db,
            actor,
            _key(key),
            interview_id,
            passage=str(body.get("passage", "")),
            kind=str(body.get("kind") or "theme"),
        )
        data = note_dict(note)
    return _json(data, 201)
