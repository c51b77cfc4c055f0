"""REST endpoints of incident reports: the export of an incident's report as Markdown,
standalone HTML or PDF, with the same visibility and confidentiality as the pages, the
check of the current version's claims against the evidence, and moving the report between
states (publishing asks for confirmation over what it leaves open, as the page does)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response

from afteraction.services import report_claims, report_export, report_publishing
from afteraction.services.schemas.report_claims import ReportClaimsRead
from afteraction.services.schemas.reports import ReportStateRead
from afteraction.storage.db import writing
from afteraction.web.deps import CurrentActor, DbSession, SettingsDep
from afteraction.web.schemas.reports import ReportStateChange
from afteraction.web.security import report_export_csp

router = APIRouter(tags=["reports"])


@router.get(
    "/incidents/{key}/report",
    summary="Export an incident's report",
    responses={200: {"content": {"text/markdown": {}, "text/html": {}, "application/pdf": {}}}},
)
def export_report(
    key: str,
    db: DbSession,
    actor: CurrentActor,
    format: Literal["md", "html", "pdf"] = Query("md", description="md, html or pdf"),
) -> Response:
    """The published report (or, for people who may edit, the current draft when nothing is
    published yet). Viewers get 403 for an unpublished report; 404 when the incident has no
    report or is not visible."""
    content, media, name = report_export.export(db, actor, key, format)
    headers = {"Content-Disposition": f'inline; filename="{name}"'} | report_export_csp(format)
    return Response(content, media_type=media, headers=headers)


@router.get(
    "/incidents/{key}/report/claims",
    summary="Check the report's claims against the evidence",
    response_model=ReportClaimsRead,
)
def report_claims_check(key: str, db: DbSession, actor: CurrentActor) -> ReportClaimsRead:
    """The claims that disagree with the evidence (times, counts, durations, people named),
    dismissed ones marked: of the current draft for people who may edit, of the published
    version for readers (403 while nothing is published); 404 when the incident has no
    report or is not visible."""
    return report_claims.check_report(db, actor, key)


@router.post(
    "/incidents/{key}/report/state",
    summary="Move the report to another state (publish it)",
    response_model=ReportStateRead,
)
def change_report_state(
    key: str, body: ReportStateChange, db: DbSession, actor: CurrentActor, settings: SettingsDep
) -> ReportStateRead:
    """Draft → in review → published, and published → in review to publish a new version.
    Publishing with open language findings, open claim findings (claims that disagree with
    the evidence) or unfilled sections is refused with 422 `needs_confirmation` unless
    `confirm` is true: its `details` list each finding (`findings`, and `claims` with what
    the draft says and what the evidence shows) and the unfilled sections. With
    `AFTERACTION_REVIEW_PUBLISH_REQUIRES_NO_OPEN_FINDINGS` it is refused (422) while any
    finding is open, confirmed or not."""
    clean = settings.review.publish_requires_no_open_findings
    with writing(db):
        report = report_publishing.change_state(
            db, actor, key, body.state, confirmed=body.confirm, clean_required=clean
        )
        return ReportStateRead.of(report)
