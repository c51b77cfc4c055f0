"""The demo flagship's analysis, already under way, written through the analysis and
interview services: annotations on key messages, accepted timeline entries, themes,
contributing factors, risks, mitigators, difficulties, open questions and an interview
plan with confidential notes. What to write comes from `data/flagship/analysis.yaml` and
`interview-notes.md` (`flagship.flagship_analysis`).

`annotate_flagship(session, incident_number)` works on whatever flagship messages were
imported, finding them by their text; when the evidence is not there yet it does nothing
and logs why. It runs inside the caller's write transaction and commits nothing.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM, Actor
from afteraction.core.analysis.interviews import draft_questions, suggest_interviewees
from afteraction.core.analysis.people import analyze_people
from afteraction.core.errors import AfteractionError
from afteraction.demo.flagship import flagship_analysis
from afteraction.services import analysis as work
from afteraction.services import interviews as iv
from afteraction.services import timeline as timeline_service
from afteraction.storage.analysis_bundle import build_incident_evidence
from afteraction.storage.analysis_tables import AnalysisNote
from afteraction.storage.evidence_tables import IncidentChannel, Message
from afteraction.storage.tables import Incident

log = logging.getLogger(__name__)


def _message_ids(session: Session, incident_id: int) -> list[tuple[int, str]]:
    query = (
        select(Message.id, Message.text_plain)
        .join(IncidentChannel, IncidentChannel.channel_id == Message.channel_id)
        .where(
            IncidentChannel.incident_id == incident_id,
            Message.hidden.is_(False),
            Message.subtype.is_(None),
        )
        .order_by(Message.at, Message.id)
    )
    return [(row.id, row.text_plain or "") for row in session.execute(query)]


def annotate_flagship(session: Session, incident_number: int, actor: Actor = SYSTEM) -> int:
    """Add the flagship's analysis; returns how many items were added (0 when skipped)."""
    incident = session.scalar(select(Incident).where(Incident.number == incident_number))
    if incident is None:
        log.info("flagship analysis skipped: incident %s does not exist", incident_number)
        return 0
    messages = _message_ids(session, incident.id)
    if not messages:
        log.info("flagship analysis skipped: no messages imported for INC-%s yet", incident_number)
        return 0
    if session.scalar(select(AnalysisNote.id).where(AnalysisNote.incident_id == incident.id)):
        log.info("flagship analysis skipped: INC-%s already has analysis notes", incident_number)
        return 0
    story = flagship_analysis()
    added = 0
    used: set[int] = set()
    for fragment, tag, note in story.annotations:
        match = next(
            (i for i, text in messages if fragment in text.lower() and i not in used), None
        )
        if match is None:
            continue
        used.add(match)
        result = work.annotate(
            session, actor, incident_number, message_id=match, tag=tag, note=note
        )
        timeline_service.create_entry(
            session, actor, incident_number, annotation_id=result.annotation.id
        )
        added += 2
    evidence = build_incident_evidence(session, incident.id, with_history=False)
    for suggestion in timeline_service.pending_suggestions(session, evidence)[:6]:
        timeline_service.decide_suggestion(session, actor, evidence, suggestion.key, accept=True)
        added += 1
    first = [{"type": "message", "id": next(iter(used))}] if used else []
    for kind, text in story.notes:
        work.add_note(session, actor, incident_number, kind=kind, text=text, evidence=first)
        added += 1
    added += _interviews(session, actor, incident_number, evidence, story.interview_notes)
    return added


def _interviews(session: Session, actor: Actor, number: int, evidence: object, notes: str) -> int:
    bundle, context = evidence.bundle, evidence.context  # type: ignore[attr-defined]
    analysis = analyze_people(bundle, context)
    added = 0
    for suggestion in suggest_interviewees(analysis, bundle, context)[:2]:
        person_id = evidence.person_ids.get(suggestion.person_key)  # type: ignore[attr-defined]
        if person_id is None:
            continue
        try:
            row = iv.plan_interview(
                session,
                actor,
                number,
                person_id=person_id,
                questions=draft_questions(suggestion.person_key, bundle, analysis, limit=5),
            )
            if added == 0:  # the demo writes the notes directly: its actor is the system
                row.consent, row.consent_at, row.notes = True, row.created_at, notes
        except AfteractionError as error:  # pragma: no cover - logged, never fatal for the demo
            log.info("flagship interview skipped: %s", error)
            continue
        added += 1
    return added
