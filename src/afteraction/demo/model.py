"""Frozen records of the demo organisation: teams, people, services, problems, incidents.

Only plain data lives here (no generation logic, no I/O). Database loaders map these
records to tables one to one, so names and fields stay stable; new fields need defaults.
Every datetime is timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class DemoTeam:
    name: str
    slug: str
    description: str


@dataclass(frozen=True, slots=True)
class DemoPerson:
    email: str
    name: str
    title: str
    department: str
    team: str
    """Slug of the current team (the last team for people who left)."""
    manager_email: str | None
    start_date: date
    end_date: date | None
    time_zone: str
    location: str
    slack_id: str
    pagerduty_id: str
    github_login: str
    past_teams: tuple[tuple[str, date, date], ...] = ()
    """Earlier memberships as (team slug, from inclusive, to exclusive)."""


@dataclass(frozen=True, slots=True)
class DemoService:
    name: str
    slug: str
    team: str
    tier: int
    description: str


@dataclass(frozen=True, slots=True)
class DemoProblem:
    key: str
    title: str
    description: str
    status: str
    workaround: str


@dataclass(frozen=True, slots=True)
class DemoRole:
    role: str
    person_email: str
    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class DemoUpdate:
    at: datetime
    status: str
    body: str
    author_email: str


@dataclass(frozen=True, slots=True)
class DemoActionItem:
    title: str
    kind: str
    owner_email: str
    due: date
    status: str
    url: str = ""


@dataclass(frozen=True, slots=True)
class DemoReference:
    kind: str
    url: str
    title: str


@dataclass(frozen=True, slots=True)
class DemoIncident:
    number: int
    title: str
    summary: str
    severity: str
    status: str
    type: str
    private: bool
    services: tuple[str, ...]
    teams: tuple[str, ...]
    tags: tuple[str, ...]
    customer_impact: str
    milestones: dict[str, datetime | None]
    roles: tuple[DemoRole, ...]
    updates: tuple[DemoUpdate, ...]
    action_items: tuple[DemoActionItem, ...]
    references: tuple[DemoReference, ...]
    problem: str | None
    flagship: bool = False
    impacts: tuple[tuple[datetime, datetime | None], ...] = ()
    """Customer-impact intervals (end None: still affecting customers)."""


@dataclass(frozen=True, slots=True)
class DemoOrg:
    teams: tuple[DemoTeam, ...]
    people: tuple[DemoPerson, ...]
    services: tuple[DemoService, ...]
    problems: tuple[DemoProblem, ...]
    incidents: tuple[DemoIncident, ...]

    def person(self, email: str) -> DemoPerson:
        """The person with this email; KeyError when unknown."""
        for person in self.people:
            if person.email == email:
                return person
        raise KeyError(email)

    def team_on(self, email: str, day: date) -> str | None:
        """Slug of the team `email` belonged to on `day`, None outside employment."""
        person = self.person(email)
        return team_on(person, day)


def team_on(person: DemoPerson, day: date) -> str | None:
    """Slug of the team `person` belonged to on `day`, None outside their employment."""
    if day < person.start_date or (person.end_date is not None and day >= person.end_date):
        return None
    for slug, start, end in person.past_teams:
        if start <= day < end:
            return slug
    return person.team
