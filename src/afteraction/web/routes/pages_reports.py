"""Pages of the learning review and its report: the review page (investigator, lifecycle,
calibration and votes, meeting, survey), the overdue list, the report editor (live preview
and blame-aware check over htmx, versions and diffs, states), the reading page (read
tracking, comments), exports, notifications, and the organisation page `/learning`.

Writes go through `services.reviews`, `services.reports` and `services.readership` in one
transaction each and redirect back (303). Reading is recorded in its own small transaction
that may fail without failing the page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core import report_rules as report_rules
from afteraction.core import reviews as review_rules
from afteraction.core.analysis.language import CATEGORIES, Finding
from afteraction.core.errors import AfteractionError, Conflict, NotFound, ValidationError
from afteraction.core.incidents import format_public_id
from afteraction.services import directory, readership, report_export, reports, reviews, users
from afteraction.services import incidents as incidents_repo
from afteraction.storage import notifications
from afteraction.storage.db import writing
from afteraction.storage.tables import Person, User
from afteraction.storage.types import utcnow
from afteraction.web.deps import CurrentUser, DbSession, SettingsDep
from afteraction.web.routes.pages_forms import (
    can_write,
    render_page,
    see_other,
    writing_as,
)
from afteraction.web.routes.pages_incidents import FormDep, incident_key
from afteraction.web.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)


def _url(number: int, tail: str = "") -> str:
    return f"/incidents/{format_public_id(number)}{tail}"


def _run(request: Request, db: Session, user: User, back: str, write: Any) -> Response:
    """One write in a transaction, then back to `back` with a notice or the error."""
    try:
        with writing_as(db, user):
            notice = write(users.actor_for(user))
    except (ValidationError, Conflict) as error:
        return see_other(request, back, f"Not saved: {error.message}")
    return see_other(request, back, notice)


# -- review ------------------------------------------------------------------------------


@dataclass(slots=True)
class ReviewPage:
    view: reviews.ReviewView
    people: list[Person]
    can_write: bool
    states: tuple[str, ...]
    my_votes: set[str] = field(default_factory=set)
    agenda_html: Any = ""
    calibration_html: Any = ""
    min_themes: int = review_rules.MIN_THEMES
    max_themes: int = review_rules.MAX_THEMES
    questions: Any = field(default_factory=lambda: review_rules.SURVEY_QUESTIONS)


@router.get("/incidents/{key}/review")
def review_page(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    actor = users.actor_for(user)
    view = reviews.review_view(db, actor, incident_key(key))
    page = ReviewPage(
        view=view,
        people=list(db.scalars(select(Person).order_by(Person.name).limit(2000))),
        can_write=can_write(actor),
        states=review_rules.allowed_next(view.review.state),
    )
    if view.calibration is not None:
        page.my_votes = reviews.my_votes(db, view.calibration, user.id)
        page.calibration_html = report_export.body_html(view.calibration.body)
    if view.meeting is not None:
        page.agenda_html = report_export.body_html(view.meeting.agenda)
    return render_page(request, "review.html", page, user=user)


@router.post("/incidents/{key}/review/assign")
def review_assign(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        person_id = form.integer("person_id")
        if person_id is None:
            raise ValidationError("choose a person", field="person_id")
        _, warnings = reviews.assign_investigator(db, actor, number, person_id)
        return "Investigator assigned." + (" Warning: " + " ".join(warnings) if warnings else "")

    return _run(request, db, user, _url(number, "/review"), write)


@router.post("/incidents/{key}/review/state")
def review_state(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        state = form.text("state", limit=20, required=True)
        reviews.change_state(db, actor, number, state, reason=form.text("reason", limit=2000))
        return f"Review moved to {state}."

    return _run(request, db, user, _url(number, "/review"), write)


@router.post("/incidents/{key}/review/calibration")
def calibration_generate(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        document = reviews.generate_calibration(db, actor, number)
        return f"Calibration document generated with {len(document.themes)} themes."

    return _run(request, db, user, _url(number, "/review#calibration"), write)


@router.post("/incidents/{key}/review/calibration/{doc_id}/share")
def calibration_share(
    key: str, doc_id: int, request: Request, db: DbSession, user: CurrentUser
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        sent = reviews.share_calibration(db, actor, doc_id)
        return f"Shared with {len(sent)} participants."

    return _run(request, db, user, _url(number, "/review#calibration"), write)


@router.post("/incidents/{key}/review/calibration/{doc_id}/vote")
def calibration_vote(
    key: str, doc_id: int, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        picked = reviews.vote(db, actor, doc_id, form.many("themes", limit=50))
        return f"Your vote for {len(picked)} themes is recorded."

    return _run(request, db, user, _url(number, "/review#calibration"), write)


@router.post("/incidents/{key}/review/meeting")
def meeting_plan(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        reviews.plan_meeting(db, actor, number)
        return "Agenda built from the chosen themes."

    return _run(request, db, user, _url(number, "/review#meeting"), write)


@router.post("/incidents/{key}/review/meeting/{meeting_id}/record")
def meeting_record(
    key: str, meeting_id: int, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        ids = [int(v) for v in form.many("attendees", limit=500) if v.isdigit()]
        reviews.record_meeting(
            db, actor, meeting_id, attendees=ids, notes=form.text("notes", limit=100_000)
        )
        return f"Meeting recorded with {len(ids)} attendees."

    return _run(request, db, user, _url(number, "/review#meeting"), write)


@router.post("/incidents/{key}/review/meeting/{meeting_id}/park")
def meeting_park(
    key: str, meeting_id: int, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        reviews.park(db, actor, meeting_id, form.text("text", limit=2000, required=True))
        return "Added to the parking lot."

    return _run(request, db, user, _url(number, "/review#meeting"), write)


@router.post("/incidents/{key}/review/meeting/{meeting_id}/survey")
def meeting_survey(
    key: str, meeting_id: int, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        answer = review_rules.SurveyAnswer(
            learned=form.text("learned", limit=5) == "yes",
            again=form.text("again", limit=5) == "yes",
            useful=form.text("useful", limit=5000),
            change=form.text("change", limit=5000),
        )
        reviews.answer_survey(db, actor, meeting_id, answer)
        return "Thank you: your answers are recorded."

    return _run(request, db, user, _url(number, "/review#survey"), write)


@router.get("/reviews/overdue")
def overdue_page(request: Request, db: DbSession, user: CurrentUser) -> Response:
    today = datetime.now(UTC).date()
    rows = reviews.overdue(db, users.actor_for(user), today)
    return render(request, "reviews_overdue.html", {"rows": rows, "today": today}, user=user)


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
        body_html=report_export.body_html(readable.version.body),
        sections=report_rules.sections(readable.version.body),
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

    response = _run(request, db, user, _url(number, "/report/edit"), write)
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

    return _run(request, db, user, _url(number, "/report#comments"), write)


@router.post("/incidents/{key}/report/comments/{comment_id}/react")
def report_react(
    key: str, comment_id: int, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        readership.react(db, actor, comment_id, form.text("emoji", limit=10))
        return "Reaction saved."

    return _run(request, db, user, _url(number, f"/report#comment-{comment_id}"), write)


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
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
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
    categories: Any = field(default_factory=lambda: CATEGORIES)
    conflict: str = ""
    diff: str = ""


def _edit_page(db: Session, actor: Any, number: int, body: str | None = None) -> EditPage:
    readable = reports.readable(db, actor, number, draft=True)
    report = readable.report
    text = readable.version.body if body is None else body
    findings, open_ = reports.check(db, report, text)
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
        states=("in review", "published")
        if report.state != "in review"
        else ("draft", "published"),
    )


@router.get("/incidents/{key}/report/edit")
def report_edit(key: str, request: Request, db: DbSession, user: CurrentUser) -> Response:
    actor = users.actor_for(user)
    if not can_write(actor):
        return see_other(request, _url(incident_key(key), "/report"), "You may read, not edit.")
    page = _edit_page(db, actor, incident_key(key))
    return render_page(request, "report_edit.html", page, user=user)


@router.post("/incidents/{key}/report/check")
def report_check(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    """htmx: live preview and blame-aware findings for the text being typed (not saved)."""
    actor = users.actor_for(user)
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
    return see_other(request, _url(number, "/report/edit"), notice)


@router.post("/incidents/{key}/report/state")
def report_state(
    key: str, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    number = incident_key(key)

    def write(actor: Any) -> str:
        state = form.text("state", limit=20, required=True)
        report = reports.change_state(db, actor, number, state)
        if state != "published":
            return f"Report moved to {state}."
        _, open_ = reports.check(db, report, reports.version(db, report).body)
        left = f" {len(open_)} language findings are still open." if open_ else ""
        return f"Report published (version {report.published_version}).{left}"

    return _run(request, db, user, _url(number, "/report"), write)


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

    return _run(request, db, user, _url(number, "/report/edit#findings"), write)


@router.get("/incidents/{key}/report/versions")
def report_versions(
    key: str, request: Request, db: DbSession, user: CurrentUser, a: int = 0, b: int = 0
) -> Response:
    actor = users.actor_for(user)
    number = incident_key(key)
    readable = reports.readable(db, actor, number, draft=can_write(actor))
    report = readable.report
    new = b or report.current_version
    old = a or max(1, new - 1)
    context = {
        "readable": readable,
        "versions": reports.versions(db, report),
        "old": old,
        "new": new,
        "diff": reports.diff(db, report, old, new),
    }
    return render(request, "report_versions.html", context, user=user)


# -- notifications, learning -------------------------------------------------------------


@router.get("/notifications")
def notifications_page(request: Request, db: DbSession, user: CurrentUser) -> Response:
    rows = notifications.inbox(db, user.id)
    context = {
        "rows": rows,
        "subscriptions": notifications.subscriptions_of(db, user.id),
        "teams": directory.list_teams(db),
    }
    return render(request, "notifications.html", context, user=user)


@router.post("/subscriptions")
def subscribe(request: Request, db: DbSession, user: CurrentUser, form: FormDep) -> Response:
    """Follow a team's or an incident's published reports (and the team's weekly digest)."""
    team = form.text("team", limit=80)
    incident = form.text("incident", limit=20)
    back = f"/incidents/{incident}/report" if incident else "/notifications"

    def write(actor: Any) -> str:
        if incident:
            row = incidents_repo.get_incident(db, actor, incident_key(incident))
            notifications.subscribe(db, user.id, incident_id=row.id)
            return f"You will hear when {row.public_id}'s report is published."
        notifications.subscribe(db, user.id, team_id=directory.team_by_slug(db, team).id)
        return f"Subscribed to {team}'s reports and weekly digest."

    return _run(request, db, user, back, write)


@router.post("/subscriptions/{subscription_id}/delete")
def unsubscribe(
    subscription_id: int, request: Request, db: DbSession, user: CurrentUser
) -> Response:
    def write(_actor: Any) -> str:
        notifications.unsubscribe(db, user.id, subscription_id)
        return "Unsubscribed."

    return _run(request, db, user, "/notifications", write)


@router.post("/notifications/read")
def notifications_read(request: Request, db: DbSession, user: CurrentUser) -> Response:
    with writing_as(db, user):
        notifications.mark_read(db, user.id)
    return see_other(request, "/notifications", "All marked read.")


@router.get("/learning")
def learning_page(request: Request, db: DbSession, user: CurrentUser) -> Response:
    actor = users.actor_for(user)
    rows = readership.learning_rows(db, actor)
    done, total = readership.follow_through(db, actor)
    context = {
        "rows": rows,
        "definitions": report_rules.LEARNING_DEFINITIONS,
        "done": done,
        "total": total,
        "median_days": report_rules.median(
            r.days_to_publish for r in rows if r.days_to_publish is not None
        ),
        "median_readers": report_rules.median(r.readers for r in rows),
    }
    return render(request, "learning.html", context, user=user)


@router.post("/action-items/{item_id}/issue")
def action_item_issue(
    item_id: int,
    request: Request,
    db: DbSession,
    user: CurrentUser,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """Open a Jira or GitHub issue for the item when configured; otherwise store the link."""
    from afteraction.services import notify
    from afteraction.services.incidents import update_action_item

    system = form.text("system", limit=10)
    link = form.text("url", limit=2000)
    back = form.text("next", limit=300)
    back = back if back.startswith("/incidents/") else "/action-items"

    def write(actor: Any) -> str:
        if link:
            update_action_item(db, actor, item_id, {"url": link})
            return "Link stored."
        url = notify.create_issue(db, settings, actor, item_id, system=system)
        return f"Issue created: {url}"

    return _run(request, db, user, back, write)
