"""What every API schema builds on: `Strict` request bodies (unknown fields refused, strings
stripped), the error body every 4xx/5xx has, and small shared answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A request body: an unknown field is a 422 naming it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorResponse(BaseModel):
    """`{"error": {"code", "message", "details"}}`, the shape of every API error."""

    error: ErrorDetail


NO_CONTENT: dict[int | str, dict[str, Any]] = {204: {"description": "Done; no body."}}
"""`responses=` of an endpoint that answers 204 with no body."""
