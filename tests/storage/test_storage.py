"""Storage on a real migrated database (SQLite file, or PostgreSQL in CI)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM, Actor
from afteraction.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from afteraction.services import action_items, directory, directory_reads, incident_roles, users
from afteraction.services import incidents as repo
from afteraction.storage import incident_lists
from afteraction.storage.db import (
    make_session_factory,
    managed_by_migrations_only,
    normalise_url,
    writing,
)
from afteraction.storage.models import Base
from afteraction.storage.tables import AuditLog, Incident, MilestoneEdit

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def declare(db: Session, title: str = "db down", **kwargs: object) -> Incident:
    with writing(db):
        incident, _ = repo.declare(
            db, SYSTEM, repo.IncidentInput(title=title, severity="SEV2", **kwargs)
        )  # type: ignore[arg-type]
    return incident


def test_migrations_match_the_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": managed_by_migrations_only}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_times_round_trip_as_utc(db: Session) -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    declare(db, milestones={"started": datetime(2026, 3, 1, 15, 30, tzinfo=ist)})
    db.expire_all()
    stored = db.scalar(select(Incident.started_at))
    assert stored == T0 and stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


def test_declare_writes_audit_and_numbers(db: Session) -> None:
    first, second = declare(db), declare(db, "second")
    assert (first.number, second.number) == (1, 2)
    actions = db.scalars(select(AuditLog.action).where(AuditLog.incident_id == first.id)).all()
    assert actions == ["incident.declared"]


def test_failed_write_leaves_nothing(db: Session) -> None:
    with pytest.raises(ValidationError), writing(db):
        repo.declare(db, SYSTEM, repo.IncidentInput(title="x", severity="SEV2"))
        repo.declare(db, SYSTEM, repo.IncidentInput(title="y", severity="SEV9"))
    assert db.scalar(select(func.count()).select_from(Incident)) == 0
    assert db.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_concurrent_declarations_get_distinct_numbers(engine: Engine, db: Session) -> None:
    factory = make_session_factory(engine)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        with factory() as session:
            try:
                for i in range(5):
                    with writing(session):
                        repo.declare(
                            session, SYSTEM, repo.IncidentInput(title=f"{n}-{i}", severity="SEV3")
                        )
            except BaseException as error:
                errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = db.scalars(select(Incident.number).order_by(Incident.number)).all()
    assert numbers == list(range(1, 21))


def test_explicit_duplicate_number_is_a_conflict(db: Session) -> None:
    declare(db, number=7)
    with pytest.raises(Conflict):
        declare(db, number=7)


def test_milestone_history_and_status(db: Session) -> None:
    declare(db, milestones={"started": T0})
    with writing(db):
        repo.change_status(db, SYSTEM, "INC-1", "investigating", at=T0 + timedelta(minutes=3))
        repo.change_status(db, SYSTEM, "INC-1", "resolved", at=T0 + timedelta(hours=1))
        repo.set_milestones(
            db, SYSTEM, "INC-1", {"detected": T0 + timedelta(minutes=1)}, reason="from alert"
        )
    incident = repo.get_incident(db, SYSTEM, 1)
    assert incident.mitigated_at == incident.resolved_at == T0 + timedelta(hours=1)
    edits = [(e.milestone, e.reason) for e in repo.milestone_history(db, incident)]
    assert ("acknowledged", "status investigating") in edits
    assert ("detected", "from alert") in edits
    with pytest.raises(ValidationError), writing(db):
        repo.change_status(db, SYSTEM, 1, "closed", at=T0 - timedelta(days=1))
    assert db.scalar(select(func.count()).select_from(MilestoneEdit)) == len(edits)


def test_roles_single_holder_handover(db: Session) -> None:
    declare(db)
    with writing(db):
        ada = directory.create_person(
            db, SYSTEM, directory.PersonInput(name="Ada", email="ada@x.io")
        )
        bob = directory.create_person(
            db, SYSTEM, directory.PersonInput(name="Bob", email="bob@x.io")
        )
        incident_roles.assign_role(db, SYSTEM, 1, role="Commander", person_id=ada.id, start=T0)
        incident_roles.assign_role(
            db, SYSTEM, 1, role="commander", person_id=bob.id, start=T0 + timedelta(minutes=30)
        )
        incident_roles.assign_role(db, SYSTEM, 1, role="responder", person_id=ada.id, start=T0)
    roles = incident_roles.roles_of(db, repo.get_incident(db, SYSTEM, 1))
    commanders = [(r.person.name, r.end) for r in roles if r.role == "commander"]
    assert commanders == [("Ada", T0 + timedelta(minutes=30)), ("Bob", None)]
    with pytest.raises(ValidationError), writing(db):
        incident_roles.assign_role(db, SYSTEM, 1, role="scribe", person_id=999)
    with pytest.raises(ValidationError), writing(db):
        incident_roles.end_role(db, SYSTEM, 1, roles[0].id, end=T0 - timedelta(hours=1))


def test_action_items_references_updates(db: Session) -> None:
    declare(db)
    with writing(db):
        item = action_items.add_action_item(
            db,
            SYSTEM,
            1,
            title="Add canary",
            kind="prevention",
            due=date(2026, 4, 1),
            url="https://jira.example.com/PAY-1",
        )
        action_items.update_action_item(db, SYSTEM, item.id, {"status": "done"})
        action_items.add_reference(
            db, SYSTEM, 1, url="https://github.com/o/r/pull/1", kind="github pr"
        )
        again = action_items.add_reference(db, SYSTEM, 1, url="https://github.com/o/r/pull/1")
        repo.post_update(db, SYSTEM, 1, body="Mitigated by rollback")
    incident = repo.get_incident(db, SYSTEM, 1)
    [stored] = action_items.action_items_of(db, incident)
    assert stored.status == "done" and stored.completed_at is not None
    assert len(action_items.references_of(db, incident)) == 1 and again.kind == "github pr"
    assert repo.updates_of(db, incident)[0].body == "Mitigated by rollback"
    for bad in ({"kind": "blame"}, {"url": "javascript:alert(1)"}, {"title": ""}):
        with pytest.raises(ValidationError), writing(db):
            action_items.add_action_item(db, SYSTEM, 1, **({"title": "t"} | bad))  # type: ignore[arg-type]
    with pytest.raises(NotFound), writing(db):
        action_items.update_action_item(db, SYSTEM, 999, {"status": "done"})


def test_private_visibility(db: Session) -> None:
    with writing(db):
        person = directory.create_person(db, SYSTEM, directory.PersonInput(name="Cy"))
    declare(db, "secret", private=True)
    viewer = Actor(user_id=None, label="v", role="viewer")
    holder = Actor(user_id=None, label="c", role="responder", person_id=person.id)
    assert incident_lists.list_summaries(db, viewer, incident_lists.IncidentFilters())[1] == 0
    with pytest.raises(NotFound):
        repo.get_incident(db, holder, 1)
    with writing(db):
        incident_roles.assign_role(db, SYSTEM, 1, role="responder", person_id=person.id)
    assert repo.get_incident(db, holder, 1).title == "secret"
    with pytest.raises(PermissionDenied), writing(db):
        repo.post_update(db, viewer, 1, body="hi")


def test_directory(db: Session) -> None:
    with writing(db):
        directory.create_team(db, SYSTEM, name="Payments Core")
        directory.create_service(db, SYSTEM, name="Checkout API", team_slug="payments-core", tier=1)
        person = directory.create_person(
            db,
            SYSTEM,
            directory.PersonInput(name="Dee", email="Dee@Example.com", time_zone="Europe/Berlin"),
        )
        directory.add_membership(
            db,
            SYSTEM,
            person_id=person.id,
            team_slug="payments-core",
            start=date(2025, 1, 1),
            end=date(2026, 1, 1),
        )
        directory.create_problem(db, SYSTEM, title="Connection pool exhaustion")
    assert person.email == "dee@example.com"
    assert directory.current_team(person, date(2025, 6, 1)).slug == "payments-core"
    assert directory.current_team(person, date(2026, 6, 1)) is None
    assert directory_reads.problems_with_counts(db, SYSTEM)[0][1] == 0
    assert directory.list_services(db)[0].team.slug == "payments-core"
    bad_inputs = [
        lambda: directory.create_team(db, SYSTEM, name="Payments Core"),
        lambda: directory.create_person(
            db, SYSTEM, directory.PersonInput(name="X", time_zone="Mars/Base")
        ),
        lambda: directory.create_person(db, SYSTEM, directory.PersonInput(name="Y", email="nope")),
        lambda: directory.create_service(db, SYSTEM, name="Z", tier=9),
        lambda: directory.create_service(db, SYSTEM, name="Z", team_slug="ghosts"),
    ]
    for bad in bad_inputs:
        with pytest.raises((ValidationError, Conflict, NotFound)), writing(db):
            bad()


def test_users_and_tokens(db: Session) -> None:
    with writing(db):
        user = users.create_user(
            db, SYSTEM, email="Ops@Example.com", password="long enough pw", role="responder"
        )
        issued = users.issue_token(db, users.actor_for(user), user_id=user.id, name="ci")
    assert users.authenticate(db, "ops@example.com", "long enough pw") is not None
    assert users.authenticate(db, "ops@example.com", "wrong password") is None
    assert users.authenticate(db, "ghost@example.com", "whatever") is None
    assert users.user_for_token(db, issued.secret).id == user.id
    assert issued.secret not in {t.token_hash for t in users.list_tokens(db, user.id)}
    with writing(db):
        users.revoke_token(db, users.actor_for(user), issued.token.id)
    assert users.user_for_token(db, issued.secret) is None
    with pytest.raises(PermissionDenied), writing(db):
        users.create_user(
            db, users.actor_for(user), email="x@y.z", password="long enough pw", role="admin"
        )
    with pytest.raises(Conflict), writing(db):
        users.create_user(
            db, SYSTEM, email="ops@example.com", password="long enough pw", role="viewer"
        )


def test_url_normalisation() -> None:
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
