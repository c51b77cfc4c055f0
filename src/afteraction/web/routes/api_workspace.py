"""JSON endpoints of the analysis workspace under `/api/v1/incidents/{id}/...`: people &
coordination (`/people`, the same model as `afteraction incident people --json`), the
transcript a window at a time (`/transcript`, as the Transcript tab reads it), tags,
annotations, timeline (with suggestions to accept or dismiss), analysis notes and
interviews (confidential: listed only for the incident's investigators and named readers).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime
from sqlalchemy.orm import Session

from afteraction.core.errors import ValidationError
from afteraction.services import analysis as work
from afteraction.services import incidents as repo
from afteraction.services import interviews as iv
from afteraction.services import timeline as timeline_service
from afteraction.services import transcript_reads as reading
from afteraction.services.people import analyse_people
from afteraction.storage.analysis_tables import Interview
from afteraction.storage.db import writing
from afteraction.web import schemas as s
from afteraction.web.deps import CurrentActor, DbSession
from afteraction.web.routes.pages_incidents import incident_key
from afteraction.web.schemas import transcript as ts
from afteraction.web.schemas.common import RowId

router = APIRouter(tags=["analysis"])


def _key(key: str) -> int:
    return incident_key(key)


@router.get("/incidents/{key}/people", response_model=s.PeopleAnalysisRead)
def people(key: str, db: DbSession, actor: CurrentActor) -> s.PeopleAnalysisRead:
    """People & coordination: one object per person with facts and explanations, and the
    roll-up. Unknowns (no time zone, no roster, no schedule) are null or "unknown"."""
    return analyse_people(db, actor, incident=_key(key))


@router.get("/annotation-tags", response_model=s.TagList)
def tags(db: DbSession, actor: CurrentActor) -> s.TagList:  # noqa: ARG001
    return s.TagList(items=[s.TagRead(slug=t.slug, label=t.label) for t in work.list_tags(db)])


@router.post("/annotation-tags", status_code=201, response_model=s.TagRead)
def add_tag(body: s.TagCreate, db: DbSession, actor: CurrentActor) -> s.TagRead:
    with writing(db):
        tag = work.add_tag(db, actor, body.slug, body.label)
    return s.TagRead(slug=tag.slug, label=tag.label)


@router.get("/incidents/{key}/transcript", response_model=ts.TranscriptPage)
def read_transcript(
    key: str,
    db: DbSession,
    actor: CurrentActor,
    tag: str | None = None,
    question: bool = False,
    person: RowId | None = None,
    channel: Annotated[list[RowId] | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    at: AwareDatetime | None = None,
    after: AwareDatetime | None = None,
    after_id: RowId | None = None,
    limit: Annotated[int, Query(ge=1, le=reading.MAX_WINDOW)] = reading.WINDOW,
) -> ts.TranscriptPage:
    """One window of the incident's transcript in time order (messages with their threads'
    replies, pages, call cues, timeline entries), as the Transcript tab shows it. Filters
    combine with AND: `tag`, `question` (annotated as open questions), `person` (who
    wrote), `channel` (repeat for several), `q` (words in the text), `at` (from this
    time). A window holds `limit` messages and the pages, cues and entries of the same
    stretch of time; the next starts at `after` + `after_id`, which `next` gives."""
    if (after is None) != (after_id is None):
        raise ValidationError("give after and after_id together, as next gives them", field="after")
    query = reading.TranscriptQuery(
        tag=tag or "",
        questions=question,
        person_id=person,
        channel_ids=channel or (),
        text=q or "",
        start=at,
        cursor=None if after is None or after_id is None else (after, after_id),
        limit=limit,
    )
    return ts.transcript_page(reading.read_transcript(db, actor, _key(key), query))


@router.get("/incidents/{key}/annotations", response_model=s.AnnotationList)
def list_annotations(
    key: str,
    db: DbSession,
    actor: CurrentActor,
    tag: str | None = None,
    question: bool | None = None,
) -> s.AnnotationList:
    incident = repo.get_incident(db, actor, _key(key))
    rows = work.list_annotations(db, incident.id, tag=tag, question=question)
    return s.AnnotationList(items=[s.annotation_read(a) for a in rows])


@router.post("/incidents/{key}/annotations", status_code=201, response_model=s.AnnotationCreated)
def annotate(
    key: str, body: s.AnnotationCreate, db: DbSession, actor: CurrentActor
) -> s.AnnotationCreated:
    """Annotate a message, a range of messages (message_id..end_message_id) or a time range
    (start_at..end_at). `overlaps` lists annotations with the same tag that overlap."""
    with writing(db):
        result = work.annotate(
            db, actor, _key(key), **body.model_dump(exclude={"tag"}), tag=body.tag or None
        )
        read = s.annotation_read(result.annotation)
    return s.AnnotationCreated(**read.model_dump(), overlaps=result.overlaps)


@router.delete(
    "/incidents/{key}/annotations/{annotation_id}", status_code=204, responses=s.NO_CONTENT
)
def unannotate(key: str, annotation_id: RowId, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        work.delete_annotation(db, actor, _key(key), annotation_id)
    return Response(status_code=204)


@router.get("/incidents/{key}/timeline", response_model=s.Timeline)
def timeline(key: str, db: DbSession, actor: CurrentActor) -> s.Timeline:
    """Accepted entries, and the suggestions not yet accepted or dismissed."""
    incident = repo.get_incident(db, actor, _key(key))
    evidence = timeline_service.workspace_evidence(db, incident.id)
    suggestions = timeline_service.pending_suggestions(db, evidence)
    return s.Timeline(
        items=[s.entry_read(e) for e in timeline_service.list_timeline(db, incident.id)],
        suggestions=[
            s.SuggestionRead(
                key=x.key,
                at=x.at,
                kind=x.kind,
                text=x.text,
                evidence=evidence.evidence_links(x.evidence),
            )
            for x in suggestions
        ],
    )


@router.post("/incidents/{key}/timeline", status_code=201, response_model=s.EntryRead)
def add_entry(key: str, body: s.EntryCreate, db: DbSession, actor: CurrentActor) -> s.EntryRead:
    with writing(db):
        return s.entry_read(
            timeline_service.create_entry(db, actor, _key(key), **body.model_dump())
        )


@router.post(
    "/incidents/{key}/timeline/suggestions/{decision}",
    status_code=201,
    response_model=s.EntryRead,
)
def decide(
    key: str, decision: str, body: s.SuggestionDecision, db: DbSession, actor: CurrentActor
) -> s.EntryRead:
    """`decision` is accept or dismiss; body `{"key": suggestion key}`."""
    if decision not in ("accept", "dismiss"):
        raise ValidationError("decision is accept or dismiss", field="decision")
    with writing(db):
        row = timeline_service.decide_suggestion(
            db, actor, _key(key), body.key, accept=decision == "accept"
        )
        return s.entry_read(row)


@router.patch("/incidents/{key}/timeline/{entry_id}", response_model=s.EntryRead)
def edit_entry(
    key: str, entry_id: RowId, body: s.EntryUpdate, db: DbSession, actor: CurrentActor
) -> s.EntryRead:
    with writing(db):
        return s.entry_read(
            timeline_service.update_entry(db, actor, _key(key), entry_id, **body.model_dump())
        )


@router.post("/incidents/{key}/timeline/{entry_id}/milestone", response_model=s.MilestoneSet)
def entry_milestone(
    key: str, entry_id: RowId, body: s.EntryMilestone, db: DbSession, actor: CurrentActor
) -> s.MilestoneSet:
    """Set one of the incident's milestones to the time of the entry."""
    with writing(db):
        incident, warnings = timeline_service.milestone_from_entry(
            db,
            actor,
            _key(key),
            entry_id,
            body.milestone,
            allow_out_of_order=body.allow_out_of_order,
        )
        return s.MilestoneSet(incident=incident.public_id, warnings=warnings)


@router.get("/incidents/{key}/notes", response_model=s.NoteList)
def notes(key: str, db: DbSession, actor: CurrentActor) -> s.NoteList:
    incident = repo.get_incident(db, actor, _key(key))
    return s.NoteList(items=[s.note_read(n) for n in work.list_notes(db, incident.id)])


@router.post("/incidents/{key}/notes", status_code=201, response_model=s.NoteRead)
def add_note(key: str, body: s.NoteCreate, db: DbSession, actor: CurrentActor) -> s.NoteRead:
    with writing(db):
        return s.note_read(work.add_note(db, actor, _key(key), **body.model_dump()))


def _interview(db: Session, row: Interview) -> s.InterviewRead:
    return s.interview_read(
        row,
        questions=[q.text for q in iv.questions_of(db, row.id)],
        readers=[u.email for u in iv.readers_of(db, row.id)],
        transcript=[(c.speaker, c.text) for c in iv.transcript_of(db, row.id)],
    )


@router.get("/incidents/{key}/interviews", response_model=s.InterviewList)
def interviews(key: str, db: DbSession, actor: CurrentActor) -> s.InterviewList:
    """Confidential: only the interviews the caller may read (none for most people)."""
    rows = iv.list_interviews(db, actor, _key(key))
    return s.InterviewList(items=[_interview(db, r) for r in rows])


@router.get("/incidents/{key}/interviews/{interview_id}", response_model=s.InterviewRead)
def interview(key: str, interview_id: RowId, db: DbSession, actor: CurrentActor) -> s.InterviewRead:
    return _interview(db, iv.get_interview(db, actor, _key(key), interview_id))


@router.post("/incidents/{key}/interviews", status_code=201, response_model=s.InterviewRead)
def plan(key: str, body: s.InterviewCreate, db: DbSession, actor: CurrentActor) -> s.InterviewRead:
    with writing(db):
        row = iv.plan_interview(db, actor, _key(key), **body.model_dump())
        return _interview(db, row)


@router.patch("/incidents/{key}/interviews/{interview_id}", response_model=s.InterviewRead)
def update(
    key: str, interview_id: RowId, body: s.InterviewUpdate, db: DbSession, actor: CurrentActor
) -> s.InterviewRead:
    """Change the fields sent; `readers` names users who may read the interview."""
    with writing(db):
        row = iv.update_interview(
            db, actor, _key(key), interview_id, **body.model_dump(exclude={"readers"})
        )
        for email in body.readers:
            iv.name_reader(db, actor, _key(key), interview_id, email)
        return _interview(db, row)


@router.post(
    "/incidents/{key}/interviews/{interview_id}/quotes",
    status_code=201,
    response_model=s.NoteRead,
)
def quote(
    key: str, interview_id: RowId, body: s.QuoteCreate, db: DbSession, actor: CurrentActor
) -> s.NoteRead:
    """Quote a passage into the analysis deliberately; the quote is logged."""
    with writing(db):
        return s.note_read(iv.quote(db, actor, _key(key), interview_id, **body.model_dump()))
