"""The review page's read model: everything `/incidents/INC-n/review` shows, gathered from
the learning review's use cases (`services.reviews`): the review and its investigator's
warnings, the latest calibration document and its votes, the meeting, its attendance and
parking lot, and the survey summary."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from afteraction.core import reviews as rules
from afteraction.core.access import Actor
from afteraction.services import incidents as repo
from afteraction.services.reviews import (
    attendance,
    investigator_warnings,
    latest_calibration,
    meeting_of,
    parking_lot,
    results,
    review_of,
    survey_summary,
)
from afteraction.storage.review_tables import (
    Attendance,
    CalibrationDocument,
    Meeting,
    ParkingLotItem,
    Review,
)
from afteraction.storage.tables import Incident


@dataclass(slots=True)
class ReviewView:
    """Everything the review page shows."""

    incident: Incident
    review: Review
    warnings: list[str]
    calibration: CalibrationDocument | None
    results: list[tuple[str, int]]
    meeting: Meeting | None
    attendance: list[Attendance]
    parking: list[ParkingLotItem]
    survey: rules.SurveySummary | None


def review_view(session: Session, actor: Actor, key: str | int) -> ReviewView:
    incident = repo.get_incident(session, actor, key)
    review = review_of(session, incident) or Review(incident_id=incident.id, state="unassigned")
    warnings = (
        investigator_warnings(session, actor, incident, review.investigator_person_id)
        if review.investigator_person_id
        else []
    )
    document = latest_calibration(session, review) if review.id else None
    meeting = meeting_of(session, review) if review.id else None
    return ReviewView(
        incident=incident,
        review=review,
        warnings=warnings,
        calibration=document,
        results=results(session, document) if document else [],
        meeting=meeting,
        attendance=attendance(session, meeting) if meeting else [],
        parking=parking_lot(session, meeting) if meeting else [],
        survey=survey_summary(session, meeting) if meeting else None,
    )
