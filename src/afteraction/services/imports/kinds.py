"""Imports run as background jobs: the kinds an upload can be (`IMPORT_KINDS`), and
`run_job`, which the queue's `run_import` task calls with a job id.

Lives here: the dispatch table (kind → function taking a stored upload and its options) and
the job's life: queued → running → complete | failed, with progress. Does not live here:
receiving uploads (`web.routes.api_imports`), the queue (`afteraction.jobs`), the import
logic of each kind (its own module). Other kinds plug in with `register_kind`.

Progress while running: on SQLite the import's one write transaction holds the database's
write lock until it commits, so progress cannot be committed beside it; it is written to a
small JSON file next to the upload (`<upload>.progress.json`, at most once a second), which
`read_progress` returns. Status, summary and error are always in the `import_jobs` row.
Uploads live only as long as their job: `run_job` deletes the upload and its progress files
once the job is complete or failed, and `sweep_uploads` deletes leftovers no job uses.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.orm import Session

from afteraction.core import times
from afteraction.core.access import Actor
from afteraction.core.errors import AfteractionError, Unavailable, ValidationError
from afteraction.services import users
from afteraction.services.imports.oncall import import_oncall
from afteraction.services.imports.pagerduty import MAX_FILE_BYTES, import_pagerduty
from afteraction.services.imports.past_reports import import_reports
from afteraction.services.imports.roster import import_roster
from afteraction.services.imports.slack import import_slack_export
from afteraction.services.imports.slack_preview import preview_slack_export
from afteraction.services.imports.sources import ImportSummary, Progress
from afteraction.services.imports.transcripts import import_transcript
from afteraction.storage import import_jobs
from afteraction.storage.db import make_engine, make_session_factory, writing
from afteraction.storage.evidence_tables import Source
from afteraction.storage.tables import User
from afteraction.storage.types import utcnow

log = logging.getLogger(__name__)
INTERNAL_ERROR = "the import failed on an internal error; the server log has the details"
UNAVAILABLE = "the database could not be used during the import; try again later"

ImportKind = Callable[[Session, Actor, Path, Mapping[str, Any], Progress | None], ImportSummary]
"""kind(session, actor, stored upload path, options, progress) -> summary (in the caller's
write transaction)."""


def _time(value: Any, name: str) -> datetime | None:
    """An import option's time (JSON: any value), read by `core.times.parse_time`."""
    return times.parse_time(None if value is None else str(value), name)


def _slack(
    session: Session,
    actor: Actor,
    path: Path,
    options: Mapping[str, Any],
    progress: Progress | None,
) -> ImportSummary:
    return import_slack_export(
        session,
        actor,
        path,
        incident=options.get("incident") or None,
        channels=tuple(options.get("channels") or ()),
        since=_time(options.get("since"), "since"),
        until=_time(options.get("until"), "until"),
        progress=progress,
    )


def _pagerduty(
    session: Session,
    actor: Actor,
    path: Path,
    options: Mapping[str, Any],
    progress: Progress | None,
) -> ImportSummary:
    return import_pagerduty(
        session,
        actor,
        path,
        incident=options.get("incident") or None,
        progress=progress,
        max_file_bytes=int(options.get(MAX_JSON_OPTION) or MAX_FILE_BYTES),
    )


def _oncall(
    session: Session,
    actor: Actor,
    path: Path,
    options: Mapping[str, Any],
    progress: Progress | None,
) -> ImportSummary:
    return import_oncall(
        session,
        actor,
        path,
        since=_time(options.get("since"), "since"),
        until=_time(options.get("until"), "until"),
        progress=progress,
        max_file_bytes=int(options.get(MAX_JSON_OPTION) or MAX_FILE_BYTES),
    )


def _roster(
    session: Session,
    actor: Actor,
    path: Path,
    _options: Mapping[str, Any],
    progress: Progress | None,
) -> ImportSummary:
    return import_roster(session, actor, path, progress=progress)


def _transcript(
    session: Session,
    actor: Actor,
    path: Path,
    options: Mapping[str, Any],
    progress: Progress | None,
) -> ImportSummary:
    incident = options.get("incident")
    if not incident:
        raise ValidationError("a transcript belongs to an incident", field="incident")
    return import_transcript(
        session,
        actor,
        path,
        incident=str(incident),
        recording_start=_time(options.get("recording_start"), "recording_start"),
        progress=progress,
    )


def _reports(
    session: Session,
    actor: Actor,
    path: Path,
    _options: Mapping[str, Any],
    progress: Progress | None,
) -> ImportSummary:
    return import_reports(session, actor, [path], progress=progress)


IMPORT_KINDS: dict[str, ImportKind] = {
    "slack": _slack,
    "pagerduty": _pagerduty,
    "oncall": _oncall,
    "roster": _roster,
    "transcript": _transcript,
    "reports": _reports,
}


def register_kind(name: str, kind: ImportKind) -> None:
    """Let another importer accept uploads (e.g. "pagerduty", "roster")."""
    IMPORT_KINDS[name] = kind


def preview_slack(
    session: Session, actor: Actor, path: Path, options: Mapping[str, Any]
) -> dict[str, Any]:
    """The preview of a stored Slack upload with a job's options (what `_slack` would
    import), as the page shows it; nothing is written."""
    return preview_slack_export(
        session,
        actor,
        path,
        incident=options.get("incident") or None,
        channels=tuple(options.get("channels") or ()),
        since=_time(options.get("since"), "since"),
        until=_time(options.get("until"), "until"),
    ).as_dict()


def check_options(options: Mapping[str, Any]) -> None:
    """Refuse bad times before a job is queued (the job would fail anyway)."""
    for name in ("since", "until", "recording_start"):
        _time(options.get(name), name)


def progress_path(upload: Path) -> Path:
    return upload.with_name(upload.name + ".progress.json")


def read_progress(upload: Path) -> dict[str, Any] | None:
    """The last progress a running job wrote next to its upload, if any."""
    try:
        data = orjson.loads(progress_path(upload).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _file_progress(upload: Path) -> Progress:
    last = [0.0]

    def report(done: int, total: int | None, what: str) -> None:
        now = time.monotonic()
        if now - last[0] < 1.0 and what != "done":
            return
        last[0] = now
        target = progress_path(upload)
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps({"done": done, "total": total, "stage": what}))
        os.replace(temporary, target)

    return report


def _actor(session: Session, job: import_jobs.ImportJob) -> Actor:
    user = session.get(User, job.created_by_user_id) if job.created_by_user_id else None
    if user is None or not user.is_active:
        raise ValidationError("the user who queued this import no longer exists or is inactive")
    return users.actor_for(user)


def discard_upload(upload: Path) -> bool:
    """Delete a stored upload and the progress files beside it; True when nothing is left.
    Never raises: a file that cannot be deleted stays for `sweep_uploads` to find."""
    left = False
    for path in (upload, progress_path(upload), progress_path(upload).with_suffix(".tmp")):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            left = True
    return not left


MAX_JSON_OPTION = "max_json_file_bytes"
"""Option `run_job` adds for the kinds from `Settings.max_json_file_bytes` (not a user's)."""


def run_job(
    database_url: str,
    job_id: int,
    *,
    max_json_file_bytes: int | None = None,
    heartbeat_every: float = 10.0,
) -> str:
    """Run a queued job once (a job already started or finished is left alone); returns the
    final status. Never raises for an import error: it is stored on the job.

    The job is set running with a heartbeat, stamped again every `heartbeat_every` seconds
    while the import runs (PostgreSQL; on SQLite the import holds the write lock, so nothing
    can be committed beside it, and nothing needs to be: failing a dead job takes that same
    lock, which is free only once the import committed or its process died). A complete
    job commits with its import, in one transaction.

    The upload is deleted once the job is complete or failed: the final state (with `path`
    cleared) is committed first, then the file goes, so the row never names a file that is
    gone while the job is still running, nor keeps a finished job's data on disk."""
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    try:
        with factory() as state, factory() as work:
            job = import_jobs.get_job(state, job_id)
            if job.status != "queued":
                return job.status
            import_jobs.set_state(state, job_id, "running")
            upload = Path(job.path)
            options = dict(job.options or {})
            options.pop(MAX_JSON_OPTION, None)
            if max_json_file_bytes is not None:
                options[MAX_JSON_OPTION] = max_json_file_bytes
            if engine.dialect.name == "sqlite":
                failure = _run(state, work, job, upload, options)
            else:
                with import_jobs.Heartbeat(factory, job_id, every=heartbeat_every):
                    failure = _run(state, work, job, upload, options)
            if failure is not None:
                import_jobs.set_state(state, job_id, "failed", path="", error=failure)
            discard_upload(upload)
            return "complete" if failure is None else "failed"
    finally:
        engine.dispose()


def _run(
    state: Session,
    work: Session,
    job: import_jobs.ImportJob,
    upload: Path,
    options: Mapping[str, Any],
) -> str | None:
    """Run the job's import and complete the job, in one transaction; the error if it
    failed (nothing of it is kept then), else None. Messages, the summary and the source's
    origin name the file the user gave, not the stored upload."""
    filename = job.filename
    try:
        kind = IMPORT_KINDS.get(job.kind)
        if kind is None:
            raise ValidationError(f"unknown import kind {job.kind!r}", field="kind")
        actor = _actor(state, job)
        job_id, done = job.id, job.done
        state.rollback()
        with writing(work):
            summary = kind(work, actor, upload, options, _file_progress(upload))
            answer = _given_summary(work, summary, upload, filename)
            import_jobs.finish(
                work,
                job_id,
                "complete",
                path="",
                summary=answer,
                source_id=summary.source_id,
                done=summary.counts.get("messages", done),
            )
    except Unavailable as error:  # its message names the database's file or server
        log.error("import job %s: database unavailable: %s", job.id, error)
        return UNAVAILABLE
    except AfteractionError as error:
        return as_given(error.message, upload, filename)
    except Exception:  # a bug must still end the job, not leave it running
        # the exception's text may name server paths or hold the database's raw error:
        # it goes to the log, the job says only that it failed
        log.exception("import job %s failed on an internal error", job.id)
        return INTERNAL_ERROR
    return None


def as_given(message: str, upload: Path, filename: str) -> str:
    """`message` naming the file the user gave, not the stored upload: uploads are saved
    under a generated name in the server's folder, which means nothing to the user (and
    the folder is the server's business)."""
    given = filename or "the uploaded file"
    message = message.replace(str(upload), given)
    return message.replace(upload.name, given)


def _given_summary(
    session: Session, summary: ImportSummary, upload: Path, filename: str
) -> dict[str, Any]:
    """The summary as stored on the job, every text naming the file the user gave; the
    source this import recorded gets that name as its origin too."""

    def rename(value: Any) -> Any:
        if isinstance(value, str):
            return as_given(value, upload, filename)
        if isinstance(value, list):
            return [rename(item) for item in value]
        if isinstance(value, dict):
            return {key: rename(item) for key, item in value.items()}
        return value

    answer: dict[str, Any] = rename(summary.as_dict())
    source = session.get(Source, summary.source_id) if summary.source_id else None
    if source is not None and source.origin != as_given(source.origin, upload, filename):
        source.origin = as_given(source.origin, upload, filename)
    return answer


PREVIEW_KEEP = timedelta(days=1)
"""How long an upload shown in preview waits for its user to confirm the import."""


def sweep_uploads(session: Session, folder: Path) -> list[Path]:
    """Delete files in the uploads folder that no queued or running job uses, nor a preview
    younger than `PREVIEW_KEEP` (left behind by a crash between storing an upload and
    recording its job, a failed delete, or a preview never confirmed); returns what was
    deleted. Files younger than a minute are left: their job may be being recorded."""
    if not folder.is_dir():
        return []
    in_use: set[str] = set()
    kept = utcnow() - PREVIEW_KEEP
    statuses = ("queued", "running", "preview")
    for job in import_jobs.list_jobs(session, limit=None, statuses=statuses):
        if job.status == "preview" and job.updated_at < kept:
            continue
        if job.path:
            upload = Path(job.path)
            in_use |= {upload.name, progress_path(upload).name}
            in_use.add(progress_path(upload).with_suffix(".tmp").name)
    session.rollback()
    cutoff = time.time() - 60
    removed: list[Path] = []
    for path in sorted(folder.iterdir()):
        try:
            if path.name in in_use or not path.is_file() or path.stat().st_mtime > cutoff:
                continue
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed
