"""Interviews of an incident, kept confidential: planning, consent, live notes, questions,
recording links, attached transcripts, named readers, and deliberate quotes.

Who may see an interview (its existence included) is one rule,
`storage.visibility.interview_visibility_clause`, reached through `readable_ids`: the
incident's investigators (people holding the "investigator" role on the incident, at any
time), the user who runs the interview, and users one of them named as readers. Nobody
else — admins included — gets it from any list, page, search, activity feed, count, error,
export or report; to everyone else an interview does not exist (NotFound). Audit entries
for interviews carry ids only, never notes, links, questions or transcript text, and the
activity feed shows them only to those who may read the interview. Interview transcripts
are `InterviewCue` rows of their interview, never an imported `Source`, so the list of
imports, source removal and incident evidence never reach them. Quoting a passage into the
analysis is the one way content leaves an interview, and every quote is logged
(`InterviewQuote` plus an audit entry).

The planner (`planner`) suggests whom to interview from the evidence everyone who sees the
incident may read. A person with an interview of the incident that the actor may see is
shown as already planned, and planning a second one is refused (`Conflict`); an interview
the actor may not see changes nothing, so neither the planner nor the refusal tells
anyone an interview exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from afteraction.core import times
from afteraction.core.access import Actor, require_analysis
from afteraction.core.analysis.interviews import (
    InterviewSuggestion,
    draft_questions,
    suggest_interviewees,
)
from afteraction.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from afteraction.services import incidents as repo
from afteraction.services import people as people_service
from afteraction.services.analysis import MAX_TEXT, add_note
from afteraction.storage import audit
from afteraction.storage.analysis_tables import (
    AnalysisNote,
    Interview,
    InterviewCue,
    InterviewQuestion,
    InterviewQuote,
    InterviewReader,
)
from afteraction.storage.tables import Incident, Person, RoleAssignment, User
from afteraction.storage.types import utcnow
from afteraction.storage.visibility import INVESTIGATOR_ROLE as INVESTIGATOR_ROLE
from afteraction.storage.visibility import interview_visibility_clause


def is_incident_investigator(session: Session, actor: Actor, incident_id: int) -> bool:
    if actor.person_id is None:
        return False
    query = select(RoleAssignment.id).where(
        RoleAssignment.incident_id == incident_id,
        RoleAssignment.person_id == actor.person_id,
        RoleAssignment.role == INVESTIGATOR_ROLE,
    )
    return session.scalar(query.limit(1)) is not None


def readable_ids(session: Session, actor: Actor, incident_id: int | None = None) -> set[int]:
    """The ids of the interviews `actor` may see (of one incident, or of all): the one place
    every list, feed, count and error asks."""
    query = select(Interview.id).where(interview_visibility_clause(actor))
    if incident_id is not None:
        query = query.where(Interview.incident_id == incident_id)
    return set(session.scalars(query))


def may_plan(session: Session, actor: Actor, incident_id: int) -> bool:
    """Planning interviews: the incident's investigators, or admins/investigator-role users
    (who then run the interview and so may read it)."""
    if is_incident_investigator(session, actor, incident_id):
        return True
    return actor.role in ("admin", "investigator")


def planning_incident(session: Session, actor: Actor, key: str | int) -> Incident:
    """The incident, when the actor may plan its interviews (NotFound when it is hidden,
    PermissionDenied when the actor may not plan)."""
    incident = repo.get_incident(session, actor, key)
    if not may_plan(session, actor, incident.id):
        require_analysis(actor)
    return incident


def list_interviews(session: Session, actor: Actor, key: str | int) -> list[Interview]:
    """The interviews of the incident the actor may see (none for everyone else)."""
    incident = repo.get_incident(session, actor, key)
    query = select(Interview).where(
        Interview.incident_id == incident.id, interview_visibility_clause(actor)
    )
    return list(session.scalars(query.order_by(Interview.scheduled_at, Interview.id)))


def _of_incident(session: Session, actor: Actor, key: str | int, interview_id: int) -> Interview:
    incident = repo.get_incident(session, actor, key)
    row = session.get(Interview, interview_id)
    if row is None or row.incident_id != incident.id:
        raise NotFound("interview", str(interview_id))
    return row


def get_interview(session: Session, actor: Actor, key: str | int, interview_id: int) -> Interview:
    row = _of_incident(session, actor, key, interview_id)
    if interview_id not in readable_ids(session, actor, row.incident_id):
        raise NotFound("interview", str(interview_id))
    return row


def _editable(session: Session, actor: Actor, key: str | int, interview_id: int) -> Interview:
    """Readers may read; only the incident's investigators and the interviewer may edit."""
    row = get_interview(session, actor, key, interview_id)
    if row.investigator_user_id != actor.user_id and not is_incident_investigator(
        session, actor, row.incident_id
    ):
        raise PermissionDenied("named readers may read this interview but not change it")
    return row


def _record(session: Session, actor: Actor, action: str, row: Interview) -> None:
    """Audit without content: ids only."""
    audit.record(
        session,
        actor,
        action,
        target_type="interview",
        target_id=row.id,
        incident_id=row.incident_id,
        after={"interview_id": row.id},
    )


@dataclass(frozen=True)
class PlannerRow:
    """One suggested interviewee: why, their directory row (None when they have none),
    drafted questions, and the interview of them the actor may see, if any."""

    suggestion: InterviewSuggestion
    person_id: int | None
    questions: list[str]
    planned: Interview | None


def planned_interviews(session: Session, actor: Actor, incident_id: int) -> dict[int, Interview]:
    """Person id -> their first interview of the incident that `actor` may see."""
    query = select(Interview).where(
        Interview.incident_id == incident_id, interview_visibility_clause(actor)
    )
    found: dict[int, Interview] = {}
    for row in session.scalars(query.order_by(Interview.id)):
        found.setdefault(row.person_id, row)
    return found


def planner(session: Session, actor: Actor, key: str | int) -> list[PlannerRow]:
    """Suggested interviewees of the incident with drafted questions, each marked with the
    interview of them already planned (or held) that the actor may see."""
    incident = repo.get_incident(session, actor, key)
    view = people_service.of_incident(session, incident, history=False)
    evidence, analysis = view.evidence, view.analysis
    planned = planned_interviews(session, actor, incident.id)
    rows = []
    for suggestion in suggest_interviewees(analysis, evidence.bundle, evidence.context):
        person_id = evidence.person_ids.get(suggestion.person_key)
        rows.append(
            PlannerRow(
                suggestion=suggestion,
                person_id=person_id,
                questions=draft_questions(suggestion.person_key, evidence.bundle, analysis),
                planned=planned.get(person_id) if person_id is not None else None,
            )
        )
    return rows


def plan_interview(
    session: Session,
    actor: Actor,
    key: str | int,
    *,
    person_id: int,
    scheduled_at: datetime | None = None,
    questions: list[str] | None = None,
) -> Interview:
    """Plan an interview of `person_id`; refused when the actor may see one of them for
    this incident already (see the module's docstring)."""
    incident = planning_incident(session, actor, key)
    person = session.get(Person, person_id)
    if person is None:
        raise ValidationError(f"no person with id {person_id}", field="person_id")
    before = planned_interviews(session, actor, incident.id).get(person_id)
    if before is not None:
        state = "was interviewed" if before.held_at is not None else "already has an interview"
        raise Conflict(
            f"{person.name} {state} for {incident.public_id} (interview {before.id}): "
            "open that interview instead of planning another",
            details={"field": "person_id", "interview_id": before.id},
        )
    row = Interview(
        incident_id=incident.id,
        person_id=person_id,
        investigator_user_id=actor.user_id,
        scheduled_at=times.as_utc(scheduled_at, "scheduled_at"),
    )
    session.add(row)
    session.flush()
    for position, text in enumerate(questions or ()):
        session.add(
            InterviewQuestion(
                interview_id=row.id, position=position, text=text[:MAX_TEXT], drafted=True
            )
        )
    _record(session, actor, "interview.planned", row)
    return row


def update_interview(
    session: Session,
    actor: Actor,
    key: str | int,
    interview_id: int,
    *,
    scheduled_at: datetime | None = None,
    held_at: datetime | None = None,
    consent: bool | None = None,
    notes: str | None = None,
    recording_url: str | None = None,
) -> Interview:
    row = _editable(session, actor, key, interview_id)
    if scheduled_at is not None:
        row.scheduled_at = times.as_utc(scheduled_at, "scheduled_at")
    if held_at is not None:
        row.held_at = times.as_utc(held_at, "held_at")
    if consent is not None and consent != row.consent:
        row.consent = consent
        row.consent_at = utcnow() if consent else None
    if notes is not None:
        if len(notes) > 200_000:
            raise ValidationError("notes are limited to 200,000 characters", field="notes")
        row.notes = notes
    if recording_url is not None:
        url = recording_url.strip()
        if url and not url.startswith(("https://", "http://")):
            raise ValidationError(
                "the recording link must start with https://", field="recording_url"
            )
        row.recording_url = url[:2000]
    row.updated_at = utcnow()
    _record(session, actor, "interview.updated", row)
    return row


def questions_of(session: Session, interview_id: int) -> list[InterviewQuestion]:
    query = select(InterviewQuestion).where(InterviewQuestion.interview_id == interview_id)
    return list(session.scalars(query.order_by(InterviewQuestion.position, InterviewQuestion.id)))


def add_question(
    session: Session, actor: Actor, key: str | int, interview_id: int, text: str
) -> InterviewQuestion:
    row = _editable(session, actor, key, interview_id)
    text = text.strip()
    if not text:
        raise ValidationError("write the question", field="text")
    position = (
        session.scalar(select(func.count()).where(InterviewQuestion.interview_id == row.id)) or 0
    )
    question = InterviewQuestion(interview_id=row.id, position=position, text=text[:MAX_TEXT])
    session.add(question)
    _record(session, actor, "interview.question_added", row)
    return question


def readers_of(session: Session, interview_id: int) -> list[User]:
    query = (
        select(User)
        .join(InterviewReader, InterviewReader.user_id == User.id)
        .where(InterviewReader.interview_id == interview_id)
    )
    return list(session.scalars(query.order_by(User.email)))


def name_reader(
    session: Session, actor: Actor, key: str | int, interview_id: int, email: str
) -> User:
    row = _editable(session, actor, key, interview_id)
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise ValidationError(f"no user with email {email!r}", field="email")
    if session.get(InterviewReader, (row.id, user.id)) is None:
        session.add(InterviewReader(interview_id=row.id, user_id=user.id))
    _record(session, actor, "interview.reader_named", row)
    return user


def attach_transcript(
    session: Session,
    actor: Actor,
    key: str | int,
    interview_id: int,
    cues: Sequence[Any],
) -> int:
    """Store parsed transcript cues (core `TranscriptCue`s) as the interview's own rows,
    after any it already has; returns how many were added. Cues the interview already holds
    (the same times, speaker and words: the same file attached again) are not added twice.
    Its editors may attach; so may the command line (no user), which holds the database
    anyway and reads nothing back."""
    if actor.user_id is None:
        row = _of_incident(session, actor, key, interview_id)
    else:
        row = _editable(session, actor, key, interview_id)
    held = set(
        session.execute(
            select(
                InterviewCue.start_seconds,
                InterviewCue.end_seconds,
                InterviewCue.speaker,
                InterviewCue.text,
            ).where(InterviewCue.interview_id == row.id)
        ).all()
    )
    cues = [
        cue
        for cue in cues
        if (
            cue.start_seconds,
            cue.end_seconds,
            cue.speaker[:200] if cue.speaker else None,
            cue.text,
        )
        not in held
    ]
    if not cues:
        return 0
    first = session.scalar(
        select(func.coalesce(func.max(InterviewCue.seq) + 1, 0)).where(
            InterviewCue.interview_id == row.id
        )
    )
    for seq, cue in enumerate(cues, start=first or 0):
        session.add(
            InterviewCue(
                interview_id=row.id,
                seq=seq,
                start_seconds=cue.start_seconds,
                end_seconds=cue.end_seconds,
                at=cue.at,
                speaker=cue.speaker[:200] if cue.speaker else None,
                text=cue.text,
            )
        )
    _record(session, actor, "interview.transcript_attached", row)
    return len(cues)


def transcript_of(session: Session, interview_id: int) -> list[InterviewCue]:
    query = select(InterviewCue).where(InterviewCue.interview_id == interview_id)
    return list(session.scalars(query.order_by(InterviewCue.seq)))


def quote(
    session: Session,
    actor: Actor,
    key: str | int,
    interview_id: int,
    *,
    passage: str,
    kind: str = "theme",
) -> AnalysisNote:
    """Deliberately quote a passage of an interview into the analysis as a note; logged."""
    row = _editable(session, actor, key, interview_id)
    passage = passage.strip()
    if not passage:
        raise ValidationError("choose the passage to quote", field="passage")
    incident = session.get(Incident, row.incident_id)
    assert incident is not None
    note = add_note(session, actor, incident.number, kind=kind, text=f"\u201c{passage}\u201d")
    session.add(
        InterviewQuote(
            interview_id=row.id, note_id=note.id, passage=passage, quoted_by_user_id=actor.user_id
        )
    )
    audit.record(
        session,
        actor,
        "interview.quoted",
        target_type="interview",
        target_id=row.id,
        incident_id=row.incident_id,
        after={"interview_id": row.id, "note_id": note.id},
    )
    return note


def quotes_of(session: Session, interview_id: int) -> list[InterviewQuote]:
    query = select(InterviewQuote).where(InterviewQuote.interview_id == interview_id)
    return list(session.scalars(query.order_by(InterviewQuote.at, InterviewQuote.id)))
