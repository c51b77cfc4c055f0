"""REST endpoints of incident reports: the export of an incident's report as Markdown,
standalone HTML or PDF, with the same visibility and confidentiality as the pages, and the
check of the current version's claims against the evidence."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response

from afteraction.services import report_claims, report_export
from afteraction.services.schemas.report_claims import ReportClaimsRead
from afteraction.web.deps import CurrentActor, DbSession
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
