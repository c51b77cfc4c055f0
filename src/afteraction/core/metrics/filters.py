"""Which incidents a reliability figure covers: `InsightFilters`.

Lives here: the filters (date range on the start, severity, service, team, type, tag,
problem, the gameday/maintenance switch, the report's time zone), the type rule they imply
(`include_types`, `measured_types`), the checks that need no database (`check`: an
inverted range, an unknown zone or type), and the incident-list query that reproduces them
(`incident_query`). Must not live here: queries (storage turns filters into SQL) or the
checks against stored names (unknown service, team, severity, problem: the insights
service does them).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from afteraction.core.errors import ValidationError
from afteraction.core.incidents import EXCLUDED_FROM_METRICS, INCIDENT_TYPES
from afteraction.core.metrics._common import require_zone


@dataclass(frozen=True, slots=True)
class InsightFilters:
    """Which incidents a figure covers. `since` is inclusive, `until` exclusive (UTC).

    `type` names the incident types to measure; empty means every type except gameday and
    maintenance, unless `include_excluded` is set.
    """

    since: datetime | None = None
    until: datetime | None = None
    severity: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    team: tuple[str, ...] = ()
    type: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    problem: str | None = None
    include_excluded: bool = False
    tz: str = "UTC"

    def include_types(self) -> Collection[str] | None:
        if self.type:
            return self.type
        return INCIDENT_TYPES if self.include_excluded else None

    def measured_types(self) -> tuple[str, ...]:
        wanted = self.include_types()
        if wanted is None:
            return tuple(t for t in INCIDENT_TYPES if t not in EXCLUDED_FROM_METRICS)
        return tuple(wanted)

    def without_dates(self) -> InsightFilters:
        """The same filters over every date (and in UTC)."""
        return replace(self, since=None, until=None, include_excluded=False, tz="UTC")

    def check(self) -> None:
        """Refuse an inverted range, an unknown time zone and unknown incident types (a
        ValidationError naming the field)."""
        if self.since and self.until and self.until <= self.since:
            raise ValidationError(
                "the date range ends before it starts: 'until' must be after 'since'",
                field="until",
            )
        require_zone(self.tz)
        bad_types = [t for t in self.type if t not in INCIDENT_TYPES]
        if bad_types:
            raise ValidationError(
                f"unknown type {bad_types[0]!r}; known: {', '.join(INCIDENT_TYPES)}", field="type"
            )

    def incident_query(self, **extra: Any) -> list[tuple[str, str]]:
        """Query parameters for the incident list that reproduce these filters.

        `extra` narrows further: severity, service, team, problem, tag (a value or list),
        started_from / started_to (dates, both inclusive).
        """
        params: list[tuple[str, str]] = []
        for name in ("severity", "service", "team", "tag"):
            values = extra.get(name) or getattr(self, name)
            params.extend((name, v) for v in ([values] if isinstance(values, str) else values))
        params.extend(("type", t) for t in self.measured_types())
        problem = extra.get("problem") or self.problem
        if problem:
            params.append(("problem", problem))
        low = extra.get("started_from") or (self.since.date() if self.since else None)
        high = extra.get("started_to") or (
            (self.until - timedelta(microseconds=1)).date() if self.until else None
        )
        if low:
            params.append(("started_from", low.isoformat()))
        if high:
            params.append(("started_to", high.isoformat()))
        return params
