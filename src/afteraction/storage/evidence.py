"""Persistence helpers the evidence importers share: which natural keys already exist, bulk
inserts of plain row dicts, and merging found references into an incident's references.

Lives here: small, format-agnostic writes and look-ups on the evidence tables. Does not live
here: parsing (adapters), deciding what a row means (importers), commits (callers own the
transaction, see `services.imports.sources`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from afteraction.core.evidence import ReferenceRecord
from afteraction.core.incidents import REFERENCE_KINDS
from afteraction.storage.tables import Base, Reference

LOOKUP_BATCH = 500
INSERT_BATCH = 2000


def existing_values(
    session: Session,
    column: InstrumentedAttribute[Any],
    values: Iterable[Any],
    *conditions: ColumnElement[bool],
) -> set[Any]:
    """The subset of `values` already stored in `column` (rows also matching `conditions`)."""
    wanted = list(dict.fromkeys(values))
    found: set[Any] = set()
    for start in range(0, len(wanted), LOOKUP_BATCH):
        batch = wanted[start : start + LOOKUP_BATCH]
        query = select(column).where(column.in_(batch), *conditions)
        found.update(session.scalars(query))
    return found


def insert_rows(session: Session, table: type[Base], rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert plain dict rows in batches (executemany); returns how many were inserted."""
    for start in range(0, len(rows), INSERT_BATCH):
        session.execute(insert(table), list(rows[start : start + INSERT_BATCH]))
    return len(rows)


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def merge_references(
    session: Session,
    *,
    incident_id: int,
    source_id: int,
    found: Iterable[tuple[ReferenceRecord, int, datetime | None]],
) -> tuple[int, int]:
    """Add references to an incident, or count new mentions on ones it already has.

    `found` holds (reference, mentions, first seen) already deduplicated by the caller.
    References without a URL (a bare Jira key with no base URL) are left out. A new row
    points at `source_id`; an existing one keeps its source, gains the mentions and keeps the
    earliest first-seen time. Returns (added, updated).
    """
    added = updated = 0
    for reference, mentions, first_seen in found:
        url = reference.url.strip()[:2000]
        if not url:
            continue
        row = session.scalar(
            select(Reference).where(Reference.incident_id == incident_id, Reference.url == url)
        )
        if row is None:
            kind = reference.kind if reference.kind in REFERENCE_KINDS else "other"
            session.add(
                Reference(
                    incident_id=incident_id,
                    kind=kind,
                    url=url,
                    title=reference.title[:500],
                    key=reference.key[:200],
                    mentions=mentions,
                    first_seen=_utc(first_seen),
                    source_id=source_id,
                )
            )
            added += 1
            continue
        row.mentions = (row.mentions or 0) + mentions
        seen = _utc(first_seen)
        if seen is not None and (row.first_seen is None or seen < row.first_seen):
            row.first_seen = seen
        if not row.key and reference.key:
            row.key = reference.key[:200]
        updated += 1
    session.flush()
    return added, updated
