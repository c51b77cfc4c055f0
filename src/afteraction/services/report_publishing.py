"""Moving an incident's report between draft, in review and published, and what publishing
asks first: the publish-readiness check lists the open language findings, the open claim
findings (claims that disagree with the evidence, each with what the draft says and what
the evidence shows) and the unfilled sections, and publishing with any of them needs the
publisher's explicit confirmation. Publishing notifies the incident's audience once.

This sits above `services.reports` (versions, the language check, reading) and
`services.report_claims` (the claim check, which reads reports through `reports`), so
neither of those imports the other's caller. The report page, `POST
/api/v1/incidents/{key}/report/state` and `afteraction report publish` call `change_state`.
Callers own the transaction; every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from afteraction.core import report_rules as rules
from afteraction.core.access import Actor, require_write
from afteraction.core.analysis.claims import ClaimFinding
from afteraction.core.analysis.language import Finding
from afteraction.core.errors import NotFound, ValidationError
from afteraction.services import incidents as repo
from afteraction.services import report_claims, reports, reviews
from afteraction.services.schemas.report_claims import ClaimFindingRead
from afteraction.storage import audit, notifications
from afteraction.storage.review_tables import Report
from afteraction.storage.tables import Incident
from afteraction.storage.types import utcnow

NAMED = 5
"""Claim findings named in the refusal's message (all of them are in its details)."""


@dataclass(frozen=True, slots=True)
class Readiness:
    """What publishing the report's current version would leave open: the counts and rules
    (`check`) and the open findings themselves."""

    check: rules.PublishCheck
    findings: tuple[Finding, ...] = ()
    claims: tuple[ClaimFinding, ...] = ()


def readiness(session: Session, report: Report, *, clean_required: bool = False) -> Readiness:
    """The publish-readiness check of the report's current version."""
    body = reports.version(session, report).body
    _, language = reports.check(session, report, body)
    _, claims = report_claims.check(session, report, body)
    check = rules.PublishCheck(
        len(language),
        tuple(rules.unfilled_sections(body)),
        clean_required,
        open_claims=len(claims),
    )
    return Readiness(check, tuple(language), tuple(claims))


def _claim_line(finding: ClaimFinding) -> str:
    return f"line {finding.line} “{finding.text}” ({finding.kind}): {finding.evidence}"


class NeedsConfirmation(ValidationError):
    """Publishing would leave open findings or unfilled sections: the publisher confirms.
    The details name every open finding; the message names the first claim findings."""

    code = "needs_confirmation"

    def __init__(self, ready: Readiness) -> None:
        check = ready.check
        message = f"confirm to publish: {check.summary()}"
        if ready.claims:
            named = "; ".join(_claim_line(f) for f in ready.claims[:NAMED])
            more = len(ready.claims) - NAMED
            message += f". Claims: {named}" + (f"; and {more} more" if more > 0 else "")
        super().__init__(message, field="confirm", details=_details(ready))
        self.check = check
        self.findings = ready.findings
        self.claims = ready.claims


def _details(ready: Readiness) -> dict[str, Any]:
    check = ready.check
    return {
        "open_findings": check.open_findings,
        "open_claims": check.open_claims,
        "unfilled": list(check.unfilled),
        "findings": [
            {
                "line": f.line,
                "column": f.column,
                "text": f.text,
                "category": f.category,
                "message": f.message,
                "fingerprint": f.fingerprint,
            }
            for f in ready.findings
        ],
        "claims": [
            ClaimFindingRead.of(f, dismissed=False).model_dump(mode="json") for f in ready.claims
        ],
    }


def change_state(
    session: Session,
    actor: Actor,
    key: str | int,
    state: str,
    *,
    confirmed: bool = False,
    clean_required: bool = False,
) -> Report:
    """Move the report to `state`. Publishing is from "in review" only; with open language
    or claim findings or unfilled sections it needs `confirmed`, and with `clean_required`
    (the organisation's setting) it is refused while any finding is open. The review
    follows: published with the report, back in review when the report is."""
    require_write(actor)
    incident = repo.get_incident(session, actor, key)
    report = reports.report_of(session, incident)
    if report is None:
        raise NotFound("report", incident.public_id)
    rules.check_report_transition(report.state, state)
    if state == "published":
        ready = readiness(session, report, clean_required=clean_required)
        if ready.check.refused:
            raise ValidationError(ready.check.refused, field="state")
        if ready.check.needs_confirmation and not confirmed:
            raise NeedsConfirmation(ready)
    before = report.state
    report.state = state
    if state == "published":
        _publish(session, actor, incident, report)
    elif before == "published":
        reviews.reopen_for_report(session, incident)
    audit.record(
        session,
        actor,
        "report.state_changed",
        target_type="report",
        target_id=report.id,
        incident_id=incident.id,
        before={"state": before},
        after={"state": state, "version": report.current_version},
    )
    return report


def _publish(session: Session, actor: Actor, incident: Incident, report: Report) -> None:
    first = report.first_published_at is None
    report.published_version = report.current_version
    report.published_at = utcnow()
    report.first_published_at = report.first_published_at or report.published_at
    review = reviews.ensure_review(session, incident)
    review.state = "published"
    if not first:
        return
    participants = reviews.participant_ids(session, incident.id)
    users = notifications.audience(session, incident, participants)
    notifications.notify(
        session,
        [u for u in users if u != actor.user_id],
        kind="report_published",
        subject=f"{incident.public_id} report published: {incident.title}",
        body=f"The learning review report for {incident.public_id} ({incident.severity}) is "
        "published. Read it and leave comments on any section.",
        url=f"/incidents/{incident.public_id}/report",
        incident_id=incident.id,
    )
