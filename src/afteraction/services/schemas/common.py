"""What every shared Read model builds on: the `ReadModel` base (an undeclared field is an
error, never silently sent) and `Timestamp`, an aware time printed as Python's ISO 8601
(`2026-05-01T10:00:00+00:00`, the form the API and `--json` have always printed).

Nothing here knows a table or a route."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema


class ReadModel(BaseModel):
    """A result shape sent by the API or printed by `--json`; unknown fields are refused so
    a shape cannot drift from its declaration."""

    model_config = ConfigDict(extra="forbid")


def _iso(value: datetime) -> str:
    return value.isoformat()


Timestamp = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
