"""What every number means: the definitions shown next to each figure in the product.

Lives here: `MetricDefinition`, `METRICS` (the milestone durations, each stating where it
starts and ends) and `DEFINITIONS` (every other figure: on-call load, silos, SLOs, SLAs).
Must not live here: any computation. The wording follows method.md section 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    """A figure's id, label and definition; `start`/`end` name milestones for durations."""

    id: str
    label: str
    definition: str
    start: str | None = None
    end: str | None = None
    unit: str = "seconds"


def _duration(id_: str, label: str, start: str, end: str, note: str = "") -> MetricDefinition:
    text = f"{label} = {end} − {start}{note}"
    return MetricDefinition(id_, label, text, start, end)


METRICS: Mapping[str, MetricDefinition] = {
    d.id: d
    for d in (
        _duration("time_to_detect", "time to detect", "started", "detected"),
        _duration("time_to_acknowledge", "time to acknowledge", "started", "acknowledged"),
        _duration(
            "time_to_acknowledge_from_detect",
            "time to acknowledge from detection",
            "detected",
            "acknowledged",
        ),
        _duration("time_to_mitigate", "time to mitigate", "started", "mitigated"),
        _duration("time_to_resolve", "time to resolve", "started", "resolved"),
        MetricDefinition(
            "time_between_failures",
            "time between failures",
            "time between failures = started(n) − resolved(n−1), per service: the gap between "
            "one incident on a service being resolved and the next one on it starting",
            "resolved",
            "started",
        ),
    )
}
"""Milestone durations. Missing milestones are missing (never zero); a negative duration
(milestones recorded out of order, or overlapping incidents for time between failures) is
listed separately and left out of the distribution. Gameday and maintenance incidents are
excluded unless asked for."""


def _other(id_: str, label: str, definition: str, unit: str) -> MetricDefinition:
    return MetricDefinition(id_, label, definition, unit=unit)


DEFINITIONS: Mapping[str, MetricDefinition] = {
    d.id: d
    for d in (
        _other(
            "pages",
            "pages",
            "a page = PagerDuty 'notify' log entries to one person for one PagerDuty incident; "
            "entries within 5 minutes of the first (push, SMS, phone) count once",
            "pages",
        ),
        _other("pages_per_week", "pages per week", "pages ÷ window length in weeks", "pages"),
        _other(
            "off_hours_pages",
            "off-hours pages",
            "pages received before 08:00 or from 20:00 in the person's own time zone; pages "
            "to people without a known time zone are counted as unknown, never guessed",
            "pages",
        ),
        _other(
            "night_pages",
            "night pages",
            "pages received from 00:00 to before 06:00 in the person's own time zone",
            "pages",
        ),
        _other(
            "longest_page_run",
            "longest run of consecutive pages",
            "the most pages one person received in a row with less than 1 hour between "
            "each page and the next",
            "pages",
        ),
        _other(
            "first_involved",
            "first involved",
            "the earliest moment the evidence shows a person in an incident: a page to them, "
            "being added to or joining its channel, an @-mention, their first message, a role, "
            "or another action of theirs (acknowledging a page, a channel event); reactions "
            "alone are not involvement",
            "time",
        ),
        _other(
            "worked_off_call",
            "incidents worked while not on call",
            "incidents a person was first involved in at a moment no imported on-call shift "
            "of theirs covered; unknown outside the span of the imported schedules",
            "incidents",
        ),
        _other(
            "silo_top1_share",
            "top-1 share",
            "share of a service's incident participation held by its most involved person",
            "fraction",
        ),
        _other(
            "silo_top3_share",
            "top-3 share",
            "share of a service's incident participation held by its three most involved people",
            "fraction",
        ),
        _other(
            "repeat_helpers",
            "repeat helpers",
            "people pulled into incidents on several services their teams do not own; "
            "a knowledge-silo signal, never a performance score",
            "people",
        ),
        _other(
            "former_members_pulled_in",
            "former members pulled in",
            "people who took part in an incident on a service owned by a team they had left "
            "before the incident",
            "people",
        ),
        _other(
            "impact_duration",
            "impact duration",
            "impact duration = sum of the incident's customer-impact intervals, overlapping "
            "intervals counted once; missing when none is recorded or one is still open",
            "seconds",
        ),
        _other(
            "person_time_in_incident",
            "person time in incident",
            "last interaction − first interaction, but at least 15 s for every interaction",
            "seconds",
        ),
        _other(
            "response_cost",
            "cost of response",
            "sum of person time in incident over everyone involved, in person-hours",
            "person-hours",
        ),
        _other(
            "handoffs",
            "handoffs",
            "times a role passed from one person to another (the first assignment is not one)",
            "handoffs",
        ),
        _other(
            "error_budget_remaining",
            "error budget remaining",
            "1 − bad events ÷ ((1 − objective) × total events in the SLO window); "
            "negative when the budget is overspent",
            "fraction",
        ),
        _other(
            "burn_rate",
            "burn rate",
            "bad fraction observed over the window ÷ bad fraction the objective allows "
            "(1 − objective); 1 spends the budget exactly over the SLO window",
            "ratio",
        ),
        _other(
            "budget_consumed",
            "budget consumed by an incident",
            "bad events from started to mitigated (else resolved) ÷ the error budget of the "
            "SLO window ending when the incident ended",
            "fraction",
        ),
        _other(
            "sla_compliance",
            "SLA compliance",
            "incidents whose milestone was reached within target ÷ incidents measured; "
            "incidents lacking the milestone are listed, not counted",
            "fraction",
        ),
    )
}
"""Definitions of every figure that is not a milestone duration."""
