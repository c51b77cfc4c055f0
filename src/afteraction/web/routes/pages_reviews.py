"""Pages of the learning review: the review page (investigator, lifecycle, calibration and
votes, meeting, survey) and the overdue list. The report itself is in `pages_reports`.

Writes go through `services.reviews` in one transaction each and redirect back (303).
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from afteraction.core import reviews as review_rules
from afteraction.core.errors import ValidationError
from afteraction.services import report_export, reviews, users
from afteraction.services.review_page import ReviewView, review_view
from afteraction.storage.tables import Person
from afteraction.web.deps import CurrentUser, DbSession
from afteraction.web.routes.pages_forms import (
    can_write,
    incident_url,
    render_page,
    write_then_back,
)
from afteraction.web.routes.pages_incidents import FormDep, incident_key
from afteraction.web.schemas.common import RowId
from afteraction.web.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)


# -- review ------------------------------------------------------------------------------


@dataclass(slots=True)
class ReviewPage:
    view: ReviewView
    people: list[Person]
    can_write: bool
    states: tuple[str, ...]
    my_votes: set[str] = field(default_factory=set)
    agenda_html: Any = ""
    calibration_html: Any = ""
    min_themes: int = review_rules.MIN_THEMES
    max_themes: int = review_rules.MAX_THEMES
    questions: Any = field(default_factory=lambda: review_rules.SURVEY_QUESTIONS)


@router.get("/incidents/{key}/review")
def review_page(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    actor = users.actor_for(user)
    view = review_view(db, actor, incident_key(key))
    page = ReviewPage(
        view=view,
        people=list(db.scalars(select(Person).order_by(Person.name).limit(2000))),
        can_write=can_write(actor),
        states=review_rules.allowed_next(view.review.state),
    )
    if view.calibration is not None:
        page.my_votes = reviews.my_votes(db, view.calibration, user.id)
        page.calibration_html = report_export.body_html(view.calibration.body)
    if view.meeting is not None:
        page.agenda_html = report_export.body_html(view.meeting.agenda)
    return render_page(request, "review.html", page, user=user)


@router.post("/incidents/{key}/review/assign")
def review_assign(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        person_id = form.integer("person_id")
        if person_id is None:
            raise ValidationError("choose a person", field="person_id")
        _, warnings = reviews.assign_investigator(db, actor, number, person_id)
        return "Investigator assigned." + (" Warning: " + " ".join(warnings) if warnings else "")

    return write_then_back(request, db, user, incident_url(number, "/review"), write)


@router.post("/incidents/{key}/review/state")
def review_state(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        state = form.text("state", limit=20, required=True)
        reviews.change_state(db, actor, number, state, reason=form.text("reason", limit=2000))
        return f"Review moved to {state}."

    return write_then_back(request, db, user, incident_url(number, "/review"), write)


@router.post("/incidents/{key}/review/calibration")
def calibration_generate(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        document = reviews.generate_calibration(db, actor, number)
        return f"Calibration document generated with {len(document.themes)} themes."

    return write_then_back(request, db, user, incident_url(number, "/review#calibration"), write)


@router.post("/incidents/{key}/review/calibration/{doc_id}/share")
def calibration_share(
    key: str, doc_id: RowId, request: Request, db: DbSession, user: CurrentUser
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        sent = reviews.share_calibration(db, actor, doc_id)
        return f"Shared with {len(sent)} participants."

    return write_then_back(request, db, user, incident_url(number, "/review#calibration"), write)


@router.post("/incidents/{key}/review/calibration/{doc_id}/vote")
def calibration_vote(
    key: str, doc_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        picked = reviews.vote(db, actor, doc_id, form.many("themes", limit=50))
        return f"Your vote for {len(picked)} themes is recorded."

    return write_then_back(request, db, user, incident_url(number, "/review#calibration"), write)


@router.post("/incidents/{key}/review/meeting")
def meeting_plan(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        reviews.plan_meeting(db, actor, number)
        return "Agenda built from the chosen themes."

    return write_then_back(request, db, user, incident_url(number, "/review#meeting"), write)


@router.post("/incidents/{key}/review/meeting/{meeting_id}/record")
def meeting_record(
    key: str, meeting_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        ids = [int(v) for v in form.many("attendees", limit=500) if v.isdigit()]
        reviews.record_meeting(
            db, actor, meeting_id, attendees=ids, notes=form.text("notes", limit=100_000)
        )
        return f"Meeting recorded with {len(ids)} attendees."

    return write_then_back(request, db, user, incident_url(number, "/review#meeting"), write)


@router.post("/incidents/{key}/review/meeting/{meeting_id}/park")
def meeting_park(
    key: str, meeting_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        reviews.park(db, actor, meeting_id, form.text("text", limit=2000, required=True))
        return "Added to the parking lot."

    return write_then_back(request, db, user, incident_url(number, "/review#meeting"), write)


@router.post("/incidents/{key}/review/meeting/{meeting_id}/survey")
def meeting_survey(
    key: str, meeting_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        answer = review_rules.SurveyAnswer(
            learned=form.text("learned", limit=5) == "yes",
            again=form.text("again", limit=5) == "yes",
            useful=form.text("useful", limit=5000),
            change=form.text("change", limit=5000),
        )
        reviews.answer_survey(db, actor, meeting_id, answer)
        return "Thank you: your answers are recorded."

    return write_then_back(request, db, user, incident_url(number, "/review#survey"), write)


@router.get("/reviews/overdue")
def overdue_page(request: Request, db: DbSession, user: CurrentUser) -> Response:
    today = datetime.now(UTC).date()
    rows = reviews.overdue(db, users.actor_for(user), today)
    return render(request, "reviews_overdue.html", {"rows": rows, "today": today}, user=user)
