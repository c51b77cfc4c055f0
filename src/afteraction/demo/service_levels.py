"""The demo's service levels (`data/service_levels.yaml`), written through
`services.service_levels`: SLAs on incident milestones, and SLOs with hourly request counts
for the days before the demo's day, failing more while an incident on the service had
customer impact. Counts follow a daily curve with no randomness: the same day gives the
same counts. Runs inside the caller's write transaction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from afteraction.core.access import Actor
from afteraction.demo.model import DemoIncident
from afteraction.demo.story import fields, items, read
from afteraction.services import service_levels as levels

FILE = "service_levels.yaml"
_SLA = ("name", "milestone", "within")
_SLO = ("service", "name", "objective", "window_days", "days", "per_hour", "errors")


def load_service_levels(
    session: Session, actor: Actor, incidents: Sequence[DemoIncident], today: date
) -> tuple[int, int]:
    """Write the SLAs and SLOs with their counts; returns (SLAs, SLOs) written."""
    top = fields(read(FILE), FILE, ("slas", "slos"))
    slas = [
        fields(row, f"{FILE}: slas[{i}]", _SLA, ("severity",))
        for i, row in enumerate(items(top["slas"], f"{FILE}: slas"))
    ]
    for sla in slas:
        levels.create_sla(
            session,
            actor,
            levels.SLAInput(
                name=sla["name"],
                milestone=sla["milestone"],
                within_seconds=int(sla["within"]) * 60,
                severity=sla.get("severity"),
            ),
        )
    slos = [
        fields(row, f"{FILE}: slos[{i}]", _SLO, ("impact_errors",))
        for i, row in enumerate(items(top["slos"], f"{FILE}: slos"))
    ]
    for slo in slos:
        row = levels.create_slo(
            session,
            actor,
            levels.SLOInput(
                service=slo["service"],
                name=slo["name"],
                objective=float(slo["objective"]),
                window_days=int(slo["window_days"]),
            ),
        )
        impacts = [
            (start, end)
            for incident in incidents
            if slo["service"] in incident.services
            for start, end in incident.impacts
            if end is not None
        ]
        counts = hourly_counts(
            end=datetime.combine(today, time(), tzinfo=UTC),
            days=int(slo["days"]),
            per_hour=int(slo["per_hour"]),
            errors=float(slo["errors"]),
            impact_errors=float(slo.get("impact_errors", slo["errors"])),
            impacts=impacts,
        )
        levels.add_counts(session, actor, row.id, counts)
    return len(slas), len(slos)


def hourly_counts(
    *,
    end: datetime,
    days: int,
    per_hour: int,
    errors: float,
    impact_errors: float,
    impacts: Sequence[tuple[datetime, datetime]],
) -> list[tuple[datetime, int, int]]:
    """(hour, good, total) for each hour of the `days` before `end`: traffic peaks at 20:00
    UTC and halves twelve hours later; an hour overlapping an impact fails `impact_errors`
    of its requests for the part of the hour it overlaps."""
    rows = []
    for hour in range(days * 24):
        at = end - timedelta(hours=days * 24 - hour)
        curve = 0.75 + 0.25 * math.cos((at.hour - 20) / 24 * 2 * math.pi)
        total = int(per_hour * curve)
        overlap = sum(
            max(0.0, (min(at + timedelta(hours=1), b) - max(at, a)).total_seconds())
            for a, b in impacts
        )
        share = min(overlap / 3600, 1.0)
        bad = round(total * (errors * (1 - share) + impact_errors * share))
        rows.append((at, total - bad, total))
    return rows
