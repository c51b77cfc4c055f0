"""REST endpoints of incident reports: the export of an incident's report as Markdown,
standalone HTML or PDF, with the same visibility and confidentiality as the pages."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response

from afteraction.services import report_export
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
