"""REST endpoints for the organisation directory (people, teams, services, problems) and for
administration (users, API tokens)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from afteraction.core.access import require_admin
from afteraction.services import directory, directory_edit, privacy, users
from afteraction.services import directory_reads as reads
from afteraction.services.schemas.privacy import ErasureRead, erasure_read
from afteraction.storage.db import writing
from afteraction.web import schemas as s
from afteraction.web.deps import CurrentActor, CurrentUser, DbSession
from afteraction.web.schemas.common import RowId

router = APIRouter()


@router.get("/people", tags=["directory"], response_model=s.PersonList)
def list_people(
    db: DbSession,
    actor: CurrentActor,  # noqa: ARG001
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> s.PersonList:
    return s.PersonList(items=[s.person_read(p) for p in directory.list_people(db, text=q)])


@router.post("/people", tags=["directory"], status_code=201, response_model=s.PersonRead)
def create_person(body: s.PersonCreate, db: DbSession, actor: CurrentActor) -> s.PersonRead:
    with writing(db):
        person = directory.create_person(db, actor, directory.PersonInput(**body.model_dump()))
        return s.person_read(person)


@router.get("/people/{person_id}", tags=["directory"], response_model=s.PersonRead)
def get_person(person_id: RowId, db: DbSession, actor: CurrentActor) -> s.PersonRead:  # noqa: ARG001
    return s.person_read(directory.get_person(db, person_id))


@router.patch("/people/{person_id}", tags=["directory"], response_model=s.PersonRead)
def update_person(
    person_id: RowId, body: s.PersonUpdate, db: DbSession, actor: CurrentActor
) -> s.PersonRead:
    """Change only the fields sent; an explicit null clears an optional field."""
    with writing(db):
        person = directory_edit.update_person(
            db, actor, person_id, body.model_dump(exclude_unset=True)
        )
        return s.person_read(person)


@router.delete("/people/{person_id}", tags=["directory"], status_code=204, responses=s.NO_CONTENT)
def delete_person(person_id: RowId, db: DbSession, actor: CurrentActor) -> Response:
    """Refused (409) while incidents, evidence or a user account still refer to the person."""
    with writing(db):
        directory_edit.delete_person(db, actor, person_id)
    return Response(status_code=204)


@router.post(
    "/people/{person_id}/erase",
    tags=["directory"],
    response_model=ErasureRead,
)
def erase_person(
    person_id: RowId, body: s.ErasureRequest, db: DbSession, actor: CurrentActor
) -> ErasureRead:
    """Erase a person's personal data on request (admins): their name becomes a pseudonym
    everywhere it was stored, personal fields are cleared, what they did is kept. 409 while
    an active user account is linked to them or when already erased."""
    with writing(db):
        return erasure_read(privacy.erase_person(db, actor, person_id, reason=body.reason))


@router.post(
    "/people/{person_id}/memberships",
    tags=["directory"],
    status_code=201,
    response_model=s.PersonRead,
)
def add_membership(
    person_id: RowId, body: s.MembershipCreate, db: DbSession, actor: CurrentActor
) -> s.PersonRead:
    """Add the person to a team (from `start` to `end`); the answer is the person."""
    with writing(db):
        directory.add_membership(
            db, actor, person_id=person_id, team_slug=body.team, start=body.start, end=body.end
        )
        return s.person_read(directory.get_person(db, person_id))


@router.get("/teams", tags=["directory"], response_model=s.TeamList)
def list_teams(db: DbSession, actor: CurrentActor) -> s.TeamList:  # noqa: ARG001
    return s.TeamList(items=[s.team_read(t) for t in directory.list_teams(db)])


@router.post("/teams", tags=["directory"], status_code=201, response_model=s.TeamRead)
def create_team(body: s.TeamCreate, db: DbSession, actor: CurrentActor) -> s.TeamRead:
    with writing(db):
        team = directory.create_team(
            db, actor, name=body.name, slug=body.slug, description=body.description
        )
        return s.team_read(team)


@router.get("/teams/{ref}", tags=["directory"], response_model=s.TeamRead)
def get_team(ref: str, db: DbSession, actor: CurrentActor) -> s.TeamRead:  # noqa: ARG001
    """A team by slug (or numeric id)."""
    return s.team_read(directory_edit.team_by_ref(db, ref))


@router.patch("/teams/{ref}", tags=["directory"], response_model=s.TeamRead)
def update_team(ref: str, body: s.TeamUpdate, db: DbSession, actor: CurrentActor) -> s.TeamRead:
    with writing(db):
        team = directory_edit.update_team(db, actor, ref, body.model_dump(exclude_unset=True))
        return s.team_read(team)


@router.delete("/teams/{ref}", tags=["directory"], status_code=204, responses=s.NO_CONTENT)
def delete_team(ref: str, db: DbSession, actor: CurrentActor) -> Response:
    """Refused (409) while the team owns services, has members or is named on incidents."""
    with writing(db):
        directory_edit.delete_team(db, actor, ref)
    return Response(status_code=204)


@router.get("/services", tags=["directory"], response_model=s.ServiceList)
def list_services(db: DbSession, actor: CurrentActor) -> s.ServiceList:  # noqa: ARG001
    return s.ServiceList(items=[s.service_read(x) for x in directory.list_services(db)])


@router.post("/services", tags=["directory"], status_code=201, response_model=s.ServiceRead)
def create_service(body: s.ServiceCreate, db: DbSession, actor: CurrentActor) -> s.ServiceRead:
    with writing(db):
        service = directory.create_service(
            db,
            actor,
            name=body.name,
            slug=body.slug,
            team_slug=body.team,
            tier=body.tier,
            description=body.description,
        )
        return s.service_read(service)


@router.get("/services/{ref}", tags=["directory"], response_model=s.ServiceRead)
def get_service(ref: str, db: DbSession, actor: CurrentActor) -> s.ServiceRead:  # noqa: ARG001
    """A service by slug (or numeric id)."""
    return s.service_read(directory_edit.service_by_ref(db, ref))


@router.patch("/services/{ref}", tags=["directory"], response_model=s.ServiceRead)
def update_service(
    ref: str, body: s.ServiceUpdate, db: DbSession, actor: CurrentActor
) -> s.ServiceRead:
    with writing(db):
        service = directory_edit.update_service(db, actor, ref, body.model_dump(exclude_unset=True))
        return s.service_read(service)


@router.delete("/services/{ref}", tags=["directory"], status_code=204, responses=s.NO_CONTENT)
def delete_service(ref: str, db: DbSession, actor: CurrentActor) -> Response:
    """Refused (409) while incidents or service level objectives refer to the service."""
    with writing(db):
        directory_edit.delete_service(db, actor, ref)
    return Response(status_code=204)


@router.get("/problems", tags=["directory"], response_model=s.ProblemList)
def list_problems(db: DbSession, actor: CurrentActor) -> s.ProblemList:
    """Every problem with the number of its incidents the caller may see."""
    rows = reads.problems_with_counts(db, actor)
    return s.ProblemList(items=[s.problem_read(p, n) for p, n in rows])


@router.post("/problems", tags=["directory"], status_code=201, response_model=s.ProblemRead)
def create_problem(body: s.ProblemCreate, db: DbSession, actor: CurrentActor) -> s.ProblemRead:
    with writing(db):
        return s.problem_read(directory.create_problem(db, actor, **body.model_dump()), 0)


@router.get("/problems/{key}", tags=["directory"], response_model=s.ProblemDetail)
def get_problem(key: str, db: DbSession, actor: CurrentActor) -> s.ProblemDetail:
    """The problem with the linked incidents you may see."""
    problem = directory.problem_by_key(db, key)
    rows = sorted(reads.problem_incidents(db, actor, problem), key=lambda r: r.number)
    return s.problem_detail(problem, rows)


@router.patch("/problems/{key}", tags=["directory"], response_model=s.ProblemRead)
def update_problem(
    key: str, body: s.ProblemUpdate, db: DbSession, actor: CurrentActor
) -> s.ProblemRead:
    with writing(db):
        problem = directory_edit.update_problem(db, actor, key, body.model_dump(exclude_unset=True))
        count = len(reads.problem_incidents(db, actor, problem))
        return s.problem_read(problem, count)


@router.delete("/problems/{key}", tags=["directory"], status_code=204, responses=s.NO_CONTENT)
def delete_problem(key: str, db: DbSession, actor: CurrentActor) -> Response:
    """Refused (409) while incidents are linked to the problem."""
    with writing(db):
        directory_edit.delete_problem(db, actor, key)
    return Response(status_code=204)


@router.get("/users", tags=["admin"], response_model=s.UserList)
def list_users(db: DbSession, actor: CurrentActor) -> s.UserList:
    require_admin(actor)
    return s.UserList(items=[s.user_read(u) for u in users.list_users(db)])


@router.post("/users", tags=["admin"], status_code=201, response_model=s.UserRead)
def create_user(body: s.UserCreate, db: DbSession, actor: CurrentActor) -> s.UserRead:
    with writing(db):
        return s.user_read(users.create_user(db, actor, **body.model_dump()))


@router.patch("/users/{user_id}", tags=["admin"], response_model=s.UserRead)
def update_user(
    user_id: RowId, body: s.UserUpdate, db: DbSession, actor: CurrentActor
) -> s.UserRead:
    """Change a user's role or disable (`active: false`) their logins and tokens; admins only."""
    with writing(db):
        user = users.update_user(db, actor, user_id, role=body.role, active=body.active)
        return s.user_read(user)


@router.get("/me", tags=["admin"], response_model=s.UserRead)
def me(user: CurrentUser) -> s.UserRead:
    return s.user_read(user)


@router.get("/tokens", tags=["admin"], response_model=s.TokenList)
def list_tokens(db: DbSession, user: CurrentUser) -> s.TokenList:
    return s.TokenList(items=[s.token_read(t) for t in users.list_tokens(db, user.id)])


@router.post("/tokens", tags=["admin"], status_code=201, response_model=s.TokenIssued)
def issue_token(body: s.TokenCreate, db: DbSession, user: CurrentUser) -> s.TokenIssued:
    """Create an API token for yourself. The secret is shown in this response only."""
    with writing(db):
        issued = users.issue_token(db, users.actor_for(user), user_id=user.id, name=body.name)
        return s.TokenIssued(id=issued.token.id, name=issued.token.name, token=issued.secret)


@router.delete("/tokens/{token_id}", tags=["admin"], status_code=204, responses=s.NO_CONTENT)
def revoke_token(token_id: RowId, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        users.revoke_token(db, actor, token_id)
    return Response(status_code=204)
