"""What every API schema builds on: `Strict` request bodies (unknown fields refused, strings
stripped), `RowId` (an id in a path or query, bounded to what both databases store),
`UserTime` (a time a person sends, read by the one parser in `core.times`), the
error body every 4xx/5xx has, and small shared answers."""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Interval
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationInfo,
    field_validator,
)
from pydantic import Strict as StrictMode
from pydantic_core import PydanticCustomError

from afteraction.core import times
from afteraction.core.errors import ValidationError

USER_TIME_ERROR = "user_time"
"""Pydantic error type of a refused `UserTime`; its message already names the field."""


def _user_time(value: Any, info: ValidationInfo) -> Any:
    """Text goes through `core.times.parse_time`, so a time without a zone gets the product's
    one refusal (naming the field, asking for a zone, giving an example), not pydantic's."""
    if isinstance(value, str) and value.strip():
        try:
            return times.parse_time(value, info.field_name or "time")
        except ValidationError as error:
            message = {"message": error.message}
            raise PydanticCustomError(USER_TIME_ERROR, "{message}", message) from None
    return value


UserTime = Annotated[AwareDatetime, BeforeValidator(_user_time)]
"""An aware date and time a person sends: ISO 8601 with `Z` or an offset."""


ROW_ID_MAX = 2**31 - 1
"""The largest id a row can have on both databases (PostgreSQL's INTEGER)."""

RowId = Annotated[int, Interval(ge=-ROW_ID_MAX - 1, le=ROW_ID_MAX)]
"""A row id in a path or query: one outside the database's integer range is a 422 naming
the parameter, not an overflow in the driver (SQLite refuses to bind an int above 2**63-1,
PostgreSQL one above 2**31-1)."""

StrictRowId = Annotated[RowId, StrictMode()]
"""A `RowId` in a JSON body that must be a number, not a numeric string."""


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return False


class Strict(BaseModel):
    """A request body: an unknown field, NaN or infinity for a number, or a NUL character in
    text (which PostgreSQL cannot store) is a 422 naming it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _holds_nul(value):
            raise ValueError("must not contain a NUL character (\\x00)")
        return value


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

TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse, "description": "The upload is larger than allowed"}
}
"""`responses=` of an endpoint that takes an upload (`afteraction.web.uploads`)."""
