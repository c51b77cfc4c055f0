"""REST endpoints for the organisation directory (people, teams, services, problems) and for
administration (users, API tokens)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from afteraction.core.access import require_admin
from afteraction.services import directory, directory_edit, users
from afteraction.services import directory_reads as reads
from afteraction.storage.db import writing
from afteraction.web import schemas as s
from afteraction.web.deps import CurrentActor, CurrentUser, DbSession
from afteraction.web.routes.api_incidents import json_response

router = APIRouter()


@router.get("/people", tags=["directory"])
def list_people(
    db: DbSession,
    actor: CurrentActor,  # noqa: ARG001
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    return json_response({"items": [s.person_dict(p) for p in directory.list_people(db, text=q)]})


@router.post("/people", tags=["directory"], status_code=201)
def create_person(body: s.PersonCreate, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        person = directory.create_person(db, actor, directory.PersonInput(**body.model_dump()))
        result = s.person_dict(person)
    return json_response(result, 201)


@router.get("/people/{person_id}", tags=["directory"])
def get_person(person_id: int, db: DbSession, actor: CurrentActor) -> Response:  # noqa: ARG001
    return json_response(s.person_dict(directory.get_person(db, person_id)))


@router.patch("/people/{person_id}", tags=["directory"])
def update_person(
    person_id: int, body: s.PersonUpdate, db: DbSession, actor: CurrentActor
) -> Response:
    """Change only the fields sent; an explicit null clears an optional field."""
    with writing(db):
        person = directory_edit.update_person(
            db, actor, person_id, body.model_dump(exclude_unset=True)
        )
        result = s.person_dict(person)
    return json_response(result)


@router.delete("/people/{person_id}", tags=["directory"], status_code=204)
def delete_person(person_id: int, db: DbSession, actor: CurrentActor) -> Response:
    """Refused (409) while incidents, evidence or a user account still refer to the person."""
    with writing(db):
        directory_edit.delete_person(db, actor, person_id)
    return Response(status_code=204)


@router.post("/people/{person_id}/memberships", tags=["directory"], status_code=201)
def add_membership(
    person_id: int, body: s.MembershipCreate, db: DbSession, actor: CurrentActor
) -> Response:
    with writing(db):
        directory.add_membership(
            db, actor, person_id=person_id, team_slug=body.team, start=body.start, end=body.end
        )
        result = s.person_dict(directory.get_person(db, person_id))
    return json_response(result, 201)


@router.get("/teams", tags=["directory"])
def list_teams(db: DbSession, actor: CurrentActor) -> Response:  # noqa: ARG001
    return json_response({"items": [s.team_dict(t) for t in directory.list_teams(db)]})


@router.post("/teams", tags=["directory"], status_code=201)
def create_team(body: s.TeamCreate, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        team = directory.create_team(
            db, actor, name=body.name, slug=body.slug, description=body.description
        )
        result = s.team_dict(team)
    return json_response(result, 201)


@router.get("/teams/{ref}", tags=["directory"])
def get_team(ref: str, db: DbSession, actor: CurrentActor) -> Response:  # noqa: ARG001
    """A team by slug (or numeric id)."""
    return json_response(s.team_dict(directory_edit.team_by_ref(db, ref)))


@router.patch("/teams/{ref}", tags=["directory"])
def update_team(ref: str, body: s.TeamUpdate, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        team = directory_edit.update_team(db, actor, ref, body.model_dump(exclude_unset=True))
        result = s.team_dict(team)
    return json_response(result)


@router.delete("/teams/{ref}", tags=["directory"], status_code=204)
def delete_team(ref: str, db: DbSession, actor: CurrentActor) -> Response:
    """Refused (409) while the team owns services, has members or is named on incidents."""
    with writing(db):
        directory_edit.delete_team(db, actor, ref)
    return Response(status_code=204)


@router.get("/services", tags=["directory"])
def list_services(db: DbSession, actor: CurrentActor) -> Response:  # noqa: ARG001
    return json_response({"items": [s.service_dict(x) for x in directory.list_services(db)]})


@router.post("/services", tags=["directory"], status_code=201)
def create_service(body: s.ServiceCreate, db: DbSession, actor: CurrentActor) -> Response:
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
        result = s.service_dict(service)
    return json_response(result, 201)


@router.get("/services/{ref}", tags=["directory"])
def get_service(ref: str, db: DbSession, actor: CurrentActor) -> Response:  # noqa: ARG001
    """A service by slug (or numeric id)."""
    return json_response(s.service_dict(directory_edit.service_by_ref(db, ref)))


@router.patch("/services/{ref}", tags=["directory"])
def update_service(ref: str, body: s.ServiceUpdate, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        service = directory_edit.update_service(db, actor, ref, body.model_dump(exclude_unset=True))
        result = s.service_dict(service)
    return json_response(result)


@router.delete("/services/{ref}", tags=["directory"], status_code=204)
def delete_service(ref: str, db: DbSession, actor: CurrentActor) -> Response:
    """Refused (409) while incidents or service level objectives refer to the service."""
    with writing(db):
        directory_edit.delete_service(db, actor, ref)
    return Response(status_code=204)


@router.get("/problems", tags=["directory"])
def list_problems(db: DbSession, actor: CurrentActor) -> Response:  # noqa: ARG001
    rows = directory.list_problems(db)
    return json_response({"items": [s.problem_dict(p, n) for p, n in rows]})


@router.post("/problems", tags=["directory"], status_code=201)
def create_problem(body: s.ProblemCreate, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        problem = directory.create_problem(db, actor, **body.model_dump())
        result = s.problem_dict(problem, 0)
    return json_response(result, 201)


@router.get("/problems/{key}", tags=["directory"])
def get_problem(key: str, db: DbSession, actor: CurrentActor) -> Response:
    problem = directory.problem_by_key(db, key)
    rows = sorted(reads.problem_incidents(db, actor, problem), key=lambda r: r.number)
    data = s.problem_dict(problem, len(rows))
    data["incidents"] = [{"id": r.public_id, "title": r.title, "status": r.status} for r in rows]
    return json_response(data)


@router.patch("/problems/{key}", tags=["directory"])
def update_problem(key: str, body: s.ProblemUpdate, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        problem = directory_edit.update_problem(db, actor, key, body.model_dump(exclude_unset=True))
        count = len(reads.problem_incidents(db, actor, problem))
        result = s.problem_dict(problem, count)
    return json_response(result)


@router.delete("/problems/{key}", tags=["directory"], status_code=204)
def delete_problem(key: str, db: DbSession, actor: CurrentActor) -> Response:
    """Refused (409) while incidents are linked to the problem."""
    with writing(db):
        directory_edit.delete_problem(db, actor, key)
    return Response(status_code=204)


@router.get("/users", tags=["admin"])
def list_users(db: DbSession, actor: CurrentActor) -> Response:
    require_admin(actor)
    return json_response({"items": [s.user_dict(u) for u in users.list_users(db)]})


@router.post("/users", tags=["admin"], status_code=201)
def create_user(body: s.UserCreate, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        user = users.create_user(db, actor, **body.model_dump())
        result = s.user_dict(user)
    return json_response(result, 201)


@router.patch("/users/{user_id}", tags=["admin"])
def update_user(user_id: int, body: s.UserUpdate, db: DbSession, actor: CurrentActor) -> Response:
    """Change a user's role or disable (`active: false`) their logins and tokens; admins only."""
    with writing(db):
        user = users.update_user(db, actor, user_id, role=body.role, active=body.active)
        result = s.user_dict(user)
    return json_response(result)


@router.get("/me", tags=["admin"])
def me(user: CurrentUser) -> Response:
    return json_response(s.user_dict(user))


@router.get("/tokens", tags=["admin"])
def list_tokens(db: DbSession, user: CurrentUser) -> Response:
    tokens = users.list_tokens(db, user.id)
    return json_response(
        {
            "items": [
                {
                    "id": t.id,
                    "name": t.name,
                    "prefix": t.prefix,
                    "created_at": t.created_at.isoformat(),
                    "revoked": t.revoked_at is not None,
                }
                for t in tokens
            ]
        }
    )


@router.post("/tokens", tags=["admin"], status_code=201)
def issue_token(body: s.TokenCreate, db: DbSession, user: CurrentUser) -> Response:
    """Create an API token for yourself. The secret is shown in this response only."""
    with writing(db):
        issued = users.issue_token(db, users.actor_for(user), user_id=user.id, name=body.name)
        result = {"id": issued.token.id, "name": issued.token.name, "token": issued.secret}
    return json_response(result, 201)


@router.delete("/tokens/{token_id}", tags=["admin"], status_code=204)
def revoke_token(token_id: int, db: DbSession, actor: CurrentActor) -> Response:
    with writing(db):
        users.revoke_token(db, actor, token_id)
    return Response(status_code=204)
