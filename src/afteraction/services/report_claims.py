"""Claims in an incident's report checked against the evidence: this gathers what the product
computed for the incident (timeline, suggested events, milestones, pages, roles, updates,
what the analysis annotates and its notes cite, the people analysis, milestone durations,
the directory) into `core.analysis.claims.Evidence`, runs the pure check over a report
body, and drops the findings dismissed with a reason (the language check's dismissals,
category `claim`).

The report editor, `GET /api/v1/incidents/{key}/report/claims` and `afteraction report
check` all call `check_report` or `check`. Times without a zone in a report are read in UTC,
the zone the report's prefilled times are written in. Callers own the transaction.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core import times
from afteraction.core.access import Actor
from afteraction.core.analysis import claims
from afteraction.core.analysis.involvement import pages_from_log
from afteraction.core.analysis.suggestions import suggest_timeline
from afteraction.core.errors import NotFound
from afteraction.core.metrics.definitions import METRICS
from afteraction.core.timeline import TimelineItem
from afteraction.services import action_items, citations, impact, incident_roles, reports, reviews
from afteraction.services import incidents as repo
from afteraction.services import people as people_service
from afteraction.services import timeline as timeline_service
from afteraction.services.schemas.report_claims import ClaimFindingRead, ReportClaimsRead
from afteraction.storage.analysis_tables import AnalysisNote, Annotation
from afteraction.storage.review_tables import Report
from afteraction.storage.tables import Incident, IncidentUpdate, Team

CATEGORY = "claim"
"""The category of a claim finding's dismissal (language findings have their own)."""


def _url(incident: Incident, tail: str = "") -> str:
    return f"/incidents/{incident.public_id}{tail}"


def _events(
    session: Session, incident: Incident, view: people_service.PeopleView
) -> list[TimelineItem]:
    """Every moment on the incident's timeline, with links."""
    out: list[TimelineItem] = []
    timeline = _url(incident, "/timeline")
    for entry in timeline_service.list_timeline(session, incident.id):
        link = f"{timeline}#entry-{entry.id}"
        moment = times.from_storage(entry.at)
        out.append(TimelineItem(moment, f"timeline: {entry.text}", "timeline", link))
    bundle, context = view.evidence.bundle, view.evidence.context
    for event in suggest_timeline(bundle, context):
        if event.kind != "silence":
            text = f"suggested event: {event.text}"
            out.append(TimelineItem(event.at, text, "suggestion", timeline))
    for name, at in repo.milestones_of(incident).items():
        if at is not None:
            link = _url(incident, "#milestones")
            out.append(TimelineItem(times.from_storage(at), f"milestone {name}", "milestone", link))
    names = {key: p.name for key, p in bundle.people.items()}
    people = _url(incident, "/people")
    for page in pages_from_log(bundle.pages):
        who = names.get(page.person_key, "someone")
        out.append(TimelineItem(page.at, f"page to {who}", "page", people))
    for role in incident_roles.roles_of(session, incident):
        text = f"{role.person.name} took the role {role.role}"
        out.append(TimelineItem(times.from_storage(role.start), text, "role", people))
    updates = select(IncidentUpdate).where(IncidentUpdate.incident_id == incident.id)
    for update in session.scalars(updates):
        text = f"status update ({update.status}): {update.body[:160]}"
        link = _url(incident, "#updates")
        out.append(TimelineItem(times.from_storage(update.at), text, "update", link))
    out += _cited(session, incident)
    return out


def _cited(session: Session, incident: Incident) -> list[TimelineItem]:
    """The moments the investigator pointed at: messages annotated, and whatever an analysis
    note cites (messages, pages, call cues, timeline entries), as a report cites them."""
    links: list[dict[str, Any]] = [
        {"type": "message", "id": message_id}
        for message_id in session.scalars(
            select(Annotation.message_id).where(
                Annotation.incident_id == incident.id, Annotation.message_id.is_not(None)
            )
        )
    ]
    notes = session.scalars(
        select(AnalysisNote.evidence).where(AnalysisNote.incident_id == incident.id)
    )
    for evidence in notes:
        links += evidence or ()
    return citations.cited_moments(session, incident, links) if links else []


def _spoken(delta: timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"


def _durations(session: Session, incident: Incident) -> dict[str, tuple[claims.Figure, ...]]:
    link = _url(incident, "#milestones")
    milestones = repo.milestones_of(incident)
    out: dict[str, tuple[claims.Figure, ...]] = {}
    for metric in METRICS.values():
        if metric.id == "time_between_failures" or not metric.start or not metric.end:
            continue
        start, end = milestones.get(metric.start), milestones.get(metric.end)
        if start is None or end is None or end < start:
            continue
        span = end - start
        text = (
            f"{metric.label} ({metric.end} − {metric.start}): {_spoken(span)}, "
            f"{times.display(start)} to {times.display(end)}"
        )
        out[metric.id] = (claims.Figure(span, text, link),)
    seconds = impact.impact_duration(impact.impacts_of(session, incident))
    if seconds is not None:
        span = timedelta(seconds=seconds)
        text = f"customer impact (the impact periods): {_spoken(span)}"
        out["impact"] = (claims.Figure(span, text, _url(incident, "#impact")),)
    return out


def evidence_of(session: Session, incident: Incident) -> claims.Evidence:
    """What the incident's report is checked against (access already checked)."""
    view = people_service.of_incident(session, incident, history=False)
    analysis = view.analysis
    people_link = _url(incident, "/people")
    role_holders = {r.person.name for r in incident_roles.roles_of(session, incident)}
    pages = {p.name: p.pages_in_incident for p in analysis.people}
    participants = tuple(
        claims.Participant(name, pages.get(name, 0), people_link)
        for name in sorted(set(pages) | role_holders)
    )
    review = reviews.review_of(session, incident)
    on_record = {i.owner.name for i in action_items.action_items_of(session, incident) if i.owner}
    on_record |= set(reviews.analysis_outline(session, incident.id)["interviewees"])
    if review is not None and review.investigator is not None:
        on_record.add(review.investigator.name)
    team_names = dict(session.execute(select(Team.slug, Team.name)).all())
    teams = {t.name for t in incident.teams}
    teams |= {team_names.get(slug, slug) for slug in analysis.rollup.teams_involved}
    rollup = analysis.rollup
    counts = {
        "responders": claims.Figure(
            rollup.responders_count,
            f"people analysis: {rollup.responders_count} responders (people who took part, "
            "not observers)",
            people_link,
        ),
        "people": claims.Figure(
            rollup.people_count, f"people analysis: {rollup.people_count} people", people_link
        ),
        "teams": claims.Figure(
            len(teams), f"teams involved: {', '.join(sorted(teams))}", people_link
        ),
        "people_paged": claims.Figure(
            sum(1 for p in analysis.people if p.pages_in_incident),
            "people paged: "
            + ", ".join(
                f"{p.name} ({p.pages_in_incident})" for p in analysis.people if p.pages_in_incident
            ),
            people_link,
        ),
        "pages": claims.Figure(
            sum(p.pages_in_incident for p in analysis.people),
            "pages in the incident (notifications for one alert within 5 minutes count once)",
            people_link,
        ),
    }
    return claims.Evidence(
        events=tuple(_events(session, incident, view)),
        participants=participants,
        on_record=frozenset(on_record),
        directory=tuple(reports.people_names(session)),
        counts=counts,
        durations=_durations(session, incident),
        people_link=people_link,
    )


def check(
    session: Session, report: Report, body: str, incident: Incident | None = None
) -> tuple[list[claims.ClaimFinding], list[claims.ClaimFinding]]:
    """(all claim findings, the ones not dismissed) for `body` of `report`."""
    incident = incident or session.get(Incident, report.incident_id)
    assert incident is not None
    found = claims.check_claims(body, evidence_of(session, incident))
    gone = {d.fingerprint for d in reports.dismissed(session, report)}
    return found, [f for f in found if f.fingerprint not in gone]


def check_report(session: Session, actor: Actor, key: str | int) -> ReportClaimsRead:
    """The claim check of the report as the actor may read it (the current draft for
    writers, the published version for readers): what the API and `afteraction report
    check --json` print."""
    readable = reports.readable(session, actor, key, draft=True)
    if readable.report is None:  # pragma: no cover - readable raises NotFound
        raise NotFound("report", key)
    found, open_ = check(session, readable.report, readable.version.body, readable.incident)
    still = {f.fingerprint for f in open_}
    return ReportClaimsRead(
        incident=readable.incident.public_id,
        version=readable.version.number,
        zone="UTC",
        open=len(open_),
        dismissed=len(found) - len(open_),
        findings=[ClaimFindingRead.of(f, dismissed=f.fingerprint not in still) for f in found],
    )
