"""Service levels: create, read and delete SLOs and SLAs, import an SLO's good/total counts,
an SLO's status (error budget, burn rates, alerts, budget per incident), recording burn
alerts as notifications. (SLA compliance over the incidents is an insight:
`services.insights.sla_results`.)

Each use case takes a session (the caller owns the transaction), checks access, validates
with core's rules, and writes the audit log for every change. Queries live in
`storage.service_levels` and `storage.insight_queries`; the arithmetic in
`core.metrics` (slo, sla, ArrayMetrics).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from afteraction.core import metrics as m
from afteraction.core.access import SYSTEM, Actor, require_admin, require_write
from afteraction.core.errors import NotFound, ValidationError
from afteraction.core.metrics import InsightFilters
from afteraction.storage import audit
from afteraction.storage import insight_queries as queries
from afteraction.storage import service_levels as rows
from afteraction.storage.insights_tables import Notification, ServiceLevelObjective, SLATargetRow
from afteraction.storage.tables import Service, SeverityLevel
from afteraction.storage.types import utcnow

# -- SLOs ------------------------------------------------------------------------------------


@dataclass(slots=True)
class SLOInput:
    service: str
    name: str
    objective: float
    window_days: int = 30
    kind: str = "availability"
    latency_threshold_ms: float | None = None
    description: str = ""


def slo_definition(row: ServiceLevelObjective) -> m.SLO:
    return m.SLO(
        objective=row.objective,
        window_days=row.window_days,
        kind=row.kind,  # type: ignore[arg-type]
        name=row.name,
        latency_threshold_ms=row.latency_threshold_ms,
    )


def _service(session: Session, slug: str) -> Service:
    found = rows.service_by_slug(session, slug)
    if found is None:
        raise ValidationError(f"unknown service {slug!r}", field="service")
    return found


def create_slo(session: Session, actor: Actor, data: SLOInput) -> ServiceLevelObjective:
    require_write(actor)
    service = _service(session, data.service)
    name = data.name.strip()
    if not name or len(name) > 200:
        raise ValidationError("an SLO needs a name of 1 to 200 characters", field="name")
    row = ServiceLevelObjective(
        service=service, name=name, kind=data.kind, objective=data.objective,
        window_days=data.window_days, latency_threshold_ms=data.latency_threshold_ms,
        description=data.description,
    )  # fmt: skip
    slo_definition(row)  # validates objective, window, kind, threshold
    if rows.slo_named(session, service.id, name):
        raise ValidationError(f"{service.slug} already has an SLO named {name!r}", field="name")
    rows.add(session, row)
    audit.record(
        session, actor, "slo.created", target_type="slo", target_id=row.id, after=slo_snapshot(row)
    )
    return row


def slo_snapshot(row: ServiceLevelObjective) -> dict[str, Any]:
    return {
        "id": row.id,
        "service": row.service.slug,
        "name": row.name,
        "kind": row.kind,
        "objective": row.objective,
        "window_days": row.window_days,
        "latency_threshold_ms": row.latency_threshold_ms,
        "description": row.description,
    }


def list_slos(session: Session, service: str | None = None) -> list[ServiceLevelObjective]:
    if service:
        _service(session, service)
    return rows.list_slos(session, service)


def get_slo(session: Session, slo_id: int) -> ServiceLevelObjective:
    row = rows.get_slo(session, slo_id)
    if row is None:
        raise NotFound("slo", str(slo_id))
    return row


def delete_slo(session: Session, actor: Actor, slo_id: int) -> None:
    require_admin(actor)
    row = get_slo(session, slo_id)
    audit.record(
        session, actor, "slo.deleted", target_type="slo", target_id=row.id, before=slo_snapshot(row)
    )
    rows.remove(session, row)


def parse_counts_csv(data: bytes | str) -> list[dict[str, str]]:
    """CSV with a header naming at, good, total (other columns are ignored). Bytes must be
    UTF-8; a file that is not, or not readable as CSV, is a ValidationError naming `file`."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            message = f"the CSV is not UTF-8 text (byte {error.start + 1})"
            raise ValidationError(message, field="file") from None
    try:
        return _counts_rows(data)
    except csv.Error as error:
        raise ValidationError(f"the CSV cannot be read: {error}", field="file") from None


def _counts_rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [name for name in ("at", "good", "total") if name not in header]
    if missing:
        raise ValidationError(
            f"the CSV header must name at, good and total; missing: {', '.join(missing)}",
            field="file",
        )
    reader.fieldnames = header
    return [{k: (v or "") for k, v in row.items() if k} for row in reader]


def add_counts(
    session: Session, actor: Actor, slo_id: int, counts: Iterable[object], *, first_row: int = 1
) -> int:
    """Validate every row (naming the first bad one), then write them all; a count at a time
    already stored replaces it. Nothing is written when any row is bad."""
    require_write(actor)
    slo = get_slo(session, slo_id)
    samples = m.validate_counts(counts, first_row=first_row)
    if not samples:
        raise ValidationError("no count rows were given", field="rows")
    latest: dict[datetime, m.CountSample] = {s.at.astimezone(UTC): s for s in samples}
    rows.replace_counts(session, slo.id, latest)
    audit.record(
        session, actor, "slo.counts_added", target_type="slo", target_id=slo.id,
        after={"rows": len(latest)},
    )  # fmt: skip
    return len(latest)


@dataclass(frozen=True, slots=True)
class SLOStatus:
    slo: ServiceLevelObjective
    definition: m.SLO
    now: datetime
    budget: m.ErrorBudget
    rates: Mapping[str, float | None]
    alerts: list[m.BurnAlert]
    incidents: list[m.IncidentBudget]
    samples: int


def slo_status(
    session: Session, actor: Actor, slo_id: int, *, now: datetime | None = None
) -> SLOStatus:
    """Budget over the SLO window ending `now`, burn rates, alerts that fire, and the
    budget each visible incident on the service consumed within the window."""
    row = get_slo(session, slo_id)
    definition = slo_definition(row)
    moment = now or utcnow()
    span = max(definition.window, timedelta(days=3))
    series = rows.count_series(session, row.id, moment - span - definition.window, moment)
    in_window = [s for s in series if moment - definition.window < s.at <= moment]
    budget = m.error_budget(
        definition, sum(s.good for s in in_window), sum(s.total for s in in_window)
    )
    rates = m.burn_rates(series, definition, moment)
    filters = InsightFilters(
        service=(row.service.slug,), since=moment - definition.window, until=moment
    )
    facts = queries.incident_facts(session, actor, filters).facts
    consumed = m.budget_consumed_by_incidents(series, definition, facts)
    return SLOStatus(row, definition, moment, budget, rates, m.burn_alerts(rates), consumed,
                     len(in_window))  # fmt: skip


def record_burn_alerts(session: Session, slo_id: int, *, now: datetime | None = None) -> list[int]:
    """Record one notification per firing burn rule (once per SLO, rule and hour); the
    queued `slo_burn_check` job runs this after each count import."""
    status = slo_status(session, SYSTEM, slo_id, now=now)
    hour = status.now.astimezone(UTC).strftime("%Y-%m-%dT%H")
    created = []
    for alert in status.alerts:
        rule = alert.rule
        key = f"slo-burn:{slo_id}:{rule.long_window}:{hour}"
        if rows.notification_exists(session, key):
            continue
        note = Notification(
            key=key, kind="slo_burn", target_type="slo", target_id=str(slo_id),
            message=(
                f"{status.slo.service.slug} / {status.slo.name}: burn rate {alert.rate:.1f} over "
                f"{rule.long_window} exceeds {rule.threshold:g} ({rule.action})"
            ),
            payload={"rate": alert.rate, "threshold": rule.threshold, "window": rule.long_window,
                     "short_window": rule.short_window, "action": rule.action},
        )  # fmt: skip
        rows.add(session, note)
        created.append(note.id)
    return created


def notifications(session: Session, *, limit: int = 50) -> list[Notification]:
    return rows.notifications(session, limit=limit)


# -- SLAs ------------------------------------------------------------------------------------


@dataclass(slots=True)
class SLAInput:
    name: str
    milestone: str
    within_seconds: int
    severity: str | None = None
    tier: str | None = None
    measured_from: str = "started"


def sla_target(row: SLATargetRow) -> m.SLATarget:
    return m.SLATarget(
        milestone=row.milestone, within=timedelta(seconds=row.within_seconds),
        severity=row.severity, tier=row.tier, measured_from=row.measured_from, name=row.name,
    )  # fmt: skip


def sla_snapshot(row: SLATargetRow) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "milestone": row.milestone,
        "measured_from": row.measured_from, "within_seconds": row.within_seconds,
        "severity": row.severity, "tier": row.tier,
    }  # fmt: skip


def create_sla(session: Session, actor: Actor, data: SLAInput) -> SLATargetRow:
    require_write(actor)
    name = data.name.strip()
    if not name or len(name) > 200:
        raise ValidationError("an SLA needs a name of 1 to 200 characters", field="name")
    severity = data.severity.upper() if data.severity else None
    if severity and session.get(SeverityLevel, severity) is None:
        raise ValidationError(f"unknown severity {data.severity!r}", field="severity")
    row = SLATargetRow(
        name=name, milestone=data.milestone, measured_from=data.measured_from,
        within_seconds=data.within_seconds, severity=severity, tier=data.tier or None,
    )  # fmt: skip
    sla_target(row)  # validates milestones and the duration
    if rows.sla_named(session, name):
        raise ValidationError(f"an SLA named {name!r} already exists", field="name")
    rows.add(session, row)
    audit.record(
        session, actor, "sla.created", target_type="sla", target_id=row.id, after=sla_snapshot(row)
    )
    return row


def list_slas(session: Session) -> list[SLATargetRow]:
    return rows.list_slas(session)


def get_sla(session: Session, sla_id: int) -> SLATargetRow:
    row = rows.get_sla(session, sla_id)
    if row is None:
        raise NotFound("sla", str(sla_id))
    return row


def delete_sla(session: Session, actor: Actor, sla_id: int) -> None:
    require_admin(actor)
    row = get_sla(session, sla_id)
    audit.record(
        session, actor, "sla.deleted", target_type="sla", target_id=row.id, before=sla_snapshot(row)
    )
    rows.remove(session, row)
