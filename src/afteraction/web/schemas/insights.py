"""API schemas of reliability insights: table pages (metrics, on-call load, silos, response,
SLAs, search), SLOs and SLAs, and similar incidents. The metrics summary is shared with the
CLI (`afteraction.services.schemas.metrics`). Tables also come as CSV (`?format=csv`)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from afteraction.services.schemas.common import ReadModel, Timestamp

CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with ?format=csv"}
}
"""`responses=` of an endpoint that also answers CSV."""


class TablePage(ReadModel):
    """One page of a table; every row has the same columns, named in the endpoint's text."""

    items: list[dict[str, Any]]
    total: int
    next_offset: int | None


class SLORead(ReadModel):
    id: int
    service: str
    name: str
    kind: str = Field(description="availability or latency")
    objective: float
    window_days: int
    latency_threshold_ms: float | None
    description: str


class SLOIncident(ReadModel):
    incident: str
    end_milestone: str
    budget_consumed: float | None


class SLODetail(SLORead):
    """The SLO with its error budget and alerts; `burn_rate_<window>` fields give the burn
    rate over each window (1h, 6h, 3d …)."""

    model_config = ConfigDict(extra="allow")

    samples_in_window: int
    total_events: float | None
    bad_events: float | None
    allowed_bad: float | None
    budget_remaining: float | None
    alerts: list[str]
    incidents: list[SLOIncident] = Field(default_factory=list)


class CountsWritten(ReadModel):
    written: int


class SLARead(ReadModel):
    id: int
    name: str
    milestone: str
    measured_from: str
    within_seconds: int
    severity: str | None
    tier: str | None


class BreachRead(ReadModel):
    sla: str
    incident: str
    took_seconds: float
    late_by_seconds: float


class SLADetail(SLARead):
    """The SLA, its compliance and its breaches."""

    met: int
    breached: int
    missing: list[str] = Field(description="Incidents without the milestones to measure")
    out_of_order: int
    compliance: float | None
    small_sample: bool
    breaches: list[BreachRead]


class SimilarRead(ReadModel):
    incident: str
    title: str
    severity: str
    started: Timestamp | None
    score: float
    shared: list[str]
    semantic: float | None = Field(description="Cosine similarity of meaning, when ranked so")


class SimilarList(ReadModel):
    ranking: str = Field(description="lexical or lexical+semantic")
    items: list[SimilarRead]


_COUNT_ROW = {
    "type": "object",
    "properties": {
        "at": {"type": "string", "format": "date-time"},
        "good": {"type": "number"},
        "total": {"type": "number"},
    },
    "required": ["at", "good", "total"],
}
COUNTS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"rows": {"type": "array", "items": _COUNT_ROW}},
                    "required": ["rows"],
                }
            },
            "text/csv": {"schema": {"type": "string", "description": "header at,good,total"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}
"""`openapi_extra=` of the SLO count import, which reads JSON, CSV or an upload itself (every
row is checked before any is written, so it parses the body rather than FastAPI)."""
