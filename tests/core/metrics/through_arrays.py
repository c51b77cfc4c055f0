"""The product's figures (`ArrayMetrics`) called with the signatures of the reference
functions in `oracles.py`, so hand-made cases read the same against either."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import tzinfo

from afteraction.core.metrics import (
    ArrayMetrics,
    CountSeries,
    GroupBy,
    IncidentArrays,
    IncidentFacts,
    MetricGroup,
    MetricReport,
    Recurrence,
    SLAResult,
    SLATarget,
    Trend,
)


def figures(
    incidents: Iterable[IncidentFacts], include_types: Collection[str] | None = None
) -> tuple[ArrayMetrics, list[IncidentFacts]]:
    """The product's figures over `incidents`, and the incidents in the arrays' order."""
    facts = sorted(incidents, key=lambda f: int(f.public_id.split("-")[1]))
    return ArrayMetrics(IncidentArrays.from_facts(facts), include_types), facts


def metric_report(
    incidents: Iterable[IncidentFacts], metric_id: str, *, group_by: GroupBy | None = None,
    include_types: Collection[str] | None = None, with_mean: bool = False,
) -> MetricReport:  # fmt: skip
    return figures(incidents, include_types)[0].report(
        metric_id, group_by=group_by, with_mean=with_mean
    )


def time_between_failures(
    incidents: Iterable[IncidentFacts], *, include_types: Collection[str] | None = None
) -> dict[str, MetricGroup]:
    report = metric_report(
        incidents, "time_between_failures", group_by="service", include_types=include_types
    )
    return {group.key: group for group in report.groups}


def monthly_medians(
    incidents: Iterable[IncidentFacts], metric_id: str, tz: str | tzinfo, *,
    include_types: Collection[str] | None = None, with_mean: bool = False,
) -> Trend:  # fmt: skip
    return figures(incidents, include_types)[0].monthly_medians(metric_id, tz, with_mean=with_mean)


def counts_over_time(
    incidents: Iterable[IncidentFacts], *, tz: str | tzinfo = "UTC",
    include_types: Collection[str] | None = None,
) -> CountSeries:  # fmt: skip
    return figures(incidents, include_types)[0].counts_over_time(tz)


def recurring_problems(
    incidents: Iterable[IncidentFacts], *, min_incidents: int = 2,
    include_types: Collection[str] | None = None,
) -> list[Recurrence]:  # fmt: skip
    return figures(incidents, include_types)[0].recurring_problems(min_incidents=min_incidents)


def sla_compliance(
    incidents: Iterable[IncidentFacts], targets: Sequence[SLATarget], *,
    include_types: Collection[str] | None = None,
) -> list[SLAResult]:  # fmt: skip
    fast, facts = figures(incidents, include_types)
    tiers = [f.customer_tier for f in facts]
    return [fast.sla(target, tiers) for target in targets]
