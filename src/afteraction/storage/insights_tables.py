"""Rows for reliability insights: service level objectives with their imported good/total
event counts, SLA targets on incident milestones, and notifications (burn alerts).

Row definitions only: the maths lives in `afteraction.core.metrics`, the queries in
`afteraction.storage.insight_queries` and `service_levels`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from afteraction.storage.tables import Base, Service
from afteraction.storage.types import utcnow


class ServiceLevelObjective(Base):
    """An objective for one service, e.g. 99.9 % of requests good over 30 days."""

    __tablename__ = "slos"
    __table_args__ = (UniqueConstraint("service_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="availability")
    objective: Mapped[float] = mapped_column(Float)
    window_days: Mapped[int] = mapped_column(Integer, default=30)
    latency_threshold_ms: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    service: Mapped[Service] = relationship()


class SLOCount(Base):
    """Good and total events counted in the interval that ends at `at` (one row per time)."""

    __tablename__ = "slo_counts"
    __table_args__ = (UniqueConstraint("slo_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slo_id: Mapped[int] = mapped_column(ForeignKey("slos.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column()
    good: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)


class SLATargetRow(Base):
    """A response target on a milestone, for a severity and/or a customer tier (None = any).

    An incident's customer tier is its `tier:<name>` tag.
    """

    __tablename__ = "sla_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    milestone: Mapped[str] = mapped_column(String(20))
    measured_from: Mapped[str] = mapped_column(String(20), default="started")
    within_seconds: Mapped[int] = mapped_column(Integer)
    severity: Mapped[str | None] = mapped_column(String(20))
    tier: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """Something the system wants people to know (an SLO burn alert...). `key` makes
    recording the same alert twice a no-op."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(80))
    message: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column()
