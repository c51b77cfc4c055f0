"""Tables of signing in: server-side login sessions and failed sign-in attempts.

`user_sessions` holds one row per login. Its id is the SHA-256 of a random secret that only
the browser's (signed) cookie carries, so a leaked database holds no usable session. A
session ends on the server (`ended_at`), which stops every copy of its cookie at once.

`sign_in_failures` holds one row per wrong password or unknown API token, keyed by what was
guessed at (an email address, as typed) and by the client's address, so that every web
process sees the same count (see `afteraction.services.throttle`). Rows older than the
counting window are deleted as new ones arrive.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from afteraction.storage.tables import Base
from afteraction.storage.types import utcnow


class UserSession(Base):
    """One login: the SHA-256 of the cookie's secret, whose it is, when it began, was last
    active and ended (and why), and the browser and address it came from."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_open", "user_id", "ended_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the secret
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    end_reason: Mapped[str] = mapped_column(String(40), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    client_address: Mapped[str] = mapped_column(String(64), default="")


class SignInFailure(Base):
    """One wrong password or unknown API token, counted against an account or a client
    address for 15 minutes."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_key", "kind", "key", "at"),
        Index("ix_sign_in_failures_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # "account" (key: the email address as typed, lower-cased) or "address" (key: the
    # client's address, for passwords) or "token" (key: the client's address, API tokens)
    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(320))
