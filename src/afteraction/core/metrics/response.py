"""The human cost of a response: person time in incident, handoffs, cost in person-hours,
and how many people, teams and services incidents involve.

Lives here: `person_time_in_incident`, `count_handoffs`, `response_cost`,
`incident_breadth`. Must not live here: working out who interacted when (the people
analysis does that from messages, pages and transcripts).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from afteraction.core.errors import ValidationError
from afteraction.core.metrics._common import aware
from afteraction.core.metrics.durations import IncidentFacts, included
from afteraction.core.metrics.stats import Distribution, summarize

MINIMUM_CREDIT_SECONDS = 15.0


def person_time_in_incident(
    interaction_times: Sequence[datetime], *, minimum_credit_seconds: float = MINIMUM_CREDIT_SECONDS
) -> float:
    """Seconds: max(last − first, minimum_credit_seconds × number of interactions).

    So a single message counts 15 s, and a burst of interactions counts at least 15 s
    each. No interactions is a true 0 (the person did not take part), not a missing value.
    """
    if minimum_credit_seconds < 0:
        raise ValidationError("minimum credit cannot be negative", field="minimum_credit_seconds")
    times = [aware(t, "interaction_times") for t in interaction_times]
    if not times:
        return 0.0
    span = (max(times) - min(times)).total_seconds()
    return max(span, minimum_credit_seconds * len(times))


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    role: str
    person_key: str
    at: datetime


def count_handoffs(assignments: Iterable[RoleAssignment]) -> dict[str, int]:
    """Per role, how many times it passed from one person to a different one (by time)."""
    holders: dict[str, str] = {}
    counts: dict[str, int] = {}
    for item in sorted(assignments, key=lambda a: (aware(a.at, "at"), a.role)):
        counts.setdefault(item.role, 0)
        previous = holders.get(item.role)
        if previous is not None and previous != item.person_key:
            counts[item.role] += 1
        holders[item.role] = item.person_key
    return counts


@dataclass(frozen=True, slots=True)
class ResponseCost:
    person_seconds: Mapping[str, float]
    person_hours: float


def response_cost(
    interactions: Mapping[str, Sequence[datetime]],
    *,
    minimum_credit_seconds: float = MINIMUM_CREDIT_SECONDS,
) -> ResponseCost:
    """Person time in incident for each person, and their sum in person-hours."""
    seconds = {
        person: person_time_in_incident(times, minimum_credit_seconds=minimum_credit_seconds)
        for person, times in sorted(interactions.items())
    }
    return ResponseCost(seconds, math.fsum(seconds.values()) / 3600)


def incident_breadth(
    incidents: Iterable[IncidentFacts],
    people_by_incident: Mapping[str, Collection[str]],
    *,
    include_types: Collection[str] | None = None,
) -> dict[str, Distribution]:
    """Distributions of people, teams and services per incident.

    An incident absent from `people_by_incident` has a missing people count; one with no
    teams or services recorded has those missing too. Missing is never counted as zero.
    """
    kept, _ = included(incidents, include_types)
    people: list[float | None] = []
    teams: list[float | None] = []
    services: list[float | None] = []
    for incident in kept:
        found = people_by_incident.get(incident.public_id)
        people.append(None if found is None else len(set(found)))
        teams.append(len(set(incident.teams)) or None)
        services.append(len(set(incident.services)) or None)
    return {
        "people": summarize(people),
        "teams": summarize(teams),
        "services": summarize(services),
    }
