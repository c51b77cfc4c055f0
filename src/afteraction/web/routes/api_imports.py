"""REST endpoints for evidence imports: upload a file as a background job and poll it, list
imported sources and remove one with everything it brought.

Flow: `POST /api/v1/imports` (multipart: `kind`, `file`, `incident`, `channels`, `since`,
`until`, and a transcript's `recording_start`, by default the incident's start), read only
once the caller is known and may import (`afteraction.web.uploads`), stores the upload under
`uploads_dir` (streamed to disk, refused past `max_upload_bytes`), records an
`import_jobs` row and queues `run_import`; it answers
`202 {"job": id, "status_url": "/api/v1/imports/{id}"}`. The upload is deleted when the job
completes or fails (and at once when it cannot be recorded or queued); files left behind
by a crash are swept before the next upload is stored. `GET` that URL for the status
(queued, running, complete, failed), progress, and the summary or error. A Slack upload
sent with `preview=true` imports nothing yet: it waits in `preview` with what it holds
until `POST /api/v1/imports/{id}/confirm` queues it or `.../discard` drops it, as on the
page (`services.imports.jobs` runs both). `GET /api/v1/imports` lists the latest jobs.

The event loop never waits for the disk or the database: copying the upload, sweeping,
recording and queueing the job run in the thread pool (on SQLite, recording a job waits for
the write lock while another import runs; other requests must not wait with it).

Privacy: a job is visible to whoever queued it and to admins; a source attached to a
private incident only to those who may see that incident.
"""

from __future__ import annotations

import logging
import re
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from afteraction.config import Settings
from afteraction.core.access import Actor
from afteraction.core.errors import TooLarge, ValidationError
from afteraction.services.imports import jobs
from afteraction.services.imports.jobs import visible_job
from afteraction.services.imports.kinds import check_options, read_progress
from afteraction.services.imports.sources import remove_visible_source, visible_sources
from afteraction.storage import import_jobs
from afteraction.storage.db import writing
from afteraction.web import schemas as s
from afteraction.web.deps import CurrentActor, DbSession, queue_of
from afteraction.web.schemas.common import RowId
from afteraction.web.uploads import UploadDep, text_field

router = APIRouter()
log = logging.getLogger(__name__)
CHUNK = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_name(name: str | None) -> str:
    base = Path(name or "upload").name
    return (_UNSAFE.sub("_", base).strip("._") or "upload")[:100]


def store_upload(upload: StarletteUpload, settings: Settings) -> Path:
    """Copy the upload to the uploads folder in chunks, refusing it past the size limit
    (blocking file I/O: call it from a worker thread)."""
    given = upload.filename or "the uploaded file"
    folder = settings.uploads_path()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{secrets.token_hex(8)}-{_safe_name(upload.filename)}"
    size = 0
    try:
        upload.file.seek(0)
        with target.open("wb") as out:
            while chunk := upload.file.read(CHUNK):
                size += len(chunk)
                if size > settings.max_upload_bytes:
                    raise TooLarge(
                        f"{given}: larger than {settings.max_upload_bytes} bytes",
                        field="file",
                    )
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if size == 0:
        target.unlink(missing_ok=True)
        raise ValidationError(f"{given}: the file is empty", field="file")
    return target


def options_of(
    incident: str | None,
    channels: str | None,
    since: str | None,
    until: str | None,
    recording_start: str | None = None,
) -> dict[str, Any]:
    names = [c.strip().lstrip("#") for c in re.split(r"[,\s]+", channels or "") if c.strip()]
    options = {
        "incident": (incident or "").strip() or None,
        "channels": names,
        "since": (since or "").strip() or None,
        "until": (until or "").strip() or None,
    }
    if recording_start and recording_start.strip():  # a transcript's; absent for other kinds
        options["recording_start"] = recording_start.strip()
    check_options(options)
    return options


def check_recording_start(kind: str, options: dict[str, Any]) -> None:
    """Only a transcript takes a recording start. One not given is the import's to choose
    (`transcripts.recording_start_for`: a Zoom file name's, else the incident's start), so
    that the CLI, the API and the page place the same file's cues alike."""
    if kind != "transcript" and options.get("recording_start"):
        raise ValidationError(
            "recording_start is for a transcript import only", field="recording_start"
        )


async def start_import(
    request: Request,
    db: Session,
    actor: Actor,
    *,
    kind: str,
    file: StarletteUpload,
    options: dict[str, Any],
    preview: bool = False,
) -> import_jobs.ImportJob:
    """`jobs.start_import` with this request's upload and queue (shared with the page), in
    the thread pool: storing the upload, sweeping and recording the job all block."""
    settings = request.app.state.settings
    return await run_in_threadpool(
        jobs.start_import,
        db,
        actor,
        queue_of(request),
        kind=kind,
        options=options,
        store=lambda: store_upload(file, settings),
        filename=file.filename,
        uploads=settings.uploads_path(),
        preview=preview,
    )


def job_read(job: import_jobs.ImportJob) -> s.JobRead:
    progress = {"done": job.done, "total": job.total, "stage": job.stage}
    if job.status == "running":
        progress.update(read_progress(Path(job.path)) or {})
    # a job discarded after its preview keeps the preview, which is not an import summary
    previewed = job.status == "preview" or bool((job.summary or {}).get("dry_run"))
    return s.JobRead(
        id=job.id,
        kind=job.kind,
        filename=job.filename,
        options=job.options,
        status=job.status,
        progress=s.JobProgress.model_validate(progress),
        summary=None if previewed else job.summary,
        preview=job.summary if job.status == "preview" else None,
        error=job.error,
        source_id=job.source_id,
        created_by=job.created_by,
        created_at=job.created_at,
        updated_at=job.updated_at,
        heartbeat_at=job.heartbeat_at,
    )


IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The export or file to import.",
                        },
                        "kind": {
                            "type": "string",
                            "default": "slack",
                            "description": "What the file is: slack, ...",
                        },
                        "incident": {
                            "type": "string",
                            "description": "Attach to this incident (INC-42).",
                        },
                        "channels": {
                            "type": "string",
                            "description": "Channel names, comma-separated.",
                        },
                        "since": {"type": "string", "description": "Window start, ISO 8601."},
                        "until": {"type": "string", "description": "Window end, ISO 8601."},
                        "preview": {
                            "type": "boolean",
                            "default": False,
                            "description": "A Slack export only: count what it holds per "
                            "channel and day and what the window catches, import nothing, "
                            "and wait in status preview for POST .../confirm or .../discard.",
                        },
                        "recording_start": {
                            "type": "string",
                            "description": "A transcript's recording start, ISO 8601 with an "
                            "offset; places each cue in time. Default: the incident's start.",
                        },
                    },
                }
            }
        },
    }
}
"""`openapi_extra=` of the upload: the route reads its form itself, after checking the
caller (`afteraction.web.uploads`), so FastAPI does not describe it."""


@router.post(
    "/imports",
    tags=["imports"],
    status_code=202,
    response_model=s.ImportQueued,
    responses=s.TOO_LARGE,
    openapi_extra=IMPORT_BODY,
)
async def create_import(request: Request, db: DbSession, upload: UploadDep) -> s.ImportQueued:
    """Queue an import of the uploaded file. The caller and their right to import are
    checked before the body is read; a body past the size limit is refused with 413."""
    form = upload.form
    file = form.get("file")
    if not isinstance(file, StarletteUpload):
        raise ValidationError("attach the file to import as the 'file' field", field="file")
    options = options_of(
        text_field(form, "incident"),
        text_field(form, "channels"),
        text_field(form, "since"),
        text_field(form, "until"),
        text_field(form, "recording_start"),
    )
    kind = text_field(form, "kind") or "slack"
    check_recording_start(kind, options)
    preview = (text_field(form, "preview") or "").lower() in ("1", "true", "yes", "on")
    job = await start_import(
        request, db, upload.actor, kind=kind, file=file, options=options, preview=preview
    )
    return s.ImportQueued(job=job.id, status_url=f"/api/v1/imports/{job.id}")


@router.get("/imports", tags=["imports"], response_model=s.JobList)
def list_imports(
    db: DbSession, actor: CurrentActor, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> s.JobList:
    """The latest import jobs: the caller's own, or everyone's for an admin."""
    return s.JobList(items=[job_read(j) for j in jobs.visible_jobs(db, actor, limit=limit)])


@router.get("/imports/{job_id}", tags=["imports"], response_model=s.JobRead)
def get_import(job_id: RowId, db: DbSession, actor: CurrentActor) -> s.JobRead:
    return job_read(visible_job(db, actor, job_id))


_AS_PREVIEWED = s.PreviewDecision()  # the body, which may be left out


@router.post("/imports/{job_id}/confirm", tags=["imports"], response_model=s.JobRead)
def confirm_import(
    job_id: RowId,
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    _body: Annotated[s.PreviewDecision, Body()] = _AS_PREVIEWED,
) -> s.JobRead:
    """Queue an import waiting in preview, as it was previewed (same upload and options)."""
    return job_read(jobs.confirm(db, actor, queue_of(request), job_id))


@router.post("/imports/{job_id}/window", tags=["imports"], response_model=s.JobRead)
def preview_window(
    job_id: RowId, db: DbSession, actor: CurrentActor, body: s.PreviewWindow
) -> s.JobRead:
    """Count an import waiting in preview again with another window, without uploading it
    again (as the import page's "Preview again with ..." does); the job keeps waiting."""
    return job_read(jobs.preview_again(db, actor, job_id, since=body.since, until=body.until))


@router.post("/imports/{job_id}/discard", tags=["imports"], response_model=s.JobRead)
def discard_import(
    job_id: RowId,
    db: DbSession,
    actor: CurrentActor,
    _body: Annotated[s.PreviewDecision, Body()] = _AS_PREVIEWED,
) -> s.JobRead:
    """Drop an import waiting in preview: the job fails as discarded, its upload is deleted."""
    return job_read(jobs.discard(db, actor, job_id))


@router.get("/sources", tags=["imports"], response_model=s.SourceList)
def list_sources(db: DbSession, actor: CurrentActor, incident: str | None = None) -> s.SourceList:
    return s.SourceList(
        items=[s.source_read(x) for x in visible_sources(db, actor, incident=incident)]
    )


@router.delete("/sources/{source_id}", tags=["imports"], response_model=s.SourceRemovalRead)
def delete_source(source_id: RowId, db: DbSession, actor: CurrentActor) -> s.SourceRemovalRead:
    """Remove a source with everything it brought. The answer lists the rows removed by
    table, the incidents the source had created that went with it (`incidents_removed`),
    and those kept because something else was attached or changed (`incidents_kept`)."""
    with writing(db):
        return s.source_removal_read(remove_visible_source(db, actor, source_id))
