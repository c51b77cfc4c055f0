"""Service level agreements on incident response: compliance rate and breaches.

Lives here: `SLATarget`, `Breach`, `SLAResult` (`figures.ArrayMetrics.sla` computes it).
Must not live here: contract texts or billing.

A target applies to incidents of its severity and/or customer tier (None = any) and is
measured from `measured_from` (default started) to `milestone`. An incident whose
milestone (or start) is missing is listed under `missing`, never counted as met or
breached; one whose milestones are out of order is listed under `out_of_order`.
Rate = met ÷ (met + breached), None when nothing was measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from afteraction.core.errors import ValidationError
from afteraction.core.incidents import MILESTONES
from afteraction.core.metrics.durations import IncidentFacts


@dataclass(frozen=True, slots=True)
class SLATarget:
    """E.g. SLATarget("acknowledged", timedelta(minutes=15), severity="SEV1")."""

    milestone: str
    within: timedelta
    severity: str | None = None
    tier: str | None = None
    measured_from: str = "started"
    name: str = ""

    def __post_init__(self) -> None:
        for field_name in ("milestone", "measured_from"):
            if getattr(self, field_name) not in MILESTONES:
                raise ValidationError(
                    f"unknown milestone {getattr(self, field_name)!r}", field=field_name
                )
        if self.within <= timedelta(0):
            raise ValidationError("an SLA target must be a positive duration", field="within")

    def applies_to(self, incident: IncidentFacts) -> bool:
        return (self.severity is None or incident.severity == self.severity) and (
            self.tier is None or incident.customer_tier == self.tier
        )


@dataclass(frozen=True, slots=True)
class Breach:
    public_id: str
    took: timedelta
    late_by: timedelta


@dataclass(frozen=True, slots=True)
class SLAResult:
    """Public ids (and breaches) in incident order; any sequence (a fast path may make
    its items when read)."""

    target: SLATarget
    met: Sequence[str]
    breached: Sequence[Breach]
    missing: Sequence[str]
    out_of_order: Sequence[str]
    rate: float | None
    small_sample: bool
