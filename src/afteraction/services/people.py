"""People & coordination of one incident: the one place that gathers the incident's evidence
and analyses its people. The People tab, the API, the CLI, the report's facts, its diagrams and
the interview planner all call `analyse` (or `of_incident` once access is checked), so they
see the same people, pages and first involvement; the API and `--json` print
`analyse_people`'s read model.

Must not live here: the analysis rules (`core.analysis.people`), the evidence queries
(`storage.analysis_bundle`), presentation.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from afteraction.core.access import Actor
from afteraction.core.analysis.people import PeopleAnalysis, analyze_people
from afteraction.services import incidents
from afteraction.services.schemas.people import PeopleAnalysisRead, people_analysis_read
from afteraction.storage.analysis_bundle import IncidentEvidence, build_incident_evidence
from afteraction.storage.tables import Incident


@dataclass(frozen=True, slots=True)
class PeopleView:
    incident: Incident
    evidence: IncidentEvidence
    analysis: PeopleAnalysis

    @property
    def has_evidence(self) -> bool:
        return bool(self.evidence.bundle.messages or self.evidence.bundle.pages)


def analyse(session: Session, actor: Actor, key: str | int, *, history: bool = True) -> PeopleView:
    """The people analysis of incident `key`, for an actor allowed to read it."""
    return of_incident(session, incidents.get_incident(session, actor, key), history=history)


def of_incident(session: Session, incident: Incident, *, history: bool = True) -> PeopleView:
    """The people analysis of an incident the caller has already read with access checked.

    `history` adds the repeat-helper counts (past incidents), one more query; everything
    else in the analysis is the same with or without it."""
    evidence = build_incident_evidence(session, incident.id, with_history=history)
    analysis = analyze_people(
        evidence.bundle, evidence.context, history=evidence.history if history else None
    )
    return PeopleView(incident, evidence, analysis)


def analyse_people(session: Session, actor: Actor, *, incident: str | int) -> PeopleAnalysisRead:
    """The read model of the incident's analysis (INC-42 or 42), which `actor` must see:
    what `GET /api/v1/incidents/{id}/people` and `afteraction incident people --json` print."""
    view = analyse(session, actor, incident)
    return people_analysis_read(view.incident.public_id, view.analysis)
