"""Reads and writes of service level objectives, their good/total counts, SLA targets and
the notifications burn alerts record. No access checks and no rules: the service-levels
use cases (`afteraction.services.service_levels`) do both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from afteraction.core import metrics as m
from afteraction.storage.insights_tables import (
    Notification,
    ServiceLevelObjective,
    SLATargetRow,
    SLOCount,
)
from afteraction.storage.tables import Service


def service_by_slug(session: Session, slug: str) -> Service | None:
    return session.scalar(select(Service).where(Service.slug == slug))


def slo_named(session: Session, service_id: int, name: str) -> int | None:
    """The id of the service's SLO called `name`, if any."""
    return session.scalar(
        select(ServiceLevelObjective.id).where(
            ServiceLevelObjective.service_id == service_id, ServiceLevelObjective.name == name
        )
    )


def list_slos(session: Session, service: str | None = None) -> list[ServiceLevelObjective]:
    query = (
        select(ServiceLevelObjective)
        .join(Service)
        .order_by(Service.slug, ServiceLevelObjective.name)
    )
    if service:
        query = query.where(Service.slug == service)
    return list(session.scalars(query))


def get_slo(session: Session, slo_id: int) -> ServiceLevelObjective | None:
    return session.get(ServiceLevelObjective, slo_id)


def add(session: Session, row: ServiceLevelObjective | SLATargetRow | Notification) -> None:
    session.add(row)
    session.flush()


def remove(session: Session, row: ServiceLevelObjective | SLATargetRow) -> None:
    session.delete(row)
    session.flush()


def replace_counts(session: Session, slo_id: int, latest: Mapping[datetime, m.CountSample]) -> None:
    """Write the counts, each replacing any count stored at the same instant (UTC keys)."""
    moments = sorted(latest)
    for start in range(0, len(moments), 500):
        chunk = moments[start : start + 500]
        session.execute(delete(SLOCount).where(SLOCount.slo_id == slo_id, SLOCount.at.in_(chunk)))
    session.execute(
        insert(SLOCount),
        [
            {"slo_id": slo_id, "at": at, "good": s.good, "total": s.total}
            for at, s in latest.items()
        ],
    )


def count_series(
    session: Session, slo_id: int, since: datetime, until: datetime
) -> list[m.CountSample]:
    """The SLO's counts in (since, until], oldest first."""
    query = (
        select(SLOCount.at, SLOCount.good, SLOCount.total)
        .where(SLOCount.slo_id == slo_id, SLOCount.at > since, SLOCount.at <= until)
        .order_by(SLOCount.at)
    )
    return [m.CountSample(at, int(g), int(t)) for at, g, t in session.execute(query)]


def notification_exists(session: Session, key: str) -> bool:
    return session.scalar(select(Notification.id).where(Notification.key == key)) is not None


def notifications(session: Session, *, limit: int = 50) -> list[Notification]:
    query = select(Notification).order_by(Notification.created_at.desc(), Notification.id.desc())
    return list(session.scalars(query.limit(limit)))


def list_slas(session: Session) -> list[SLATargetRow]:
    return list(session.scalars(select(SLATargetRow).order_by(SLATargetRow.name)))


def get_sla(session: Session, sla_id: int) -> SLATargetRow | None:
    return session.get(SLATargetRow, sla_id)


def sla_named(session: Session, name: str) -> int | None:
    return session.scalar(select(SLATargetRow.id).where(SLATargetRow.name == name))
