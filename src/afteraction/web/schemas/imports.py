"""API schemas of background imports: the answer to an upload (`ImportQueued`), an import
job's state (`JobRead`) and the latest jobs (`JobList`). Sources and summaries are shared
with the CLI (`afteraction.services.schemas.imports`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from afteraction.services.schemas.common import ReadModel, Timestamp
from afteraction.services.schemas.imports import ImportSummaryRead
from afteraction.web.schemas.common import Strict


class ImportQueued(ReadModel):
    job: int
    status_url: str = Field(description="GET it for the job's progress and outcome")


class JobProgress(ReadModel):
    done: int
    total: int | None
    stage: str


class JobRead(ReadModel):
    id: int
    kind: str
    filename: str
    options: dict[str, Any]
    status: str = Field(description="preview, queued, running, complete or failed")
    progress: JobProgress
    summary: ImportSummaryRead | None = Field(description="What the import did, once complete")
    preview: dict[str, Any] | None = Field(
        None,
        description="While the job waits for confirmation (status preview): what the upload "
        "holds, per channel and day, as `afteraction import slack --dry-run --json` prints it",
    )
    error: str | None
    source_id: int | None
    created_by: str
    created_at: Timestamp
    updated_at: Timestamp
    heartbeat_at: Timestamp | None = Field(
        None,
        description="When the worker last said it was running the job (a job without one "
        "for AFTERACTION_QUEUE_STALE_AFTER seconds is failed: its worker stopped)",
    )


class JobList(ReadModel):
    items: list[JobRead] = Field(
        description="The latest jobs first: the caller's own, or all for an admin"
    )


class PreviewWindow(Strict):
    """Another window for an import waiting in preview: the same upload is counted again.
    Send the preview's `suggested_window` to catch everything its channels hold."""

    since: str | None = Field(
        None, max_length=40, description="Window start, ISO 8601 with an offset; null: open"
    )
    until: str | None = Field(
        None, max_length=40, description="Window end, ISO 8601 with an offset; null: open"
    )


class PreviewDecision(Strict):
    """The body of a previewed import's confirm or discard: nothing to add (`{}` or none);
    the job is decided as it was previewed."""
