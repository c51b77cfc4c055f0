"""The incident list: one page of the incidents an actor may see, for the list API, the
`/incidents` page and `afteraction incident list` alike (`list_page`), and that page as the
JSON bytes of its declared read model, `IncidentPage` (`page_json`).

`page_json` writes the bytes straight from the summary rows with orjson, without building a
pydantic model per row: the API serves this on every read-cache miss. Its output must stay
byte for byte what `IncidentPage(...).model_dump_json()` gives for the same rows (aware UTC
times as `Timestamp` prints them, fields in declaration order); a test holds it to that.
Queries live in `storage.incident_lists`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.orm import Session

from afteraction.core.access import Actor
from afteraction.storage.incident_lists import IncidentFilters, IncidentSummary, list_summaries

__all__ = ["IncidentFilters", "IncidentListing", "list_page", "page_json"]


@dataclass(frozen=True, slots=True)
class IncidentListing:
    """A page of visible incidents: its rows, how many match in all, and where it starts."""

    rows: list[IncidentSummary]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        end = self.offset + self.limit
        return end if end < self.total else None


def list_page(session: Session, actor: Actor, filters: IncidentFilters) -> IncidentListing:
    """The page of incidents `actor` may see that `filters` asks for (private incidents
    only for those the visibility rule admits)."""
    rows, total = list_summaries(session, actor, filters)
    return IncidentListing(rows, total, filters.limit, filters.offset)


def _item(row: IncidentSummary) -> dict[str, Any]:
    """One row in `IncidentRead`'s field order; times stay datetimes for orjson to write."""
    public_id = row.public_id
    return {
        "id": public_id,
        "number": row.number,
        "title": row.title,
        "summary": row.summary,
        "severity": row.severity,
        "status": row.status,
        "type": row.type,
        "private": row.private,
        "customer_impact": row.customer_impact,
        "services": row.services,
        "teams": row.teams,
        "tags": row.tags,
        "problem": row.problem,
        "milestones": {
            "started": row.started_at,
            "detected": row.detected_at,
            "declared": row.declared_at,
            "acknowledged": row.acknowledged_at,
            "mitigated": row.mitigated_at,
            "resolved": row.resolved_at,
            "closed": row.closed_at,
        },
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "version": row.version,
        "url": f"/incidents/{public_id}",
        "warnings": [],
    }


def page_json(listing: IncidentListing) -> bytes:
    """The page as `IncidentPage` JSON. Times are aware and in UTC (`UTCDateTime`), which
    orjson writes as `datetime.isoformat()` does: the `Timestamp` wire form."""
    page = {
        "items": [_item(row) for row in listing.rows],
        "total": listing.total,
        "limit": listing.limit,
        "offset": listing.offset,
        "next_offset": listing.next_offset,
    }
    return orjson.dumps(page)
