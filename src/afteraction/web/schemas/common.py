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


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Refused"},
    401: {"model": ErrorResponse, "description": "No valid session or token"},
    403: {"model": ErrorResponse, "description": "Not allowed for your role"},
    404: {"model": ErrorResponse, "description": "Not found, or not visible to you"},
    409: {"model": ErrorResponse, "description": "Conflicts with the stored state"},
    422: {"model": ErrorResponse, "description": "Bad input; `details.field` names the field"},
}
"""The error answers every API router declares (instead of FastAPI's default 422 shape,
which this API does not send)."""
