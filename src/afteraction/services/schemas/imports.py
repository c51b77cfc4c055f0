"""Read models of imports, shared by `/api/v1/imports…`, `/api/v1/sources…` and
`afteraction import … --json`: what an import did (`ImportSummaryRead`), an imported source
(`SourceRead`) and what removing one did (`SourceRemovalRead`), with their builders.
"""

from __future__ import annotations

from pydantic import Field

from afteraction.services.imports.sources import ImportSummary, SourceRemoval
from afteraction.services.schemas.common import ReadModel, Timestamp
from afteraction.storage.evidence_tables import Source


class SkippedItem(ReadModel):
    where: str
    reason: str


class ImportSummaryRead(ReadModel):
    kind: str
    source_id: int | None
    origin: str
    incident: str | None = Field(description="The incident attached to, if any")
    already_imported: bool = Field(description="The same file was imported before: nothing added")
    counts: dict[str, int] = Field(description="What was added, by kind")
    skipped: list[SkippedItem]
    unmatched: list[str] = Field(description="People named in the file but not in the directory")
    warnings: list[str]


class SourceWarnings(ReadModel):
    """What an import skipped or could not match (the first 1,000 of each)."""

    skipped: list[SkippedItem] = Field(default_factory=list)
    skipped_total: int = 0
    unmatched: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class SourceRead(ReadModel):
    id: int
    kind: str
    origin: str
    incident: str | None
    imported_at: Timestamp
    imported_by: str
    status: str = Field(description="importing, complete or failed")
    counts: dict[str, int]
    warnings: SourceWarnings


class SourceList(ReadModel):
    items: list[SourceRead]


class KeptIncident(ReadModel):
    incident: str
    reason: str


class SourceRemovalRead(ReadModel):
    removed: int = Field(description="The removed source's id")
    kind: str
    origin: str
    counts: dict[str, int] = Field(description="What the source had brought")
    rows: dict[str, int] = Field(description="Rows removed, by table")
    incidents_removed: list[str] = Field(description="Incidents the source created, removed")
    incidents_kept: list[KeptIncident] = Field(description="Incidents it created, kept, and why")


def import_summary_read(summary: ImportSummary) -> ImportSummaryRead:
    return ImportSummaryRead.model_validate(summary.as_dict())


def source_read(source: Source) -> SourceRead:
    return SourceRead(
        id=source.id,
        kind=source.kind,
        origin=source.origin,
        incident=source.incident.public_id if source.incident else None,
        imported_at=source.imported_at,
        imported_by=source.imported_by,
        status=source.status,
        counts=dict(source.counts or {}),
        warnings=SourceWarnings.model_validate(source.warnings or {}),
    )


def source_removal_read(removal: SourceRemoval) -> SourceRemovalRead:
    return SourceRemovalRead.model_validate(removal.as_dict())
