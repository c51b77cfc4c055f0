"""The interview planner of an incident: suggested interviewees with reasons, drafted
questions, and the confidential interviews themselves (schedule, consent, live notes,
recording link, transcript, named readers, deliberate quotes).

Everyone who can see the incident sees the suggestions (they come from the evidence
everyone may read, `services.interviews.planner`); interviews themselves are shown only to
the people `services.interviews` allows, and to nobody else — not even as a count or as a
suggestion marked "already planned".
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from afteraction.adapters.transcripts import parse_vtt
from afteraction.core.errors import Conflict, ValidationError
from afteraction.services import interviews as iv
from afteraction.services import users
from afteraction.storage.analysis_tables import NOTE_KINDS
from afteraction.storage.tables import Person, User
from afteraction.web.deps import CurrentUser, DbSession
from afteraction.web.routes.pages_forms import Form, render_page, see_other, writing_as
from afteraction.web.routes.pages_incidents import FormDep, incident_key
from afteraction.web.routes.pages_workspace import _open
from afteraction.web.schemas.common import RowId

router = APIRouter(include_in_schema=False)


@router.get("/incidents/{key}/interviews")
def interviews_page(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    page, actor = _open(db, user, key, "interviews")
    rows = iv.list_interviews(db, actor, page.incident.number)
    wanted = select(Person.id, Person.name).where(Person.id.in_({r.person_id for r in rows}))
    names = {p.id: p.name for p in db.execute(wanted)}
    page.extra = {
        "planner": iv.planner(db, actor, page.incident.number),
        "may_plan": iv.may_plan(db, actor, page.incident.id),
        "interviews": [
            {
                "row": r,
                "name": names.get(r.person_id, "?"),
                "questions": iv.questions_of(db, r.id),
                "readers": iv.readers_of(db, r.id),
                "cues": iv.transcript_of(db, r.id),
                "quotes": iv.quotes_of(db, r.id),
            }
            for r in rows
        ],
        "note_kinds": NOTE_KINDS,
    }
    return render_page(request, "workspace_interviews.html", page, user=user)


@router.post("/incidents/{key}/interviews")
def plan(key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep) -> Response:
    actor = users.actor_for(user)
    number = incident_key(key)
    iv.planning_incident(db, actor, number)  # refused before the form is read
    questions = [q for q in form.data.getlist("question") if isinstance(q, str) and q.strip()]
    person = form.integer("person_id")
    if person is None:
        raise ValidationError("choose whom to interview", field="person_id")
    try:
        with writing_as(db, user):
            row = iv.plan_interview(
                db,
                actor,
                number,
                person_id=person,
                scheduled_at=form.moment("scheduled_at", form.zone()),
                questions=questions[:20],
            )
    except Conflict as refused:  # already planned: back to that interview
        there = f"#interview-{refused.details['interview_id']}"
        return see_other(
            request, f"/incidents/INC-{number}/interviews{there}", f"Not saved: {refused.message}"
        )
    return see_other(
        request, f"/incidents/INC-{number}/interviews#interview-{row.id}", "Interview planned"
    )


@router.post("/incidents/{key}/interviews/{interview_id}")
async def change(
    key: str, interview_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    upload = form.data.get("transcript")
    vtt = await upload.read() if upload is not None and hasattr(upload, "read") else b""
    return await run_in_threadpool(_change, key, interview_id, request, db, user, form, vtt)


def _change(
    key: str, interview_id: RowId, request: Request, db: Session, user: User, form: Form, vtt: bytes
) -> Response:
    """Apply the submitted change (database work: runs in the thread pool)."""
    actor = users.actor_for(user)
    number = incident_key(key)
    action = form.text("action")
    with writing_as(db, user):
        if action == "reader":
            iv.name_reader(db, actor, number, interview_id, form.text("email", required=True))
        elif action == "question":
            iv.add_question(db, actor, number, interview_id, form.text("text"))
        elif action == "quote":
            iv.quote(
                db,
                actor,
                number,
                interview_id,
                passage=form.text("passage"),
                kind=form.text("kind") or "theme",
            )
        elif action == "transcript":
            text = vtt.decode("utf-8", "replace") if vtt else form.text("vtt", limit=2_000_000)
            start = form.moment("recording_start", form.zone())
            cues = parse_vtt(
                text if "\n" in text else text + "\n", recording_start=start, source="interview.vtt"
            )
            iv.attach_transcript(db, actor, number, interview_id, cues)
        else:
            iv.update_interview(
                db,
                actor,
                number,
                interview_id,
                scheduled_at=form.moment("scheduled_at", form.zone()),
                held_at=form.moment("held_at", form.zone()),
                consent=form.flag("consent") if "consent_shown" in form.data else None,
                notes=form.text("notes", limit=200_000) if "notes" in form.data else None,
                recording_url=form.text("recording_url") if "recording_url" in form.data else None,
            )
    return see_other(
        request, f"/incidents/INC-{number}/interviews#interview-{interview_id}", "Interview saved"
    )
