"""Incident reports on the database: gathering the facts a template is prefilled with, saving
versions (never losing a concurrent edit), the blame-aware check with dismissals, and
reading a report as an actor may. The states draft → in review → published and what
publishing asks first are in `services.report_publishing`.

Confidentiality: facts come from the incident, its roles, action items, references, the
analysis notes and accepted timeline entries, and what `interviews_held` says of the
interviews held (how many, which roles, names only with recorded consent). Interview notes
and recordings are never selected; only passages logged in `interview_quotes` (deliberate
quotes) may appear. Callers own the transaction; every write is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core import report_rules as rules
from afteraction.core.access import Actor, require_write
from afteraction.core.analysis.language import Finding, check_text, open_findings
from afteraction.core.analysis.people import PeopleAnalysis
from afteraction.core.errors import NotFound, PermissionDenied, ValidationError
from afteraction.core.incidents import MILESTONE_DEFINITIONS
from afteraction.core.timeline import TimelineItem
from afteraction.services import action_items, citations, incident_roles, reviews
from afteraction.services import incidents as repo
from afteraction.services import people as people_service
from afteraction.storage import audit, notifications
from afteraction.storage.analysis_tables import (
    AnalysisNote,
    Interview,
    InterviewQuote,
    TimelineEntry,
)
from afteraction.storage.review_tables import LanguageDismissal, Report, ReportVersion
from afteraction.storage.tables import Incident, Person, Team, TeamMembership
from afteraction.storage.types import utcnow

NOTE_FIELDS = {
    "theme": "themes",
    "open_question": "open_questions",
    "risk": "risks",
    "mitigator": "mitigators",
    "difficulty": "difficulties",
}


# -- facts -------------------------------------------------------------------------------


def _people_facts(session: Session, incident: Incident) -> dict[str, Any]:
    """Responders from the people analysis (when evidence exists) and the role history."""
    roles = incident_roles.roles_of(session, incident)
    commanders = [r for r in roles if r.role == "commander"]
    out: dict[str, Any] = {
        "first_commander": commanders[0].person.name if commanders else "",
        "last_commander": commanders[-1].person.name if commanders else "",
    }
    held: dict[str, list[str]] = {}
    for role in roles:
        held.setdefault(role.person.name, []).append(role.role)
    analysis = people_analysis(session, incident)
    responders: list[rules.Responder] = []
    teams: list[str] = [t.name for t in incident.teams]
    if analysis is not None:
        ranked = sorted(analysis.people, key=lambda p: -p.messages)
        out["most_time"] = ranked[0].name if ranked and ranked[0].messages else ""
        for person in analysis.people:
            if person.is_observer:
                continue
            responders.append(
                rules.Responder(
                    name=person.name,
                    roles=tuple(held.pop(person.name, [])),
                    team=", ".join(person.teams),
                    minutes=0,
                    arrival=person.arrival.replace("_", " "),
                    pages=person.pages_in_incident,
                    first_involved=person.first_seen,
                )
            )
        names: dict[str, str] = dict(session.execute(select(Team.slug, Team.name)).all())
        involved = (names.get(slug, slug) for slug in analysis.rollup.teams_involved)
        teams += [t for t in involved if t not in teams]
    responders += [rules.Responder(name=n, roles=tuple(r)) for n, r in held.items()]
    out["responders"] = tuple(responders)
    out["teams"] = tuple(teams)
    return out


def people_analysis(session: Session, incident: Incident) -> PeopleAnalysis | None:
    """The people analysis of the incident, or None when it has no evidence."""
    view = people_service.of_incident(session, incident, history=False)
    return view.analysis if view.has_evidence else None


def _analysis_facts(session: Session, incident: Incident) -> dict[str, Any]:
    outline = reviews.analysis_outline(session, incident.id)
    out: dict[str, Any] = {name: tuple(outline.get(kind, [])) for kind, name in NOTE_FIELDS.items()}
    factors = session.scalars(
        select(AnalysisNote)
        .where(AnalysisNote.incident_id == incident.id, AnalysisNote.kind == "contributing_factor")
        .order_by(AnalysisNote.id)
    )
    out["contributors"] = tuple(
        rules.Factor(n.text, tuple(citations.cited_moments(session, incident, n.evidence or ())))
        for n in factors
    )
    out["interviewees"] = tuple(outline["interviewees"])
    out["quotes"] = tuple(
        session.scalars(
            select(InterviewQuote.passage)
            .join(Interview, Interview.id == InterviewQuote.interview_id)
            .where(Interview.incident_id == incident.id, InterviewQuote.note_id.is_(None))
            .order_by(InterviewQuote.id)
        )
    )
    entries = session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident.id, TimelineEntry.status == "accepted")
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    out["timeline"] = tuple(TimelineItem(e.at, e.text, e.kind) for e in entries)
    return out


def gather_facts(session: Session, incident: Incident) -> rules.ReportFacts:
    review = reviews.review_of(session, incident)
    investigators = (
        (review.investigator.name,) if review is not None and review.investigator else ()
    )
    items = action_items.action_items_of(session, incident)
    milestones = repo.milestones_of(incident)
    return rules.ReportFacts(
        incident=incident.public_id,
        title=incident.title,
        severity=incident.severity,
        summary=incident.summary,
        customer_impact=incident.customer_impact,
        investigators=investigators,
        follow_ups=tuple(
            rules.FollowUp(
                i.title,
                i.kind,
                i.owner.name if i.owner else "",
                i.due.isoformat() if i.due else "",
                i.status,
                i.url,
            )
            for i in items
        ),
        references=tuple((r.title, r.url) for r in action_items.references_of(session, incident)),
        milestones=tuple(
            (name, at, MILESTONE_DEFINITIONS[name]) for name, at in milestones.items()
        ),
        **_people_facts(session, incident),
        **_analysis_facts(session, incident),
    )


# -- reports and versions ----------------------------------------------------------------


def report_of(session: Session, incident: Incident) -> Report | None:
    return session.scalar(select(Report).where(Report.incident_id == incident.id))


def version(session: Session, report: Report, number: int | None = None) -> ReportVersion:
    wanted = report.current_version if number is None else number
    row = session.scalar(
        select(ReportVersion).where(
            ReportVersion.report_id == report.id, ReportVersion.number == wanted
        )
    )
    if row is None:
        raise NotFound("report version", wanted)
    return row


def versions(session: Session, report: Report) -> list[ReportVersion]:
    query = select(ReportVersion).where(ReportVersion.report_id == report.id)
    return list(session.scalars(query.order_by(ReportVersion.number.desc())))


def create_report(
    session: Session, actor: Actor, key: str | int, template: str = rules.DEFAULT_TEMPLATE
) -> Report:
    """A draft report from `template`, prefilled from the incident and its analysis."""
    require_write(actor)
    incident = repo.get_incident(session, actor, key)
    rules.check_template(template)
    if report_of(session, incident) is not None:
        raise ValidationError("this incident already has a report", field="template")
    body = rules.prefill(template, gather_facts(session, incident))
    report = Report(incident_id=incident.id, template=template, current_version=1)
    session.add(report)
    session.flush()
    session.add(
        ReportVersion(
            report_id=report.id, number=1, body=body, author_id=actor.user_id, note="prefilled"
        )
    )
    audit.record(
        session,
        actor,
        "report.created",
        target_type="report",
        target_id=report.id,
        incident_id=incident.id,
        after={"template": template},
    )
    return report


@dataclass(frozen=True, slots=True)
class Saved:
    """A saved version. `conflict` is set when somebody saved after the author's base: the
    new version is still kept (nothing is lost) and `theirs` names the version to compare."""

    version: ReportVersion
    conflict: bool = False
    theirs: int | None = None
    unchanged: bool = False


def save(
    session: Session, actor: Actor, key: str | int, body: str, *, base: int, note: str = ""
) -> Saved:
    require_write(actor)
    incident = repo.get_incident(session, actor, key)
    report = report_of(session, incident)
    if report is None:
        raise NotFound("report", incident.public_id)
    body = rules.check_body(body)
    latest = version(session, report)
    if body == latest.body:
        return Saved(latest, unchanged=True)
    number = latest.number + 1
    row = ReportVersion(
        report_id=report.id,
        number=number,
        body=body,
        base=base,
        author_id=actor.user_id,
        note=note[:500],
    )
    session.add(row)
    report.current_version = number
    report.updated_at = utcnow()
    session.flush()
    conflict = base != latest.number
    audit.record(
        session,
        actor,
        "report.saved",
        target_type="report",
        target_id=report.id,
        incident_id=incident.id,
        after={"version": number, "base": base, "conflict": conflict},
    )
    return Saved(row, conflict=conflict, theirs=latest.number if conflict else None)


def readable_versions(session: Session, actor: Actor, report: Report) -> list[ReportVersion]:
    """The versions the actor may compare, newest first: all of them for writers; for
    readers, those up to the published one (a draft saved after it is not theirs to read)."""
    rows = versions(session, report)
    if reads_drafts(actor):
        return rows
    return [row for row in rows if row.number <= (report.published_version or 0)]


def diff(
    session: Session,
    report: Report,
    old: int,
    new: int,
    *,
    among: Sequence[ReportVersion] | None = None,
) -> str:
    """The change from version `old` to `new`; with `among`, both must be in it (or
    NotFound, as for a version that does not exist)."""
    if among is not None:
        numbers = {row.number for row in among}
        for wanted in (old, new):
            if wanted not in numbers:
                raise NotFound("report version", wanted)
    return rules.diff(
        version(session, report, old).body,
        version(session, report, new).body,
        old_label=f"version {old}",
        new_label=f"version {new}",
    )


# -- the blame-aware check ---------------------------------------------------------------


def people_names(session: Session, limit: int = 5000) -> list[str]:
    return list(session.scalars(select(Person.name).limit(limit)))


def dismissed(session: Session, report: Report) -> list[LanguageDismissal]:
    query = select(LanguageDismissal).where(LanguageDismissal.report_id == report.id)
    return list(session.scalars(query.order_by(LanguageDismissal.id)))


def check(session: Session, report: Report, body: str) -> tuple[list[Finding], list[Finding]]:
    """(all findings, the ones not dismissed) for `body`."""
    findings = check_text(body, people=people_names(session))
    return findings, open_findings(findings, [d.fingerprint for d in dismissed(session, report)])


def dismiss(
    session: Session,
    actor: Actor,
    report: Report,
    *,
    fingerprint: str,
    reason: str,
    text: str = "",
    category: str = "",
) -> LanguageDismissal:
    require_write(actor)
    reason = reason.strip()
    if not reason:
        raise ValidationError("say why this finding does not apply", field="reason")
    if len(reason) > 2000 or len(fingerprint) > 64 or not fingerprint:
        raise ValidationError("reason or fingerprint too long", field="reason")
    row = session.scalar(
        select(LanguageDismissal).where(
            LanguageDismissal.report_id == report.id, LanguageDismissal.fingerprint == fingerprint
        )
    )
    if row is None:
        row = LanguageDismissal(report_id=report.id, fingerprint=fingerprint)
        session.add(row)
    row.reason, row.text, row.category, row.user_id = reason, text[:500], category, actor.user_id
    session.flush()
    audit.record(
        session,
        actor,
        "report.finding_dismissed",
        target_type="report",
        target_id=report.id,
        incident_id=report.incident_id,
        after={"text": text[:200], "category": category, "reason": reason},
    )
    return row


# -- reading -----------------------------------------------------------------------------


@dataclass(slots=True)
class Readable:
    incident: Incident
    report: Report
    version: ReportVersion
    is_draft_view: bool = False
    newer: list[int] = field(default_factory=list)

    @property
    def body(self) -> str:
        """The text to show: a draft as written; a published version without the
        template's hints (unfilled sections are left out for readers)."""
        text = self.version.body
        return text if self.is_draft_view else rules.without_hints(text)


def reads_drafts(actor: Actor) -> bool:
    """Whether the actor may read a report's drafts: those who may write it."""
    return actor.role != "viewer"


def readable(session: Session, actor: Actor, key: str | int, *, draft: bool = False) -> Readable:
    """The report as the actor may read it: the published version for everyone who can see
    the incident; the current draft for those who may write (or when nothing is published)."""
    incident = repo.get_incident(session, actor, key)
    report = report_of(session, incident)
    if report is None:
        raise NotFound("report", incident.public_id)
    writer = reads_drafts(actor)
    if report.published_version is not None and not (draft and writer):
        row = version(session, report, report.published_version)
        newer = list(range(report.published_version + 1, report.current_version + 1))
        return Readable(incident, report, row, newer=newer if writer else [])
    if not writer:
        raise PermissionDenied("this report is not published yet")
    return Readable(incident, report, version(session, report), is_draft_view=True)


def involved_team_names(session: Session, incident: Incident) -> list[str]:
    people = reviews.participant_ids(session, incident.id)
    ids = notifications.incident_team_ids(session, incident.id, people)
    return sorted(session.scalars(select(Team.name).where(Team.id.in_(ids))))


def team_names_of(session: Session, person_ids: Sequence[int]) -> dict[int, str]:
    rows = session.execute(
        select(TeamMembership.person_id, Team.name)
        .join(Team, Team.id == TeamMembership.team_id)
        .where(TeamMembership.person_id.in_(list(person_ids)), TeamMembership.end.is_(None))
    )
    return {pid: name for pid, name in rows}  # noqa: C416 - rows are Row objects
