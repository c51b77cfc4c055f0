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

A source read from a file on the server keeps the file's name as its origin, never the
server's path to it (`stored_origin`): origins are listed to every reader of the imports.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from afteraction.core.access import Actor, require_write
from afteraction.core.errors import NotFound
from afteraction.services import incidents
from afteraction.storage import audit, source_people
from afteraction.storage.evidence_tables import (
    Channel,
    ImportedReport,
    IncidentChannel,
    Message,
    Source,
)
from afteraction.storage.models import Base
from afteraction.storage.tables import AuditLog, Incident
from afteraction.storage.visibility import visibility_clause

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


_LABELLED = re.compile(r"^[a-z][a-z0-9_+.-]+:", re.IGNORECASE)
"""An origin that names a system, not a file: `slack:C123`, `interview:7`, `https://...`."""


def stored_origin(origin: str) -> str:
    """`origin` as a source keeps it: a file path becomes the file's name."""
    if _LABELLED.match(origin) or ("/" not in origin and "\\" not in origin):
        return origin
    return PurePath(origin.replace("\\", "/")).name or origin


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
        origin=stored_origin(origin)[:2000],
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


def visible_sources(
    session: Session,
    actor: Actor,
    *,
    incident: str | int | None = None,
    source_id: int | None = None,
) -> list[Source]:
    """Sources of no incident or of an incident the actor may see, newest first; only those
    of `incident` (INC-42 or its number, NotFound unless visible) or the one `source_id`."""
    query = (
        select(Source)
        .outerjoin(Incident, Incident.id == Source.incident_id)
        .where(or_(Source.incident_id.is_(None), visibility_clause(actor)))
        .order_by(Source.imported_at.desc(), Source.id.desc())
    )
    if incident is not None:
        incident_id = incidents.get_incident(session, actor, incident).id
        query = query.where(Source.incident_id == incident_id)
    if source_id is not None:
        query = query.where(Source.id == source_id)
    return list(session.scalars(query))


def remove_visible_source(session: Session, actor: Actor, source_id: int) -> SourceRemoval:
    """Remove a source the actor may see, with everything it brought (NotFound otherwise);
    inside the caller's write transaction."""
    require_write(actor)
    if not visible_sources(session, actor, source_id=source_id):
        raise NotFound("source", source_id)
    return remove_source_everything(session, actor, source_id)


def remove_source(session: Session, actor: Actor, source_id: int) -> dict[str, int]:
    """Remove a source with everything it brought (see `remove_source_everything`); returns
    the counts the import recorded."""
    return remove_source_everything(session, actor, source_id).counts


@dataclass(slots=True)
class SourceRemoval:
    """What removing a source did: rows deleted by table, incidents it had created that were
    deleted with it, and those kept (with the reason)."""

    source_id: int
    kind: str
    origin: str
    counts: dict[str, int]
    rows: dict[str, int] = field(default_factory=dict)
    incidents_removed: list[str] = field(default_factory=list)
    incidents_kept: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "removed": self.source_id,
            "kind": self.kind,
            "origin": self.origin,
            "counts": dict(self.counts),
            "rows": dict(self.rows),
            "incidents_removed": list(self.incidents_removed),
            "incidents_kept": [dict(k) for k in self.incidents_kept],
        }


# Rows that belong to an incident without being anything attached to it: its own tags (set
# when it is declared), the audit log (checked separately), notifications sent about it, and
# import jobs (they keep their record with the incident unset). Every other table with an
# incident_id — present or added later — counts as something attached.
_NOT_ATTACHMENTS = frozenset({"audit_log", "incident_tags", "user_notifications", "import_jobs"})
_CONFIDENTIAL = frozenset({"interviews"})
"""Attachments a refusal must not name: most readers may not know they exist."""


def created_incidents(session: Session, source: Source) -> list[int]:
    """Ids of the incidents `source`'s import declared: a PagerDuty import's incident when it
    counted "incidents created" (it declares at most one, the source's own), and the
    incident of every report a past-reports import brought (each report is declared anew)."""
    found: set[int] = set()
    if (source.counts or {}).get("incidents created") and source.incident_id is not None:
        if source.kind != "reports":
            found.add(source.incident_id)
    found.update(
        session.scalars(
            select(ImportedReport.incident_id).where(ImportedReport.source_id == source.id)
        )
    )
    return sorted(found)


def why_keep(session: Session, source: Source, incident: Incident) -> str | None:
    """Why an incident `source` created must outlive it, or None when it may go with it:
    another source brought evidence to it, someone attached something to it (updates, action
    items, roles, analysis, reviews, references...), or it was edited since the import."""
    other = session.scalar(
        select(Source.id)
        .where(Source.incident_id == incident.id, Source.id != source.id)
        .order_by(Source.id)
        .limit(1)
    )
    if other is not None:
        return f"source #{other} also brought evidence to it"
    attached: list[str] = []
    for table in Base.metadata.sorted_tables:
        if table.name in _NOT_ATTACHMENTS or table.name == Source.__tablename__:
            continue
        if "incident_id" not in table.c:
            continue
        query = select(func.count()).select_from(table).where(table.c.incident_id == incident.id)
        if "source_id" in table.c:
            query = query.where(or_(table.c.source_id.is_(None), table.c.source_id != source.id))
        if session.scalar(query):
            name = str(table.name)
            attached.append(
                "confidential records" if name in _CONFIDENTIAL else name.replace("_", " ")
            )
    if attached:
        return "it has " + ", ".join(attached) + " not brought by this source"
    edit = session.scalar(
        select(AuditLog)
        .where(
            AuditLog.incident_id == incident.id,
            AuditLog.action != "incident.declared",
            or_(AuditLog.target_type != "source", AuditLog.target_id != str(source.id)),
        )
        .order_by(AuditLog.id)
        .limit(1)
    )
    if edit is not None and edit.target_type == "interview":
        return "it was changed since it was imported"
    if edit is not None:
        who = f" by {edit.actor_label}" if edit.actor_label else ""
        return f"it was changed since it was imported ({edit.action}{who})"
    if incident.version != 1:
        return "it was changed since it was imported"
    return None


def remove_source_everything(session: Session, actor: Actor, source_id: int) -> SourceRemoval:
    """Delete a source and every row it brought, in the caller's transaction.

    Rows pointing at the source go with it (foreign keys cascade: messages and their search
    entries, incident attachments, pages, shifts, cues, reports, references, links); so do the
    channels it created that nothing else still uses, the people it created that nothing
    else uses (`source_people.remove_unused_people`), and the incidents it created that
    nothing else was attached to and nobody changed since (`why_keep`); other created
    incidents are kept and listed with the reason. Other people and identities stay
    (directory data). One audit entry for the source, one per deleted incident (with its
    last state)."""
    require_write(actor)
    source = session.get(Source, source_id)
    if source is None:
        raise NotFound("source", source_id)
    removal = SourceRemoval(
        source_id=source_id,
        kind=source.kind,
        origin=source.origin,
        counts=dict(source.counts or {}),
        rows=_rows_of(session, source_id),
    )
    doomed: list[Incident] = []
    for incident_id in created_incidents(session, source):
        incident = session.get(Incident, incident_id)
        if incident is None:
            continue
        reason = why_keep(session, source, incident)
        if reason is None:
            doomed.append(incident)
            removal.incidents_removed.append(incident.public_id)
        else:
            removal.incidents_kept.append({"incident": incident.public_id, "reason": reason})
    channel_ids = list(session.scalars(select(Channel.id).where(Channel.source_id == source_id)))
    people_ids = source_people.created_by(session, source_id)
    doomed_ids = {i.id for i in doomed}
    audit.record(
        session,
        actor,
        "source.removed",
        target_type="source",
        target_id=source_id,
        incident_id=source.incident_id if source.incident_id not in doomed_ids else None,
        before={"kind": source.kind, "origin": source.origin, **removal.counts},
        after={
            "rows": removal.rows,
            "incidents_removed": removal.incidents_removed,
            "incidents_kept": removal.incidents_kept,
        },
    )
    session.delete(source)
    session.flush()
    if channel_ids:
        removal.rows["channels"] = _remove_unused_channels(session, channel_ids)
    if people_ids:
        removal.rows["people"] = source_people.remove_unused_people(session, people_ids)
    for incident in doomed:
        audit.record(
            session,
            actor,
            "incident.deleted",
            target_type="incident",
            target_id=incident.public_id,
            before=incidents.snapshot(incident),
            after={"reason": f"source #{source_id} removed"},
        )
        session.delete(incident)
    session.flush()
    removal.rows = {k: v for k, v in removal.rows.items() if v}
    if doomed:
        removal.rows["incidents"] = len(doomed)
    return removal


def _rows_of(session: Session, source_id: int) -> dict[str, int]:
    """How many rows of each table point at the source (and go with it)."""
    rows: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        if "source_id" not in table.c or table.name in ("channels", "import_jobs", "people"):
            continue
        found = session.scalar(
            select(func.count()).select_from(table).where(table.c.source_id == source_id)
        )
        if found:
            rows[str(table.name)] = int(found)
    return rows


def _remove_unused_channels(session: Session, channel_ids: list[int]) -> int:
    """Delete the given channels that no message and no incident attachment still uses."""
    used = select(Message.channel_id).where(Message.channel_id.in_(channel_ids))
    attached = select(IncidentChannel.channel_id).where(IncidentChannel.channel_id.in_(channel_ids))
    result = session.execute(
        delete(Channel).where(
            Channel.id.in_(channel_ids), Channel.id.not_in(used), Channel.id.not_in(attached)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def chunked(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
