"""Knowledge-silo signals per service: concentration of participation, repeat helpers from
other teams, and former team members still pulled in.

Lives here: `Participation`, `silo_index`, `repeat_helpers`, `former_members_pulled_in`.
Must not live here: deciding who participated (the people analysis does that) or any
judgement of individuals. These figures describe where knowledge sits, never performance.

A participation row says a person took part in an incident on a service, with a weight
(1 per incident, or messages, or minutes: the caller chooses and the UI states which).
Team membership on a day uses `MembershipRecord` (start inclusive, end exclusive).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from afteraction.core.errors import ValidationError
from afteraction.core.evidence import MembershipRecord
from afteraction.core.metrics._common import teams_on
from afteraction.core.metrics.stats import SMALL_SAMPLE_SIZE


class Participation(NamedTuple):
    service: str
    person_key: str
    incident_id: str
    weight: float = 1.0
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SiloIndex:
    """`top` lists up to three (person key, share) pairs, largest first (ties by key)."""

    service: str
    people: int
    incidents: int
    total_weight: float
    top1_share: float | None
    top3_share: float | None
    top: tuple[tuple[str, float], ...]
    small_sample: bool


@dataclass(frozen=True, slots=True)
class RepeatHelper:
    person_key: str
    incident_ids: tuple[str, ...]
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FormerMember:
    person_key: str
    team: str
    service: str
    incident_ids: tuple[str, ...]
    left: date
    days_since_left: int


def _checked(rows: Iterable[Participation]) -> list[Participation]:
    out = []
    for number, row in enumerate(rows, start=1):
        if not math.isfinite(row.weight) or row.weight < 0:
            raise ValidationError(
                f"participation row {number}: weight must be a finite number ≥ 0, "
                f"got {row.weight!r}",
                field="weight",
                details={"row": number},
            )
        out.append(Participation(*row))
    return out


def silo_index(participation: Iterable[Participation]) -> dict[str, SiloIndex]:
    """Per service, the share of participation weight held by the top 1 and top 3 people.

    Shares are None when the service's total weight is 0. `small_sample` marks services
    with fewer than 10 incidents.
    """
    weights: dict[str, dict[str, float]] = {}
    incidents: dict[str, set[str]] = {}
    for row in _checked(participation):
        per_person = weights.setdefault(row.service, {})
        per_person[row.person_key] = per_person.get(row.person_key, 0.0) + row.weight
        incidents.setdefault(row.service, set()).add(row.incident_id)
    return {
        service: _index(service, weights[service], len(incidents[service]))
        for service in sorted(weights)
    }


def _index(service: str, weights: Mapping[str, float], incident_count: int) -> SiloIndex:
    total = math.fsum(weights.values())
    ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:3]
    if total == 0:
        top: tuple[tuple[str, float], ...] = ()
        top1 = top3 = None
    else:
        top = tuple((person, weight / total) for person, weight in ranked)
        top1 = top[0][1]
        top3 = min(1.0, math.fsum(share for _, share in top))
    return SiloIndex(
        service,
        len(weights),
        incident_count,
        total,
        top1,
        top3,
        top,
        incident_count < SMALL_SAMPLE_SIZE,
    )


def _outsider(
    row: Participation,
    owners: Mapping[str, Collection[str]],
    memberships: Sequence[MembershipRecord],
) -> bool:
    owning = owners.get(row.service)
    if not owning or row.at is None:
        return False
    return not teams_on(memberships, row.person_key, row.at.date()) & set(owning)


def repeat_helpers(
    participation: Iterable[Participation],
    owners: Mapping[str, Collection[str]],
    memberships: Sequence[MembershipRecord],
    *,
    min_incidents: int = 3,
) -> list[RepeatHelper]:
    """People in at least `min_incidents` incidents on services none of their teams owned
    on the day. Rows without `at`, or on services with no known owner, are not judged."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    for row in _checked(participation):
        if _outsider(row, owners, memberships):
            ids, services = found.setdefault(row.person_key, (set(), set()))
            ids.add(row.incident_id)
            services.add(row.service)
    helpers = [
        RepeatHelper(person, tuple(sorted(ids)), tuple(sorted(services)))
        for person, (ids, services) in found.items()
        if len(ids) >= min_incidents
    ]
    return sorted(helpers, key=lambda h: (-len(h.incident_ids), h.person_key))


def _left_before(
    memberships: Sequence[MembershipRecord], person: str, team: str, at: datetime
) -> MembershipRecord | None:
    ended = [
        m
        for m in memberships
        if m.person_key == person and m.team == team and m.end is not None and m.end <= at.date()
    ]
    return max(ended, key=lambda m: m.end or at.date(), default=None)


def former_members_pulled_in(
    participation: Iterable[Participation],
    owners: Mapping[str, Collection[str]],
    memberships: Sequence[MembershipRecord],
) -> list[FormerMember]:
    """People who took part in an incident on a service owned by a team they had left
    (and not rejoined) by the incident's day. `left` is the end date of their latest
    membership of that team and `days_since_left` is counted at the first such incident."""
    found: dict[tuple[str, str, str], list[tuple[datetime, str, date]]] = {}
    for row in _checked(participation):
        if row.at is None:
            continue
        current = teams_on(memberships, row.person_key, row.at.date())
        for team in sorted(set(owners.get(row.service, ())) - current):
            old = _left_before(memberships, row.person_key, team, row.at)
            if old is not None and old.end is not None:
                key = (row.person_key, team, row.service)
                found.setdefault(key, []).append((row.at, row.incident_id, old.end))
    result = []
    for (person, team, service), hits in sorted(found.items()):
        hits.sort()
        first_at, _, left = hits[0]
        ids = tuple(dict.fromkeys(incident for _, incident, _ in hits))
        result.append(FormerMember(person, team, service, ids, left, (first_at.date() - left).days))
    return result
