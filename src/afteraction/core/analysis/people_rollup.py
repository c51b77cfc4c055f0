"""The roll-up of the people analysis: how many people, responders and observers, who was
pulled in off call, teams involved, time-zone spread, bots and unattributed messages, and
repeat helpers (a knowledge-silo signal, never a performance score), each with the words
that explain it. Used by `people.py`, which re-exports the public names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from afteraction.core.analysis.people_context import IncidentContext
from afteraction.core.times import zone_or_none

if TYPE_CHECKING:
    from afteraction.core.analysis.people import PersonFacts, _Walk


@dataclass(frozen=True, slots=True)
class TimeZoneSpread:
    zones: tuple[str, ...]
    max_offset_difference_hours: float | None
    unknown_count: int


@dataclass(frozen=True, slots=True)
class RepeatHelper:
    person_key: str
    incidents: int


@dataclass(slots=True)
class Rollup:
    people_count: int
    responders_count: int
    observers_count: int
    pulled_in_off_call_count: int
    pulled_in_off_call_keys: tuple[str, ...]
    on_call_unknown_count: int
    teams_involved: tuple[str, ...]
    time_zone_spread: TimeZoneSpread
    bots_count: int
    bot_messages: int
    unattributed_messages: int
    hidden_messages: int
    total_messages: int
    total_words: int
    repeat_helpers: tuple[RepeatHelper, ...] | None
    repeat_threshold: int
    explanations: dict[str, str] = field(default_factory=dict)


def _time_zone_spread(people: list[PersonFacts], at: datetime) -> TimeZoneSpread:
    known = {p.time_zone: zone_or_none(p.time_zone) for p in people}
    zones = {name: zone for name, zone in known.items() if name and zone is not None}
    unknown = sum(1 for p in people if known[p.time_zone] is None)
    offsets = [at.astimezone(zone).utcoffset() or timedelta(0) for zone in zones.values()]
    hours = [offset.total_seconds() / 3600 for offset in offsets]
    spread = max(hours) - min(hours) if hours else None
    return TimeZoneSpread(tuple(sorted(zones)), spread, unknown)


def _repeat_helpers(
    people: list[PersonFacts], history: Mapping[str, int] | None, threshold: int
) -> tuple[RepeatHelper, ...] | None:
    if history is None:
        return None
    helpers = []
    for person in people:
        this_one = 1 if person.team_fit in ("other_team", "former_member") else 0
        count = history.get(person.person_key, 0) + this_one
        if count >= threshold:
            helpers.append(RepeatHelper(person.person_key, count))
    helpers.sort(key=lambda h: (-h.incidents, h.person_key))
    return tuple(helpers)


def rollup_of(
    people: list[PersonFacts],
    walk: _Walk,
    context: IncidentContext,
    history: Mapping[str, int] | None,
    threshold: int,
) -> Rollup:
    off_call = tuple(p.person_key for p in people if p.on_call_at_arrival is False)
    spread = _time_zone_spread(people, context.started)
    teams = tuple(sorted({team for p in people for team in p.teams}))
    return Rollup(
        people_count=len(people),
        responders_count=sum(1 for p in people if p.messages > 0),
        observers_count=sum(1 for p in people if p.is_observer),
        pulled_in_off_call_count=len(off_call),
        pulled_in_off_call_keys=off_call,
        on_call_unknown_count=sum(1 for p in people if p.on_call_at_arrival is None),
        teams_involved=teams,
        time_zone_spread=spread,
        bots_count=len(walk.bots),
        bot_messages=walk.bot_messages,
        unattributed_messages=walk.unattributed,
        hidden_messages=walk.hidden,
        total_messages=sum(p.messages for p in people),
        total_words=sum(p.words for p in people),
        repeat_helpers=_repeat_helpers(people, history, threshold),
        repeat_threshold=threshold,
        explanations=_rollup_explanations(spread, history is not None, threshold),
    )


def _rollup_explanations(
    spread: TimeZoneSpread, has_history: bool, threshold: int
) -> dict[str, str]:
    repeat = (
        f"people whose past incidents on services their team does not own, plus this one, reach "
        f"{threshold}; a knowledge-silo signal, never a performance score"
        if has_history
        else "unknown: no incident history was supplied"
    )
    return {
        "people_count": "people (not bots) seen in any source: chat, reactions, pages, roles",
        "responders_count": "people who wrote at least one message",
        "observers_count": "people present who wrote nothing and added no reaction",
        "pulled_in_off_call_count": "people whose first involvement fell outside any shift of "
        "theirs in the imported schedules covering that moment",
        "on_call_unknown_count": "people for whom no imported schedule covers the moment they "
        "were first involved",
        "teams_involved": "distinct teams the people belonged to when first involved",
        "time_zone_spread": f"distinct known time zones; largest difference in UTC offsets at "
        f"impact start; {spread.unknown_count} people without a known time zone",
        "bots_count": "distinct bot identities (bot posts, bot roster entries); not people",
        "unattributed_messages": "messages without a known author, left out of every share",
        "hidden_messages": "hidden or deleted messages, not counted as participation",
        "repeat_helpers": repeat,
    }
