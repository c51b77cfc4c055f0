"""Who may do what: user roles, the acting principal, and permission checks.

Roles, from most to least powerful: admin, investigator, responder, viewer. Private
incidents are visible to admins and to the people who hold a role on them (and to whoever
declared them); the rule is stated once here and applied by storage queries.
"""

from __future__ import annotations

from dataclasses import dataclass

from afteraction.core.errors import PermissionDenied, ValidationError

ROLES: tuple[str, ...] = ("admin", "investigator", "responder", "viewer")

_CAN_WRITE_INCIDENTS = frozenset({"admin", "investigator", "responder"})
_CAN_ANALYSE = frozenset({"admin", "investigator"})


@dataclass(frozen=True, slots=True)
class Actor:
    """The principal behind a request or command. `user_id` None means the system itself."""

    user_id: int | None
    label: str
    role: str
    person_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


SYSTEM = Actor(user_id=None, label="system", role="admin")


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError(f"unknown role {role!r}; known: {', '.join(ROLES)}", field="role")
    return role


def require_write(actor: Actor) -> None:
    if actor.role not in _CAN_WRITE_INCIDENTS:
        raise PermissionDenied(f"role {actor.role!r} may read but not change incidents")


def require_analysis(actor: Actor) -> None:
    if actor.role not in _CAN_ANALYSE:
        raise PermissionDenied(f"role {actor.role!r} may not do investigation work")


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only an admin may do this")
