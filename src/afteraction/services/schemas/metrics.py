"""Read model of the duration metrics, shared by `GET /api/v1/insights/metrics` and
`afteraction metrics --json`: how many incidents were measured, how many were left out by
type, and per metric its definition and figures (overall and per severity)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from afteraction.services.schemas.common import ReadModel


class MetricsRead(ReadModel):
    incidents: int = Field(description="Incidents measured")
    excluded_by_type: dict[str, int] = Field(description="Incidents left out, by type")
    metrics: list[dict[str, Any]] = Field(
        description="Per metric: id, label, definition, count, count_missing, median, p90, "
        "max (seconds), small_sample and by_severity"
    )
    impact: dict[str, Any] = Field(description="The same figures for the impact duration")
