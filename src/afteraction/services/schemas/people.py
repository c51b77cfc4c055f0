"""Read model of the people & coordination analysis of one incident, shared by
`GET /api/v1/incidents/{id}/people` and `afteraction incident people --json`. It mirrors
`afteraction.core.analysis.people.PeopleAnalysis` field for field and is read straight from
it (`people_analysis_read`); unknowns (no time zone, no roster, no schedule) are null.
"""

from __future__ import annotations

from datetime import date

from pydantic import ConfigDict, Field

from afteraction.core.analysis.people import PeopleAnalysis
from afteraction.services.schemas.common import ReadModel, Timestamp


class _FromCore(ReadModel):
    model_config = ConfigDict(from_attributes=True)


class ArrivalDetailRead(_FromCore):
    at: Timestamp | None
    escalation_level: int | None
    inviter_key: str | None
    mentioner_key: str | None
    evidence: list[str]


class RoleHeldRead(_FromCore):
    role: str
    start: Timestamp
    end: Timestamp | None


class PersonFactsRead(_FromCore):
    person_key: str
    name: str
    in_roster: bool
    arrival: str = Field(description="How the person first became involved")
    arrival_detail: ArrivalDetailRead
    first_seen: Timestamp | None
    first_message: Timestamp | None
    last_message: Timestamp | None
    time_zone: str | None
    on_call_at_arrival: bool | None
    off_hours_at_arrival: bool | None
    local_time_at_arrival: str | None
    pages_in_incident: int
    pages_prev_24h: int
    pages_prev_7d: int
    consecutive_pages: int
    team_fit: str
    teams: list[str]
    left_owning_team_on: date | None
    days_since_left: int | None
    title_then: str | None
    tenure_days_then: int | None
    messages: int
    words: int
    message_share: float
    reactions_given: int
    is_observer: bool
    reactions_only: bool
    roles: list[RoleHeldRead]
    spoke_in_call: int = 0
    explanations: dict[str, str]


class TimeZoneSpreadRead(_FromCore):
    zones: list[str]
    max_offset_difference_hours: float | None
    unknown_count: int


class RepeatHelperRead(_FromCore):
    person_key: str
    incidents: int


class RollupRead(_FromCore):
    people_count: int
    responders_count: int
    observers_count: int
    pulled_in_off_call_count: int
    pulled_in_off_call_keys: list[str]
    on_call_unknown_count: int
    teams_involved: list[str]
    time_zone_spread: TimeZoneSpreadRead
    bots_count: int
    bot_messages: int
    unattributed_messages: int
    hidden_messages: int
    total_messages: int
    total_words: int
    repeat_helpers: list[RepeatHelperRead] | None = Field(
        description="People in several recent incidents: a systems signal, not a score"
    )
    repeat_threshold: int
    explanations: dict[str, str]


class PeopleAnalysisRead(ReadModel):
    incident: str = Field(description="Public id such as INC-42")
    people: list[PersonFactsRead]
    rollup: RollupRead


def people_analysis_read(incident: str, analysis: PeopleAnalysis) -> PeopleAnalysisRead:
    return PeopleAnalysisRead(
        incident=incident,
        people=[PersonFactsRead.model_validate(p) for p in analysis.people],
        rollup=RollupRead.model_validate(analysis.rollup),
    )
