"""API schemas of the organisation directory: people (with team memberships), teams,
services and problems — Create/Update bodies, Read models and their builders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import Field

from afteraction.services.schemas.common import ReadModel
from afteraction.storage.tables import Incident, Person, Problem, Service, Team
from afteraction.web.schemas.common import RowId, Strict


class PersonCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, max_length=320)
    time_zone: str | None = Field(None, max_length=64)
    location: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=200)
    department: str | None = Field(None, max_length=200)
    manager_id: RowId | None = None
    start_date: date | None = None
    end_date: date | None = None
    github_login: str | None = Field(None, max_length=100)


class ErasureRequest(Strict):
    reason: str = Field(
        min_length=1, max_length=500, description="Why: the request or ticket it answers."
    )


class PersonUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    email: str | None = Field(None, max_length=320)
    time_zone: str | None = Field(None, max_length=64)
    location: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=200)
    department: str | None = Field(None, max_length=200)
    manager_id: RowId | None = None
    start_date: date | None = None
    end_date: date | None = None
    github_login: str | None = Field(None, max_length=100)


class MembershipCreate(Strict):
    team: str
    start: date | None = None
    end: date | None = None


class MembershipRead(ReadModel):
    team: str = Field(description="The team's slug")
    start: date | None
    end: date | None


class PersonRead(ReadModel):
    id: int
    name: str
    email: str | None
    time_zone: str | None
    location: str | None
    title: str | None
    department: str | None
    manager_id: int | None
    start_date: date | None
    end_date: date | None
    github_login: str | None
    teams: list[MembershipRead]


class PersonList(ReadModel):
    items: list[PersonRead]


def person_read(person: Person) -> PersonRead:
    return PersonRead(
        id=person.id,
        name=person.name,
        email=person.email,
        time_zone=person.time_zone,
        location=person.location,
        title=person.title,
        department=person.department,
        manager_id=person.manager_id,
        start_date=person.start_date,
        end_date=person.end_date,
        github_login=person.github_login,
        teams=[
            MembershipRead(team=m.team.slug, start=m.start, end=m.end) for m in person.memberships
        ],
    )


class TeamCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(None, max_length=80)
    description: str = Field("", max_length=5_000)


class TeamUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    slug: str | None = Field(None, max_length=80)
    description: str | None = Field(None, max_length=5_000)


class TeamRead(ReadModel):
    id: int
    slug: str
    name: str
    description: str


class TeamList(ReadModel):
    items: list[TeamRead]


def team_read(team: Team) -> TeamRead:
    return TeamRead(id=team.id, slug=team.slug, name=team.name, description=team.description)


class ServiceCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(None, max_length=80)
    team: str | None = None
    tier: int = 2
    description: str = Field("", max_length=5_000)


class ServiceUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    slug: str | None = Field(None, max_length=80)
    team: str | None = Field(None, description="The owning team's slug; null for no owner.")
    tier: int | None = None
    description: str | None = Field(None, max_length=5_000)


class ServiceRead(ReadModel):
    id: int
    slug: str
    name: str
    tier: int
    team: str | None = Field(description="The owning team's slug")
    description: str


class ServiceList(ReadModel):
    items: list[ServiceRead]


def service_read(service: Service) -> ServiceRead:
    return ServiceRead(
        id=service.id,
        slug=service.slug,
        name=service.name,
        tier=service.tier,
        team=service.team.slug if service.team else None,
        description=service.description,
    )


class ProblemCreate(Strict):
    title: str = Field(min_length=1, max_length=200)
    key: str | None = Field(None, max_length=80)
    description: str = Field("", max_length=20_000)
    status: str = "open"
    workaround: str = Field("", max_length=20_000)


class ProblemUpdate(Strict):
    title: str | None = Field(None, min_length=1, max_length=200)
    key: str | None = Field(None, max_length=80)
    description: str | None = Field(None, max_length=20_000)
    status: str | None = None
    workaround: str | None = Field(None, max_length=20_000)


class ProblemRead(ReadModel):
    key: str
    title: str
    description: str
    status: str
    workaround: str
    incident_count: int = Field(description="Linked incidents you may see")


class ProblemList(ReadModel):
    items: list[ProblemRead]


class LinkedIncident(ReadModel):
    id: str
    title: str
    status: str


class ProblemDetail(ProblemRead):
    incidents: list[LinkedIncident]


def problem_read(problem: Problem, incident_count: int) -> ProblemRead:
    return ProblemRead(
        key=problem.key,
        title=problem.title,
        description=problem.description,
        status=problem.status,
        workaround=problem.workaround,
        incident_count=incident_count,
    )


def problem_detail(problem: Problem, incidents: Sequence[Incident]) -> ProblemDetail:
    return ProblemDetail(
        **problem_read(problem, len(incidents)).model_dump(),
        incidents=[
            LinkedIncident(id=r.public_id, title=r.title, status=r.status) for r in incidents
        ],
    )
