"""A report's state as the API and `afteraction report publish --json` print it after a
move: its state, the current and published versions, and when it was published."""

from __future__ import annotations

from afteraction.core import times
from afteraction.services.schemas.common import ReadModel, Timestamp
from afteraction.storage.review_tables import Report


class ReportStateRead(ReadModel):
    incident: str
    state: str
    version: int
    published_version: int | None
    published_at: Timestamp | None

    @classmethod
    def of(cls, report: Report) -> ReportStateRead:
        return cls(
            incident=report.incident.public_id,
            state=report.state,
            version=report.current_version,
            published_version=report.published_version,
            published_at=times.from_storage(report.published_at),
        )
