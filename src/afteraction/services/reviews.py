"""The learning review on the database: one review per incident, its investigator (with the
warnings of method.md 1.1), lifecycle and due dates, the calibration document and its votes,
the review meeting (agenda, attendance, parking lot, notes) and the survey afterwards.

Rules come from `afteraction.core.reviews`. Interview rows are read only for what
`core.analysis.interviews.interviews_held` may say (how many, the interviewees' incident
roles, and names with recorded consent); their notes and recordings are never selected.
Callers own the transaction (`storage.db.writing`); every write is audited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from afteraction.core import reviews as rules
from afteraction.core.access import Actor, require_analysis, require_write
from afteraction.core.analysis.interviews import HeldInterview, interviews_held
from afteraction.core.errors import NotFound, ValidationError
from afteraction.core.incidents import UNFINISHED_ACTION_ITEMS
from afteraction.services import action_items
from afteraction.services import incidents as repo
from afteraction.storage import audit, notifications
from afteraction.storage.analysis_tables import AnalysisNote, Interview
from afteraction.storage.evidence_tables import Channel, IncidentChannel, Message, Page, Source
from afteraction.storage.review_tables import (
    Attendance,
    CalibrationDocument,
    CalibrationVote,
    Meeting,
    ParkingLotItem,
    Review,
    SurveyResponse,
)
from afteraction.storage.tables import Incident, Person, RoleAssignment, TeamMembership, User
from afteraction.storage.types import utcnow
from afteraction.storage.visibility import visibility_clause

OPEN_STATES = tuple(rules.OPEN_REVIEW_STATES)


def _end_day(incident: Incident) -> date:
    moment = incident.resolved_at or incident.mitigated_at or incident.started_at
    return (moment or incident.created_at).date()


def review_of(session: Session, incident: Incident) -> Review | None:
    return session.scalar(select(Review).where(Review.incident_id == incident.id))


def ensure_review(
    session: Session,
    incident: Incident,
    due_rules: Mapping[str, rules.DueRule] = rules.DEFAULT_DUE_RULES,
) -> Review:
    """The incident's review, created (unassigned, with due dates) when missing."""
    review = review_of(session, incident)
    if review is None:
        meeting, report = rules.due_dates(incident.severity, _end_day(incident), due_rules)
        review = Review(incident_id=incident.id, meeting_due=meeting, report_due=report)
        session.add(review)
        session.flush()
    return review


# -- investigator ------------------------------------------------------------------------


def responders_of(session: Session, incident_id: int) -> dict[int, str]:
    """{person id: roles held} of everyone who held a role on the incident."""
    held: dict[int, list[str]] = {}
    query = select(RoleAssignment.person_id, RoleAssignment.role).where(
        RoleAssignment.incident_id == incident_id, RoleAssignment.role != "investigator"
    )
    for person_id, role in session.execute(query):
        held.setdefault(person_id, []).append(role)
    return {pid: ", ".join(sorted(set(roles))) for pid, roles in held.items()}


def open_review_count(
    session: Session, actor: Actor, person_id: int, *, exclude: int | None = None
) -> int:
    """The person's open reviews on incidents `actor` may see (a count shown to them)."""
    query = (
        select(func.count(Review.id))
        .join(Incident, Incident.id == Review.incident_id)
        .where(
            Review.investigator_person_id == person_id,
            Review.state.in_(OPEN_STATES),
            visibility_clause(actor),
        )
    )
    if exclude is not None:
        query = query.where(Review.incident_id != exclude)
    return int(session.scalar(query) or 0)


def investigator_warnings(
    session: Session, actor: Actor, incident: Incident, person_id: int, *, limit: int = 3
) -> list[str]:
    responders = responders_of(session, incident.id)
    managers: dict[int, int | None] = {}
    for pid, manager in session.execute(select(Person.id, Person.manager_id)):
        managers[pid] = manager
    wanted = {person_id, *responders}
    names: dict[int, str] = {}
    for pid, name in session.execute(select(Person.id, Person.name).where(Person.id.in_(wanted))):
        names[pid] = name
    return rules.assignment_warnings(
        person_id,
        responders,
        managers,
        open_review_count(session, actor, person_id, exclude=incident.id),
        limit=limit,
        names=names,
    )


def assign_investigator(
    session: Session, actor: Actor, key: str | int, person_id: int
) -> tuple[Review, list[str]]:
    """Make `person_id` the investigator; returns the review and the warnings (assignment
    goes ahead: warnings inform, they do not forbid)."""
    require_write(actor)
    incident = repo.get_incident(session, actor, key)
    person = session.get(Person, person_id)
    if person is None:
        raise ValidationError(f"no person {person_id}", field="person_id")
    review = ensure_review(session, incident)
    warnings = investigator_warnings(session, actor, incident, person_id)
    before = {"investigator": review.investigator_person_id, "state": review.state}
    review.investigator_person_id = person_id
    review.investigator_user_id = session.scalar(select(User.id).where(User.person_id == person_id))
    if review.state == "unassigned":
        review.state = "in progress"
    review.updated_at = utcnow()
    audit.record(
        session,
        actor,
        "review.assigned",
        target_type="review",
        target_id=review.id,
        incident_id=incident.id,
        before=before,
        after={"investigator": person.name, "state": review.state, "warnings": warnings},
    )
    return review, warnings


def change_state(
    session: Session, actor: Actor, key: str | int, state: str, *, reason: str = ""
) -> Review:
    require_write(actor)
    incident = repo.get_incident(session, actor, key)
    review = ensure_review(session, incident)
    before = review.state
    review.state = rules.check_transition(review.state, state, reason=reason)
    if state == "published":
        raise ValidationError(
            "a review is published by publishing its report (from the report editor)",
            field="state",
        )
    review.not_required_reason = reason.strip() if state == "not required" else ""
    review.updated_at = utcnow()
    audit.record(
        session,
        actor,
        "review.state_changed",
        target_type="review",
        target_id=review.id,
        incident_id=incident.id,
        before={"state": before},
        after={"state": state, "reason": reason},
    )
    return review


def reopen_for_report(session: Session, incident: Incident) -> None:
    """The report went back from published to review: so does the review."""
    review = ensure_review(session, incident)
    if review.state == "published":
        review.state = "in review"
        review.updated_at = utcnow()


def set_due_dates(
    session: Session, actor: Actor, key: str | int, meeting: date | None, report: date | None
) -> Review:
    require_write(actor)
    review = ensure_review(session, repo.get_incident(session, actor, key))
    review.meeting_due, review.report_due = meeting, report
    audit.record(
        session,
        actor,
        "review.due_changed",
        target_type="review",
        target_id=review.id,
        incident_id=review.incident_id,
        after={"meeting_due": meeting, "report_due": report},
    )
    return review


def overdue(session: Session, actor: Actor, today: date) -> list[Review]:
    """Open reviews past their next deadline, on incidents the actor may see."""
    query = (
        select(Review)
        .join(Incident, Incident.id == Review.incident_id)
        .where(Review.state.in_(OPEN_STATES), visibility_clause(actor))
        .order_by(Review.meeting_due, Review.id)
    )
    return [
        r
        for r in session.scalars(query)
        if rules.is_overdue(r.state, r.meeting_due, r.report_due, today)
    ]


# -- participants ------------------------------------------------------------------------


def participant_ids(session: Session, incident_id: int) -> set[int]:
    """People who held a role or wrote in the incident's channels (within their window)."""
    people = set(
        session.scalars(
            select(RoleAssignment.person_id).where(RoleAssignment.incident_id == incident_id)
        )
    )
    authors = (
        select(Message.author_person_id)
        .join(IncidentChannel, IncidentChannel.channel_id == Message.channel_id)
        .where(IncidentChannel.incident_id == incident_id, Message.author_person_id.is_not(None))
        .distinct()
    )
    people.update(pid for pid in session.scalars(authors) if pid is not None)
    return people


def team_of(session: Session, person_id: int) -> int | None:
    query = select(TeamMembership.team_id).where(
        TeamMembership.person_id == person_id, TeamMembership.end.is_(None)
    )
    return session.scalar(query.order_by(TeamMembership.id.desc()).limit(1))


# -- calibration -------------------------------------------------------------------------


def _data_reviewed(session: Session, incident_id: int) -> list[str]:
    lines = []
    channels = session.execute(
        select(Channel.name, func.count(Message.id))
        .join(IncidentChannel, IncidentChannel.channel_id == Channel.id)
        .outerjoin(Message, Message.channel_id == Channel.id)
        .where(IncidentChannel.incident_id == incident_id)
        .group_by(Channel.name)
        .order_by(Channel.name)
    )
    for name, count in channels:
        lines.append(f"Chat channel #{name} ({count} messages)")
    pages = session.scalar(select(func.count(Page.id)).where(Page.incident_id == incident_id))
    if pages:
        lines.append(f"Paging history ({pages} page events)")
    kinds = session.scalars(
        select(Source.kind).where(Source.incident_id == incident_id).distinct()
    ).all()
    lines += [f"Imported source: {kind}" for kind in sorted(kinds) if kind not in ("slack",)]
    return lines


def analysis_outline(session: Session, incident_id: int) -> dict[str, list[str]]:
    """Analysis notes by kind (theme, open_question, ...) and, as "interviewees", the lines
    `interviews_held` allows about the interviews held. Interview notes and recordings are
    never read."""
    notes: dict[str, list[str]] = {}
    query = select(AnalysisNote.kind, AnalysisNote.text).where(
        AnalysisNote.incident_id == incident_id
    )
    for kind, text in session.execute(query.order_by(AnalysisNote.id)):
        notes.setdefault(kind, []).append(text)
    held = session.execute(
        select(Interview.person_id, Person.name, Interview.consent)
        .join(Person, Person.id == Interview.person_id)
        .where(Interview.incident_id == incident_id, Interview.held_at.is_not(None))
        .order_by(Interview.held_at, Interview.id)
    ).all()
    roles: dict[int, list[str]] = {}
    assigned = select(RoleAssignment.person_id, RoleAssignment.role).where(
        RoleAssignment.incident_id == incident_id
    )
    for person_id, role in session.execute(assigned.order_by(RoleAssignment.start)):
        roles.setdefault(person_id, []).append(role)
    notes["interviewees"] = list(
        interviews_held(
            [
                HeldInterview(name, tuple(dict.fromkeys(roles.get(person_id, []))), consent)
                for person_id, name, consent in held
            ]
        )
    )
    return notes


def generate_calibration(session: Session, actor: Actor, key: str | int) -> CalibrationDocument:
    require_analysis(actor)
    incident = repo.get_incident(session, actor, key)
    review = ensure_review(session, incident)
    outline = analysis_outline(session, incident.id)
    themes = outline.get("theme", [])
    body = rules.calibration_markdown(
        rules.CalibrationInput(
            incident=incident.public_id,
            title=incident.title,
            data_reviewed=_data_reviewed(session, incident.id),
            interviewees=outline["interviewees"],
            themes=themes,
            open_questions=outline.get("open_question", []),
        )
    )
    document = CalibrationDocument(
        review_id=review.id, body=body, themes=themes, created_by_id=actor.user_id
    )
    session.add(document)
    session.flush()
    if review.state == "in progress":
        review.state = "calibration"
    audit.record(
        session,
        actor,
        "calibration.generated",
        target_type="calibration",
        target_id=document.id,
        incident_id=incident.id,
        after={"themes": len(themes)},
    )
    return document


def latest_calibration(session: Session, review: Review) -> CalibrationDocument | None:
    query = select(CalibrationDocument).where(CalibrationDocument.review_id == review.id)
    return session.scalar(query.order_by(CalibrationDocument.id.desc()).limit(1))


def _document(session: Session, actor: Actor, document_id: int) -> CalibrationDocument:
    document = session.get(CalibrationDocument, document_id)
    if document is None:
        raise NotFound("calibration document", document_id)
    review = session.get(Review, document.review_id)
    assert review is not None
    repo.get_incident(session, actor, review.incident.number)  # visibility
    return document


def share_calibration(session: Session, actor: Actor, document_id: int) -> list[int]:
    """Mark the document shared and notify the participants; returns the notified user ids."""
    require_write(actor)
    document = _document(session, actor, document_id)
    review = session.get(Review, document.review_id)
    assert review is not None
    document.shared_at = utcnow()
    incident = review.incident
    users = notifications.users_of_people(session, participant_ids(session, incident.id))
    notifications.notify(
        session,
        users,
        kind="calibration",
        subject=f"{incident.public_id}: calibration document ready, vote on themes",
        body="Read the calibration document and choose the 2 to 5 themes to discuss.",
        url=f"/incidents/{incident.public_id}/review#calibration",
        incident_id=incident.id,
    )
    audit.record(
        session,
        actor,
        "calibration.shared",
        target_type="calibration",
        target_id=document.id,
        incident_id=incident.id,
        after={"notified": len(users)},
    )
    return users


def vote(session: Session, actor: Actor, document_id: int, themes: Sequence[str]) -> list[str]:
    """Replace the actor's votes on the document with `themes` (2 to 5 of its themes)."""
    if actor.user_id is None:
        raise ValidationError("only a signed-in user can vote", field="themes")
    document = _document(session, actor, document_id)
    picked = rules.check_vote(document.themes, themes)
    for row in session.scalars(
        select(CalibrationVote).where(
            CalibrationVote.document_id == document.id, CalibrationVote.user_id == actor.user_id
        )
    ):
        session.delete(row)
    session.flush()
    for theme in picked:
        session.add(CalibrationVote(document_id=document.id, user_id=actor.user_id, theme=theme))
    return picked


def results(session: Session, document: CalibrationDocument) -> list[tuple[str, int]]:
    votes = session.scalars(
        select(CalibrationVote.theme).where(CalibrationVote.document_id == document.id)
    )
    return rules.tally(document.themes, votes)


def my_votes(session: Session, document: CalibrationDocument, user_id: int) -> set[str]:
    query = select(CalibrationVote.theme).where(
        CalibrationVote.document_id == document.id, CalibrationVote.user_id == user_id
    )
    return set(session.scalars(query))


# -- meeting -----------------------------------------------------------------------------


def meeting_of(session: Session, review: Review) -> Meeting | None:
    query = select(Meeting).where(Meeting.review_id == review.id)
    return session.scalar(query.order_by(Meeting.id.desc()).limit(1))


def plan_meeting(session: Session, actor: Actor, key: str | int) -> Meeting:
    """The review meeting with its agenda built from the chosen themes, the action items
    already done (what has been done) and the open ones (next steps)."""
    require_write(actor)
    incident = repo.get_incident(session, actor, key)
    review = ensure_review(session, incident)
    document = latest_calibration(session, review)
    themes = rules.chosen_themes(results(session, document)) if document else []
    items = action_items.action_items_of(session, incident)
    agenda = rules.meeting_agenda(
        incident.public_id,
        themes,
        [i.title for i in items if i.status == "done"],
        [i.title for i in items if i.status in UNFINISHED_ACTION_ITEMS],
    )
    meeting = meeting_of(session, review)
    if meeting is None:
        meeting = Meeting(review_id=review.id)
        session.add(meeting)
    meeting.agenda = agenda
    if review.state in ("in progress", "calibration"):
        review.state = "meeting"
    session.flush()
    audit.record(
        session,
        actor,
        "meeting.planned",
        target_type="meeting",
        target_id=meeting.id,
        incident_id=incident.id,
    )
    return meeting


def _meeting(session: Session, actor: Actor, meeting_id: int) -> tuple[Meeting, Review]:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound("meeting", meeting_id)
    review = session.get(Review, meeting.review_id)
    assert review is not None
    repo.get_incident(session, actor, review.incident.number)
    return meeting, review


def record_meeting(
    session: Session,
    actor: Actor,
    meeting_id: int,
    *,
    attendees: Sequence[int],
    notes: str | None = None,
) -> Meeting:
    """Set who came (with the team each belonged to then) and the notes; marks it held."""
    require_write(actor)
    meeting, review = _meeting(session, actor, meeting_id)
    wanted = set(attendees)
    known = set(session.scalars(select(Person.id).where(Person.id.in_(wanted))))
    if wanted - known:
        raise ValidationError(f"no person {sorted(wanted - known)[0]}", field="attendees")
    for row in session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id)):
        if row.person_id not in wanted:
            session.delete(row)
        wanted.discard(row.person_id)
    for person_id in sorted(wanted):
        session.add(
            Attendance(
                meeting_id=meeting.id, person_id=person_id, team_id=team_of(session, person_id)
            )
        )
    if notes is not None:
        meeting.notes = notes
    meeting.held_at = meeting.held_at or utcnow()
    audit.record(
        session,
        actor,
        "meeting.recorded",
        target_type="meeting",
        target_id=meeting.id,
        incident_id=review.incident_id,
        after={"attendees": len(attendees)},
    )
    return meeting


def attendance(session: Session, meeting: Meeting) -> list[Attendance]:
    query = select(Attendance).where(Attendance.meeting_id == meeting.id)
    return list(session.scalars(query.order_by(Attendance.id)))


def park(session: Session, actor: Actor, meeting_id: int, text: str) -> ParkingLotItem:
    require_write(actor)
    meeting, review = _meeting(session, actor, meeting_id)
    text = text.strip()
    if not text or len(text) > 2000:
        raise ValidationError("a parking lot item is 1–2000 characters", field="text")
    item = ParkingLotItem(meeting_id=meeting.id, text=text)
    session.add(item)
    session.flush()
    audit.record(
        session,
        actor,
        "meeting.parked",
        target_type="meeting",
        target_id=meeting.id,
        incident_id=review.incident_id,
        after={"text": text},
    )
    return item


def parking_lot(session: Session, meeting: Meeting) -> list[ParkingLotItem]:
    query = select(ParkingLotItem).where(ParkingLotItem.meeting_id == meeting.id)
    return list(session.scalars(query.order_by(ParkingLotItem.id)))


def answer_survey(
    session: Session, actor: Actor, meeting_id: int, answer: rules.SurveyAnswer
) -> SurveyResponse:
    """One response per user per meeting; answering again replaces the answer."""
    if actor.user_id is None:
        raise ValidationError("only a signed-in user can answer", field="learned")
    meeting, _ = _meeting(session, actor, meeting_id)
    for name in ("useful", "change"):
        if len(getattr(answer, name)) > 5000:
            raise ValidationError(f"{name} is limited to 5000 characters", field=name)
    row = session.scalar(
        select(SurveyResponse).where(
            SurveyResponse.meeting_id == meeting.id, SurveyResponse.user_id == actor.user_id
        )
    )
    if row is None:
        row = SurveyResponse(meeting_id=meeting.id, user_id=actor.user_id)
        session.add(row)
    row.learned, row.again = answer.learned, answer.again
    row.useful, row.change = answer.useful.strip(), answer.change.strip()
    session.flush()
    return row


def survey_summary(session: Session, meeting: Meeting) -> rules.SurveySummary:
    rows = session.scalars(select(SurveyResponse).where(SurveyResponse.meeting_id == meeting.id))
    return rules.summarise_survey(
        rules.SurveyAnswer(r.learned, r.again, r.useful, r.change) for r in rows
    )
