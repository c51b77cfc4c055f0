"""The import page: upload evidence (kind, file, and the kind's own fields: incident,
channels and window for Slack, the recording's start for a transcript...) as a background
job, follow its progress (htmx polling every second, a meta refresh without JavaScript),
read its summary, and list or remove imported sources. A Slack upload can be previewed
first: the job waits in `preview` with what the export holds per day and what the window
catches (`importers.slack_preview`, the numbers `import slack --dry-run` prints) until its
user confirms or discards it.

The form shows only the chosen kind's fields (`KIND_FIELDS`): the kind is chosen with a
GET (`/imports?kind=transcript&incident=INC-42`, links that work without JavaScript, which
app.js turns into an in-place switch), and a POST reads only that kind's fields. A
transcript's recording start defaults to the incident's start, shown when the incident is
known.

Lives here: the `/imports` routes. Does not live here: a job's life (start, preview,
confirm, discard, who sees it: `services.imports.jobs`, which the API calls too), storing
the upload (`web.routes.api_imports`, shared with the API), import logic
(`afteraction.services.imports`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from afteraction.core.access import Actor
from afteraction.core.errors import AfteractionError, ValidationError
from afteraction.services import users
from afteraction.services.imports import jobs
from afteraction.services.imports.jobs import visible_job
from afteraction.services.imports.kinds import (
    IMPORT_KINDS,
)
from afteraction.services.imports.sources import remove_visible_source, visible_sources
from afteraction.services.imports.transcripts import default_recording_start
from afteraction.services.schemas import source_read
from afteraction.storage.tables import User
from afteraction.web.deps import CurrentUser, DbSession, queue_of
from afteraction.web.routes.api_imports import (
    check_recording_start,
    job_read,
    options_of,
    start_import,
)
from afteraction.web.routes.pages_forms import (
    can_write,
    errors_of,
    render_page,
    see_other,
    writing_as,
)
from afteraction.web.routes.pages_incidents import FormDep
from afteraction.web.schemas.common import RowId
from afteraction.web.templating import render
from afteraction.web.uploads import UploadDep, text_field

router = APIRouter(include_in_schema=False)

KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "slack": ("incident", "channels", "since", "until"),
    "pagerduty": ("incident",),
    "oncall": ("since", "until"),
    "roster": (),
    "transcript": ("incident", "recording_start"),
    "reports": (),
}
"""The form fields each kind reads (a kind registered later takes incident only)."""
FIELDS = ("incident", "channels", "since", "until", "recording_start")


def fields_of(kind: str) -> tuple[str, ...]:
    return KIND_FIELDS.get(kind, ("incident",))


@dataclass(slots=True)
class ImportsPage:
    kinds: list[str]
    can_write: bool
    sources: list[dict[str, Any]]
    jobs: list[dict[str, Any]]
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    removal: dict[str, Any] | None = None
    kind: str = "slack"
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _page(db: Session, actor: Actor) -> ImportsPage:
    listed = [job_read(j).model_dump(mode="json") for j in jobs.visible_jobs(db, actor)]
    kinds = sorted(IMPORT_KINDS)
    return ImportsPage(
        kinds=kinds,
        can_write=can_write(actor),
        sources=[source_read(s).model_dump(mode="json") for s in visible_sources(db, actor)],
        jobs=listed,
        fields={k: fields_of(k) for k in kinds},
    )


@router.get("/imports")
def imports_page(request: Request, db: DbSession, user: CurrentUser) -> Response:
    """The page, its form set for `?kind=` (default slack) and `?incident=`."""
    actor = users.actor_for(user)
    page = _page(db, actor)
    params = request.query_params
    kind, incident = params.get("kind", "slack"), params.get("incident", "").strip()[:40]
    page.values = {"kind": kind, "incident": incident}
    status = 200
    try:
        if kind not in IMPORT_KINDS:
            raise ValidationError(
                f"unknown kind {kind!r}; known: {', '.join(page.kinds)}", field="kind"
            )
        page.kind = kind
        if incident and "recording_start" in fields_of(kind):
            start = default_recording_start(db, actor, incident)
            page.values["recording_start"] = start.isoformat() if start else ""
    except AfteractionError as error:
        db.rollback()
        page.errors, status = errors_of(error), 422
    return render_page(request, "imports.html", page, user=user, status_code=status)


@router.post("/imports")
async def upload(request: Request, db: DbSession, sent: UploadDep) -> Response:
    """Queue (or preview) an import; the caller and their right to import are checked
    before the body is read (`afteraction.web.uploads`)."""
    user, actor, form = sent.user, sent.actor, sent.form
    kind = text_field(form, "kind") or "slack"
    values = {n: text_field(form, n) if n in fields_of(kind) else "" for n in FIELDS}
    values["kind"] = kind
    file = form.get("file")
    preview = text_field(form, "preview") == "1"
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            raise ValidationError("choose a file to upload", field="file")
        options = options_of(
            values["incident"],
            values["channels"],
            values["since"],
            values["until"],
            values["recording_start"],
        )
        check_recording_start(kind, options)
        job = await start_import(
            request, db, actor, kind=kind, file=file, options=options, preview=preview
        )
    except AfteractionError as error:
        return await run_in_threadpool(_refused, request, db, user, values, error)
    notice = "Preview ready: nothing is imported until you confirm" if preview else "Import queued"
    return see_other(request, f"/imports/jobs/{job.id}", notice)


@router.post("/imports/jobs/{job_id}/confirm")
def confirm_import(job_id: RowId, request: Request, db: DbSession, user: CurrentUser) -> Response:
    """Queue a previewed import as it was previewed (same upload, same options)."""
    jobs.confirm(db, users.actor_for(user), queue_of(request), job_id)
    return see_other(request, f"/imports/jobs/{job_id}", "Import queued")


@router.post("/imports/jobs/{job_id}/window")
def rewindow_preview(
    job_id: RowId, request: Request, db: DbSession, user: CurrentUser, form: FormDep
) -> Response:
    """Preview the same upload again with another window (the one the preview suggests),
    without uploading it again."""
    job = jobs.preview_again(
        db,
        users.actor_for(user),
        job_id,
        since=form.text("since", limit=40),
        until=form.text("until", limit=40),
    )
    window = f"{job.options['since'] or 'the beginning'} – {job.options['until'] or 'now'}"
    return see_other(request, f"/imports/jobs/{job_id}", f"Previewed again with {window}")


@router.post("/imports/jobs/{job_id}/discard")
def discard_import(job_id: RowId, request: Request, db: DbSession, user: CurrentUser) -> Response:
    """Drop a previewed import: the job fails as discarded and its upload is deleted."""
    jobs.discard(db, users.actor_for(user), job_id)
    return see_other(request, "/imports", f"Import job {job_id} discarded")


def _refused(
    request: Request, db: Session, user: User, values: dict[str, str], error: AfteractionError
) -> Response:
    """The import page again with the refused values and why (reads the database)."""
    db.rollback()
    page = _page(db, users.actor_for(user))
    page.values, page.errors = values, errors_of(error)
    if values.get("kind") in IMPORT_KINDS:
        page.kind = values["kind"]
    return render_page(request, "imports.html", page, user=user, status_code=422)


@router.get("/imports/jobs/{job_id}")
def job_page(job_id: RowId, request: Request, db: DbSession, user: CurrentUser) -> Response:
    job = job_read(visible_job(db, users.actor_for(user), job_id)).model_dump(mode="json")
    return render_page(request, "import_job.html", job, user=user)


@router.get("/imports/jobs/{job_id}/status")
def job_status(job_id: RowId, request: Request, db: DbSession, user: CurrentUser) -> Response:
    """The status fragment htmx swaps in every second while the job runs."""
    job = job_read(visible_job(db, users.actor_for(user), job_id)).model_dump(mode="json")
    return render(request, "_import_job_status.html", {"job": job}, user=user)


@router.post("/imports/sources/{source_id}/remove")
def remove_source(source_id: RowId, request: Request, db: DbSession, user: CurrentUser) -> Response:
    """Remove the source, then show the import page with what was removed and what was kept
    (incidents the source created that something else was attached to or that were changed)."""
    actor = users.actor_for(user)
    with writing_as(db, user):
        removal = remove_visible_source(db, actor, source_id)
    page = _page(db, actor)
    page.removal = removal.as_dict()
    return render_page(request, "imports.html", page, user=user)
