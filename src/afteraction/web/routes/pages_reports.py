"""Pages of an incident's report: the reading page (read tracking, comments, exports) and
the report editor (live preview, the blame-aware check and the claims checked against the
evidence over htmx, versions and diffs, states). The review is in `pages_reviews`;
notifications and `/learning` in `pages_learning`.

Writes go through `services.reports`, `services.report_publishing` and `services.readership`
in one transaction each and redirect back (303). Reading is recorded in its own small
transaction that may fail without failing the page.
"""

import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from afteraction.core import report_rules as report_rules
from afteraction.core.access import require_write
from afteraction.core.analysis.claims import ClaimFinding
from afteraction.core.analysis.language import CATEGORIES, Finding
from afteraction.core.analysis.rewrites import rewrite
from afteraction.core.errors import AfteractionError, NotFound, ValidationError
from afteraction.services import incidents as incidents_repo
from afteraction.services import (
    readership,
    report_claims,
    report_export,
    report_publishing,
    reports,
    users,
)
from afteraction.services.report_publishing import NeedsConfirmation
from afteraction.storage.db import writing
from afteraction.storage.tables import User
from afteraction.storage.types import utcnow
from afteraction.web.deps import CurrentUser, DbSession
from afteraction.web.routes.pages_forms import (
    can_write,
    incident_url,
    render_page,
    see_other,
    write_then_back,
    writing_as,
)
from afteraction.web.routes.pages_incidents import FormDep, incident_key
from afteraction.web.schemas.common import RowId
from afteraction.web.security import report_export_csp
from afteraction.web.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)


# -- report: reading ---------------------------------------------------------------------


@dataclass(slots=True)
class ReportPage:
    readable: reports.Readable | None
    number: int
    body_html: Any = ""
    sections: list[tuple[str, str]] = field(default_factory=list)
    comments: dict[str, list[Any]] = field(default_factory=dict)
    replies: dict[int, list[Any]] = field(default_factory=dict)
    panel: readership.Panel | None = None
    can_write: bool = False
    templates: Any = field(default_factory=lambda: report_rules.TEMPLATES)
    reactions: tuple[str, ...] = readership.REACTIONS
    heartbeat: int = report_rules.HEARTBEAT_SECONDS
    diagrams: report_export.Diagrams | None = None
    incident: Any = None


def _record_open(request: Request, user: User, readable: reports.Readable) -> None:
    """Record the open in its own transaction; a failure is logged, never shown."""
    factory = request.app.state.session_factory
    try:
        with factory() as session, writing(session):
            report = session.get(type(readable.report), readable.report.id)
            readership.record_open(
                session, users.actor_for(user), report, readable.version.number, utcnow()
            )
    except Exception:
        log.warning("could not record a report read", exc_info=True)


@router.get("/incidents/{key}/report")
def report_page(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    actor = users.actor_for(user)
    number = incident_key(key)
    try:
        readable = reports.readable(db, actor, number)
    except NotFound as error:
        if error.kind != "report":
            raise
        incident = incidents_repo.get_incident(db, actor, number)
        page = ReportPage(None, number, can_write=can_write(actor), incident=incident)
        return render_page(request, "report.html", page, user=user)
    if not readable.is_draft_view:
        _record_open(request, user, readable)
    page = _reading_page(db, readable, number, can_write(actor))
    return render_page(request, "report.html", page, user=user)


def _reading_page(db: Session, readable: reports.Readable, number: int, writer: bool) -> ReportPage:
    all_comments = readership.comments_of(db, readable.report)
    top: dict[str, list[Any]] = {}
    replies: dict[int, list[Any]] = {}
    for comment in all_comments:
        if comment.parent_id is None:
            top.setdefault(comment.section, []).append(comment)
        else:
            replies.setdefault(comment.parent_id, []).append(comment)
    return ReportPage(
        readable=readable,
        number=number,
        body_html=report_export.body_html(readable.body),
        sections=report_rules.sections(readable.body),
        comments=top,
        replies=replies,
        panel=readership.panel(db, readable.report),
        can_write=writer,
        diagrams=report_export.diagrams(db, readable.incident),
        incident=readable.incident,
    )


@router.post("/incidents/{key}/report/heartbeat")
def report_heartbeat(key: str, db: DbSession, user: CurrentUser) -> Response:
    """Active reading: the user comes from the session, never from the request."""
    actor = users.actor_for(user)
    try:
        readable = reports.readable(db, actor, incident_key(key))
        with writing(db):
            report = db.get(type(readable.report), readable.report.id)
            assert report is not None
            total = readership.heartbeat(db, actor, report, utcnow())
    except AfteractionError:
        return Response(status_code=204)
    return Response(status_code=204, headers={"X-Active-Seconds": str(total)})


@router.post("/incidents/{key}/report")
def report_create(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        template = form.text("template", limit=40) or report_rules.DEFAULT_TEMPLATE
        reports.create_report(db, actor, number, template)
        return "Report drafted from the analysis."

    response = write_then_back(request, db, user, incident_url(number, "/report/edit"), write)
    return response


@router.post("/incidents/{key}/report/comments")
def report_comment(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        readable = reports.readable(db, actor, number)
        comment = readership.add_comment(
            db,
            actor,
            readable.report,
            section=form.text("section", limit=80),
            body=form.text("body", limit=readership.MAX_COMMENT, required=True),
            parent_id=form.integer("parent_id"),
        )
        return f"Comment added to {comment.section}."

    return write_then_back(request, db, user, incident_url(number, "/report#comments"), write)


@router.post("/incidents/{key}/report/comments/{comment_id}/react")
def report_react(
    key: str, comment_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        readership.react(db, actor, comment_id, form.text("emoji", limit=10))
        return "Reaction saved."

    return write_then_back(
        request, db, user, incident_url(number, f"/report#comment-{comment_id}"), write
    )


@router.get("/incidents/{key}/report/export")
def report_export_page(
    key: str, request: Request, db: DbSession, user: CurrentUser, format: str = "html"
) -> Response:
    del request
    content, media, name = report_export.export(
        db, users.actor_for(user), incident_key(key), format
    )
    disposition = "inline" if format == "html" else "attachment"
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'}
        | report_export_csp(format),
    )


# -- report: editing ---------------------------------------------------------------------


@dataclass(slots=True)
class EditPage:
    readable: reports.Readable
    number: int
    body: str
    base: int
    findings: list[Finding]
    open: list[Finding]
    preview: Any
    versions: list[Any]
    dismissals: list[Any]
    states: tuple[str, ...]
    unfilled: list[str] = field(default_factory=list)
    check: report_rules.PublishCheck | None = None  # set on the publish confirmation page
    categories: Any = field(default_factory=lambda: CATEGORIES)
    conflict: str = ""
    diff: str = ""
    claims: list[ClaimFinding] = field(default_factory=list)
    claims_open: list[ClaimFinding] = field(default_factory=list)
    rewrites: dict[str, str] = field(default_factory=dict)
    """Language findings with a literal rewrite the editor can accept, by fingerprint."""


def _edit_page(db: Session, actor: Any, number: int, body: str | None = None) -> EditPage:
    readable = reports.readable(db, actor, number, draft=True)
    report = readable.report
    text = readable.version.body if body is None else body
    findings, open_ = reports.check(db, report, text)
    claims, claims_open = report_claims.check(db, report, text, readable.incident)
    rewrites = {f.fingerprint: rewrite(f.rule, f.text) for f in open_}
    return EditPage(
        readable=readable,
        number=number,
        body=text,
        base=report.current_version,
        findings=findings,
        open=open_,
        preview=report_export.body_html(text),
        versions=reports.versions(db, report),
        dismissals=reports.dismissed(db, report),
        states=report_rules.next_report_states(report.state),
        unfilled=report_rules.unfilled_sections(text),
        claims=claims,
        claims_open=claims_open,
        rewrites={k: v for k, v in rewrites.items() if v is not None},
    )


@router.get("/incidents/{key}/report/edit")
def report_edit(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    actor = users.actor_for(user)
    require_write(actor)  # 403 like every other form a reader may not send
    page = _edit_page(db, actor, incident_key(key))
    return render_page(request, "report_edit.html", page, user=user)


@router.post("/incidents/{key}/report/check")
def report_check(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    """htmx: live preview and blame-aware findings for the text being typed (not saved)."""
    actor = users.actor_for(user)
    require_write(actor)
    try:
        body = report_rules.check_body(form.text("body", limit=report_rules.MAX_BODY))
    except ValidationError as error:
        return HTMLResponse(f'<p class="error" role="alert">{error.message}</p>', status_code=422)
    page = _edit_page(db, actor, incident_key(key), body)
    return render(request, "_report_check.html", {"page": page}, user=user)


@router.post("/incidents/{key}/report/save")
def report_save(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)
    actor = users.actor_for(user)
    try:
        with writing_as(db, user):
            saved = reports.save(
                db,
                actor,
                number,
                form.text("body", limit=report_rules.MAX_BODY),
                base=form.integer("base") or 0,
                note=form.text("note", limit=500),
            )
    except ValidationError as error:
        page = _edit_page(
            db, actor, number, str(form.data.get("body", ""))[: report_rules.MAX_BODY]
        )
        page.conflict = error.message
        return render_page(request, "report_edit.html", page, user=user, status_code=422)
    if saved.conflict:
        page = _edit_page(db, actor, number)
        page.conflict = (
            f"Someone else saved version {saved.theirs} while you were editing. Your text is "
            f"kept as version {saved.version.number}; compare it with theirs below and merge."
        )
        page.diff = reports.diff(db, page.readable.report, saved.theirs or 1, saved.version.number)
        return render_page(request, "report_edit.html", page, user=user, status_code=409)
    notice = "No change." if saved.unchanged else f"Saved version {saved.version.number}."
    return see_other(request, incident_url(number, "/report/edit"), notice)


@router.post("/incidents/{key}/report/state")
def report_state(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)
    state = form.text("state", limit=20, required=True)
    clean = request.app.state.settings.review.publish_requires_no_open_findings

    def write(actor: Any) -> str:
        report = report_publishing.change_state(
            db, actor, number, state, confirmed=form.text("confirm") == "yes", clean_required=clean
        )
        if state != "published":
            return f"Report moved to {state}."
        return f"Report published (version {report.published_version})."

    # published: to the reading page; any other move: back to the editor, where the next
    # step (publish, or edit further) is
    back = incident_url(number, "/report" if state == "published" else "/report/edit")
    try:
        return write_then_back(request, db, user, back, write, (NeedsConfirmation,))
    except NeedsConfirmation as pending:
        page = _edit_page(db, users.actor_for(user), number)
        page.check = pending.check
        return render_page(request, "report_publish.html", page, user=user, status_code=409)


@router.post("/incidents/{key}/report/dismiss")
def report_dismiss(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        readable = reports.readable(db, actor, number, draft=True)
        reports.dismiss(
            db,
            actor,
            readable.report,
            fingerprint=form.text("fingerprint", limit=64, required=True),
            reason=form.text("reason", limit=2000, required=True),
            text=form.text("text", limit=500),
            category=form.text("category", limit=40),
        )
        return "Finding dismissed."

    return write_then_back(request, db, user, incident_url(number, "/report/edit#findings"), write)


@router.get("/incidents/{key}/report/versions")
def report_versions(
    key: str, request: Request, db: DbSession, user: CurrentUser, a: RowId = 0, b: RowId = 0
) -> Response:
    actor = users.actor_for(user)
    number = incident_key(key)
    readable = reports.readable(db, actor, number, draft=can_write(actor))
    report = readable.report
    shown = reports.readable_versions(db, actor, report)
    new = b or shown[0].number
    old = a or max(1, new - 1)
    context = {
        "readable": readable,
        "versions": shown,
        "old": old,
        "new": new,
        "diff": reports.diff(db, report, old, new, among=shown),
    }
    return render(request, "report_versions.html", context, user=user)
