"""Read model of a user account, shared by `/api/v1/users`, `/api/v1/me` and
`afteraction user create --json`. Never carries the password hash."""

from __future__ import annotations

from pydantic import Field

from afteraction.services.schemas.common import ReadModel, Timestamp
from afteraction.storage.tables import User


class UserRead(ReadModel):
    id: int
    email: str
    name: str
    role: str = Field(description="admin, responder, investigator or viewer")
    person_id: int | None
    is_active: bool
    last_login_at: Timestamp | None


def user_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        person_id=user.person_id,
        is_active=user.is_active,
        last_login_at=user.last_login_at,
    )
