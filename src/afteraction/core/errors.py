"""The afteraction error tree. Errors carry domain data, never HTTP status codes.

    AfteractionError
    ├── NotFound                  an id or key that does not exist (or is not visible)
    ├── PermissionDenied          the actor may not do this
    ├── ValidationError           input that breaks a rule; `field` names the culprit
    │   ├── TooLarge              a body or upload past its size limit
    │   ├── InvalidTransition     status change not allowed by the lifecycle
    │   └── MilestoneOrderError   milestones out of order without an explicit override
    ├── Conflict                  a uniqueness or concurrency clash (duplicate key, stale edit)
    ├── ImportFailed              evidence that could not be imported; `where` names the place
    ├── Throttled                 too many failed sign-ins; `retry_after` says when to retry
    └── Unavailable               the database cannot be used now (locked, read-only, disk
                                  full, folder missing, server down); `where` names it

`afteraction.web.errors` maps these to responses with one MRO lookup; the CLI prints
`str(error)` and exits non-zero.
"""

from __future__ import annotations

from typing import Any


class AfteractionError(Exception):
    """Base of every error the product raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class NotFound(AfteractionError):
    code = "not_found"

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} {key!s} not found", details={"kind": kind, "key": str(key)})
        self.kind = kind
        self.key = key


class PermissionDenied(AfteractionError):
    code = "permission_denied"


class ValidationError(AfteractionError):
    code = "validation_error"

    def __init__(
        self, message: str, *, field: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        merged = dict(details or {})
        if field is not None:
            merged.setdefault("field", field)
        super().__init__(message, details=merged)
        self.field = field


class TooLarge(ValidationError):
    code = "too_large"


class InvalidTransition(ValidationError):
    code = "invalid_transition"

    def __init__(self, current: str, target: str, allowed: tuple[str, ...]) -> None:
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"cannot move from {current!r} to {target!r}; allowed next statuses: {allowed_text}",
            field="status",
            details={"current": current, "target": target, "allowed": list(allowed)},
        )


class MilestoneOrderError(ValidationError):
    code = "milestone_order"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "milestones out of order: "
            + "; ".join(problems)
            + " (pass allow_out_of_order to record them anyway)",
            field="milestones",
            details={"problems": problems},
        )
        self.problems = problems


class Conflict(AfteractionError):
    code = "conflict"


class ImportFailed(AfteractionError):
    code = "import_failed"

    def __init__(self, message: str, *, where: str, details: dict[str, Any] | None = None) -> None:
        merged = dict(details or {})
        merged["where"] = where
        super().__init__(f"{where}: {message}", details=merged)
        self.where = where
        self.reason = message

    def __reduce__(self) -> tuple[Any, ...]:
        """Picklable (a parser process sends its error to the importing process)."""
        details = {k: v for k, v in self.details.items() if k != "where"}
        return (_import_failed, (self.reason, self.where, details))


def _import_failed(message: str, where: str, details: dict[str, Any]) -> ImportFailed:
    return ImportFailed(message, where=where, details=details)


class Unavailable(AfteractionError):
    """The database (or its folder) cannot be used now; the message says why and what to do,
    `where` names the file or server. Never carries the driver's raw error text."""

    code = "unavailable"

    def __init__(self, message: str, *, where: str) -> None:
        super().__init__(f"{where}: {message}", details={"where": where})
        self.where = where


class Throttled(AfteractionError):
    """Too many failed sign-ins from this account or address: refused until `retry_after`
    seconds have passed. The message never says whether the account exists."""

    code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            f"too many failed sign-in attempts; try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}",
            details={"retry_after": retry_after},
        )
        self.retry_after = retry_after
