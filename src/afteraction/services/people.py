"""Use case: analyse the people & coordination of one incident (who arrived how, on or off
call, off hours, team fit, tenure, participation), for the API and the CLI alike."""

from __future__ import annotations

from sqlalchemy.orm import Session

from afteraction.core.access import Actor
from afteraction.core.analysis.people import analyze_people
from afteraction.services.schemas.people import PeopleAnalysisRead, people_analysis_read
from afteraction.storage import incidents as repo
from afteraction.storage.analysis_bundle import build_incident_evidence


def analyse_people(session: Session, actor: Actor, *, incident: str | int) -> PeopleAnalysisRead:
    """The analysis of the incident `incident` (INC-42 or 42), which `actor` must see."""
    row = repo.get_incident(session, actor, incident)
    evidence = build_incident_evidence(session, row.id)
    analysis = analyze_people(evidence.bundle, evidence.context, history=evidence.history)
    return people_analysis_read(row.public_id, analysis)
