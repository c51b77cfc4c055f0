"""Provenance and bookkeeping shared by every importer: checksums, the `Source` row each
import creates, the summary it returns, idempotency look-ups, and removing a source with
everything it brought.

Importers (one module per kind, e.g. `storage/import_slack.py`) follow one contract:

    def import_<kind>(session, actor, path_or_data, *, incident=None, ..., progress=None)
        -> ImportSummary

They run inside ONE write transaction opened by the caller (`with writing(session):`), so a
failure or a killed process leaves the database exactly as before; they create the Source
first with `start_source`, write rows pointing at it, then call `finish_source`. Re-importing
unchanged data returns the earlier summary with `already_imported=True` and writes nothing.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import Actor, require_write
from afteraction.core.errors import NotFound
from afteraction.storage import audit
from afteraction.storage.evidence_tables import Source

Progress = Callable[[int, int | None, str], None]
"""progress(done, total_or_None, what) — called from long imports; must be cheap."""

CHUNK = 1024 * 1024


@dataclass(slots=True)
class ImportSummary:
    kind: str
    source_id: int | None
    origin: str
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    already_imported: bool = False
    incident: str | None = None

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def skip(self, where: str, reason: str) -> None:
        self.skipped.append({"where": where, "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source_id": self.source_id,
            "origin": self.origin,
            "incident": self.incident,
            "already_imported": self.already_imported,
            "counts": dict(self.counts),
            "skipped": list(self.skipped),
            "unmatched": list(self.unmatched),
            "warnings": list(self.warnings),
        }


def checksum_path(path: Path) -> str:
    """SHA-256 identifying what a file, folder or zip holds.

    A folder hashes its files' relative names and contents, sorted. A zip hashes its members'
    names, sizes and CRC-32s rather than its bytes: zip headers carry modification times, so
    the same export zipped twice (or downloaded twice) differs byte for byte yet holds the same
    data, and must count as already imported."""
    digest = hashlib.sha256()
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
            digest.update(child.relative_to(path).as_posix().encode() + b"\0")
            _feed(digest, child)
    elif not _feed_zip_members(digest, path):
        _feed(digest, path)
    return digest.hexdigest()


def _feed_zip_members(digest: Any, path: Path) -> bool:
    """Feed a zip's member names, sizes and CRC-32s; False when `path` is not a readable zip
    (the importer reports what is wrong with it; the checksum falls back to its bytes)."""
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            members = sorted((i for i in archive.infolist() if not i.is_dir()),
                             key=lambda i: i.filename)  # fmt: skip
    except (zipfile.BadZipFile, OSError):
        return False
    digest.update(b"zip\0")
    for info in members:
        digest.update(f"{info.filename}\0{info.file_size}\0{info.CRC:08x}\n".encode())
    return True


def checksum_bytes(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def _feed(digest: Any, path: Path) -> None:
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)


def options_key(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options that change what an import brings in (channels, window, incident)."""
    return {k: options[k] for k in sorted(options) if options[k] not in (None, (), [])}


def find_previous(
    session: Session, *, kind: str, checksum: str, options: Mapping[str, Any]
) -> Source | None:
    """A completed earlier import of the same bytes with the same options, if any."""
    wanted = options_key(options)
    for source in session.scalars(
        select(Source).where(
            Source.kind == kind, Source.checksum == checksum, Source.status == "complete"
        )
    ):
        if (source.options or {}) == wanted:
            return source
    return None


def start_source(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    origin: str,
    checksum: str,
    incident_id: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> Source:
    require_write(actor)
    source = Source(
        kind=kind,
        origin=origin[:2000],
        checksum=checksum,
        imported_by=actor.label,
        incident_id=incident_id,
        status="importing",
        options=options_key(options or {}),
        counts={},
        warnings={},
    )
    session.add(source)
    session.flush()
    return source


def finish_source(session: Session, actor: Actor, source: Source, summary: ImportSummary) -> None:
    source.status = "complete"
    source.counts = dict(summary.counts)
    source.warnings = {
        "skipped": summary.skipped[:1000],
        "skipped_total": len(summary.skipped),
        "unmatched": summary.unmatched[:1000],
        "notes": summary.warnings[:1000],
    }
    summary.source_id = source.id
    audit.record(
        session,
        actor,
        f"import.{source.kind}",
        target_type="source",
        target_id=source.id,
        incident_id=source.incident_id,
        after={"origin": source.origin, "counts": source.counts},
    )


def previous_summary(source: Source) -> ImportSummary:
    warnings = source.warnings or {}
    return ImportSummary(
        kind=source.kind,
        source_id=source.id,
        origin=source.origin,
        counts=dict(source.counts or {}),
        skipped=list(warnings.get("skipped", [])),
        unmatched=list(warnings.get("unmatched", [])),
        warnings=list(warnings.get("notes", [])),
        already_imported=True,
    )


def list_sources(session: Session, *, incident_id: int | None = None) -> list[Source]:
    query = select(Source).order_by(Source.imported_at.desc(), Source.id.desc())
    if incident_id is not None:
        query = query.where(Source.incident_id == incident_id)
    return list(session.scalars(query))


def remove_source(session: Session, actor: Actor, source_id: int) -> dict[str, int]:
    """Delete a source and every row it brought (foreign keys cascade)."""
    require_write(actor)
    source = session.get(Source, source_id)
    if source is None:
        raise NotFound("source", source_id)
    counts = dict(source.counts or {})
    audit.record(
        session,
        actor,
        "source.removed",
        target_type="source",
        target_id=source_id,
        incident_id=source.incident_id,
        before={"origin": source.origin, **counts},
    )
    session.delete(source)
    session.flush()
    return counts


def chunked(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
