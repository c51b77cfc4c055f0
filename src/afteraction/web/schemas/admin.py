"""API schemas of administration: user accounts and API tokens (bodies, Read models and
builders). A token's secret appears only in `TokenIssued`, once. `UserRead` is shared with
the CLI (`afteraction.services.schemas.users`)."""

from __future__ import annotations

from pydantic import Field

from afteraction.core.passwords import MAX_PASSWORD, MIN_PASSWORD
from afteraction.services.schemas.common import ReadModel, Timestamp
from afteraction.services.schemas.users import UserRead
from afteraction.storage.tables import ApiToken
from afteraction.web.schemas.common import RowId, Strict


class UserCreate(Strict):
    email: str = Field(max_length=320)
    password: str = Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)
    role: str
    name: str = Field("", max_length=200)
    person_id: RowId | None = None


class UserUpdate(Strict):
    role: str | None = None
    active: bool | None = Field(None, description="false disables the account's logins.")


class UserList(ReadModel):
    items: list[UserRead]


class TokenCreate(Strict):
    name: str = Field(min_length=1, max_length=200)


class TokenRead(ReadModel):
    id: int
    name: str
    prefix: str = Field(description="The first characters of the secret, to tell tokens apart")
    created_at: Timestamp
    revoked: bool


class TokenList(ReadModel):
    items: list[TokenRead]


def token_read(token: ApiToken) -> TokenRead:
    return TokenRead(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        revoked=token.revoked_at is not None,
    )


class TokenIssued(ReadModel):
    id: int
    name: str
    token: str = Field(description="The secret; shown in this response only")
