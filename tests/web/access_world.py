"""The small organisation the access matrix runs against, seeded through the services: a
user of every role (each signed in with a session and holding an API token), three
incidents (public, public with an interview, private with an interview) each with the
rows its routes name (role, impact, action item, timeline entry, annotation, review,
calibration document, meeting, report, comment), a directory, service levels, an import
job and a source.

The `make_*` functions make one row each: the matrix's `fill` uses the seeded rows for reads
and, for writes, a row made for that one request (so a delete, a role change or a revoked
token never changes what the next request finds)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM, Actor
from afteraction.services import (
    action_items,
    analysis,
    directory,
    impact,
    incident_roles,
    interviews,
    readership,
    report_publishing,
    reports,
    reviews,
    service_levels,
    sessions,
    timeline,
    users,
)
from afteraction.services import incidents as repo
from afteraction.services.imports import transcripts
from afteraction.storage import import_jobs, notifications
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import Source
from afteraction.storage.tables import User
from tests.conftest import login

T0 = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Rex Responder>Rolling back the pool change\n"
_unique = itertools.count(1)

ROLES = ("viewer", "responder", "investigator-on", "investigator-off", "reader", "admin")
"""Every signed-in principal: role, except investigators with and without the incident role
and `reader`, a viewer named as a reader of the interviews."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who sends a request: `who` is one of ROLES (None for anonymous); `via` says how."""

    who: str | None
    via: str | None  # "session", "token" or None
    role: str | None = None
    user_id: int | None = None

    @property
    def name(self) -> str:
        return "anonymous" if self.who is None else f"{self.who}/{self.via}"


@dataclass(slots=True)
class IncidentObject:
    """One seeded incident and the rows hanging off it."""

    name: str
    number: int
    private: bool
    published: bool
    interview_id: int | None = None
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"INC-{self.number}"


@dataclass(slots=True)
class World:
    people: dict[str, int]
    users: dict[str, int]
    tokens: dict[str, str]
    incidents: list[IncidentObject]
    ids: dict[str, Any]
    principals: list[Principal] = field(default_factory=list)

    def actor(self, db: Session, who: str) -> Actor:
        user = db.get(User, self.users[who])
        assert user is not None
        return users.actor_for(user)


def _user(db: Session, who: str, role: str, person_id: int | None) -> int:
    return users.create_user(
        db, SYSTEM, email=f"{who}@example.com", password=PASSWORD, role=role, person_id=person_id
    ).id


PASSWORD = "correct horse battery"


def seed(db: Session, tmp: Path) -> World:
    """Everything the matrix's routes name, written through the services."""
    with writing(db):
        directory.create_team(db, SYSTEM, name="Payments")
        directory.create_service(db, SYSTEM, name="Checkout", team_slug="payments")
        directory.create_problem(db, SYSTEM, title="Flaky failover", key="failover")
        people = {
            key: directory.create_person(
                db, SYSTEM, directory.PersonInput(name=name, email=f"{key}@people.example")
            ).id
            for key, name in (
                ("ivy", "Ivy Investigator"),
                ("rex", "Rex Responder"),
                ("sue", "Sue Subject"),
                ("pat", "Pat Spare"),
            )
        }
        accounts = {
            "viewer": _user(db, "viewer", "viewer", None),
            "responder": _user(db, "responder", "responder", people["rex"]),
            "investigator-on": _user(db, "investigator-on", "investigator", people["ivy"]),
            "investigator-off": _user(db, "investigator-off", "investigator", None),
            "reader": _user(db, "reader", "viewer", None),
            "admin": _user(db, "admin", "admin", None),
        }
        tokens = {
            who: users.issue_token(db, SYSTEM, user_id=uid, name="matrix").secret
            for who, uid in accounts.items()
        }
    made = [
        _incident(db, "public", private=False, published=False),
        _incident(db, "public+interview", private=False, published=True),
        _incident(db, "private+interview", private=True, published=True),
    ]
    with writing(db):
        for row in made:
            incident_roles.assign_role(
                db, SYSTEM, row.number, role="investigator", person_id=people["ivy"], start=T0
            )
        incident_roles.assign_role(
            db, SYSTEM, made[1].number, role="commander", person_id=people["rex"], start=T0
        )
    world = World(people, accounts, tokens, made, {})
    for row in made:
        _rows_of(db, world, row)
        if row.name.endswith("interview"):
            _interview(db, world, row)
    _globals(db, world, tmp)
    return world


def _incident(db: Session, name: str, *, private: bool, published: bool) -> IncidentObject:
    with writing(db):
        incident, _ = repo.declare(
            db,
            SYSTEM,
            repo.IncidentInput(
                title=f"Checkout outage ({name})",
                severity="SEV2",
                private=private,
                services=["checkout"],
                teams=["payments"],
                problem="failover",
                milestones={"started": T0, "resolved": T0 + timedelta(hours=1)},
            ),
        )
        return IncidentObject(name, incident.number, private, published)


def _rows_of(db: Session, world: World, row: IncidentObject) -> None:
    number, ids = row.number, row.ids
    with writing(db):
        ids["role_id"] = make_role(db, world, row)
        ids["impact_id"] = make_impact(db, world, row)
        ids["item_id"] = make_item(db, world, row)
        ids["entry_id"] = make_entry(db, world, row)
        ids["annotation_id"] = make_annotation(db, world, row)
        analysis.add_note(db, SYSTEM, number, kind="theme", text="Pool limits were invisible")
        analysis.add_note(db, SYSTEM, number, kind="theme", text="Dashboards disagreed")
        reports.create_report(db, SYSTEM, number)
        ids["doc_id"] = reviews.generate_calibration(db, SYSTEM, number).id
        ids["meeting_id"] = reviews.plan_meeting(db, SYSTEM, number).id
    if row.published:
        with writing(db):
            report_publishing.change_state(db, SYSTEM, number, "in review")
        with writing(db):
            report_publishing.change_state(db, SYSTEM, number, "published", confirmed=True)
    with writing(db):
        incident = repo.get_incident(db, SYSTEM, number)
        report = reports.report_of(db, incident)
        assert report is not None
        admin = world.actor(db, "admin")
        ids["comment_id"] = readership.add_comment(
            db, admin, report, section="summary", body="Clear write-up"
        ).id


def _interview(db: Session, world: World, row: IncidentObject) -> None:
    """Planned and run by the incident's investigator, who names `reader` as a reader."""
    with writing(db):
        interviewer = world.actor(db, "investigator-on")
        made = interviews.plan_interview(
            db, interviewer, row.number, person_id=world.people["sue"], scheduled_at=T0
        )
        interviews.update_interview(
            db, interviewer, row.number, made.id, notes="Confidential notes", consent=True
        )
        interviews.name_reader(db, interviewer, row.number, made.id, "reader@example.com")
        row.interview_id = made.id


def _globals(db: Session, world: World, tmp: Path) -> None:
    vtt = tmp / "meeting.vtt"
    vtt.write_text(VTT)
    with writing(db):
        summary = transcripts.import_transcript(
            db, SYSTEM, vtt, incident=world.incidents[0].key, recording_start=T0
        )
        world.ids["source_id"] = summary.source_id
        world.ids["slo_id"] = make_slo(db, world)
        world.ids["sla_id"] = make_sla(db, world)
    world.ids["job_id"] = make_job(db, world)


# -- rows made for one request -------------------------------------------------------------


def make_role(db: Session, world: World, row: IncidentObject) -> int:
    made = incident_roles.assign_role(
        db, SYSTEM, row.number, role="scribe", person_id=world.people["pat"], start=T0
    )
    return int(made.id)


def make_impact(db: Session, _world: World, row: IncidentObject) -> int:
    made = impact.add_impact(db, SYSTEM, row.number, start=T0, end=T0 + timedelta(minutes=5))
    return made.id


def make_item(db: Session, _world: World, row: IncidentObject) -> int:
    return action_items.add_action_item(db, SYSTEM, row.number, title="Alert on pool use").id


def make_entry(db: Session, _world: World, row: IncidentObject) -> int:
    return timeline.create_entry(db, SYSTEM, row.number, at=T0, text="Rolled back").id


def make_annotation(db: Session, _world: World, row: IncidentObject) -> int:
    made = analysis.annotate(
        db, SYSTEM, row.number, start_at=T0, end_at=T0 + timedelta(minutes=2), note="Look here"
    )
    return int(made.annotation.id)


def make_slo(db: Session, _world: World) -> int:
    data = service_levels.SLOInput(
        service="checkout", name=f"Avail {next(_unique)}", objective=0.99
    )
    return service_levels.create_slo(db, SYSTEM, data).id


def make_sla(db: Session, _world: World) -> int:
    data = service_levels.SLAInput(
        name=f"Resolve {next(_unique)}", milestone="resolved", within_seconds=3600
    )
    return service_levels.create_sla(db, SYSTEM, data).id


def make_job(db: Session, world: World) -> int:
    """An import waiting in preview, queued by the responder."""
    job = import_jobs.create_job(
        db,
        kind="transcript",
        path="",
        filename="meeting.vtt",
        options={},
        created_by="responder@example.com",
        created_by_user_id=world.users["responder"],
        status="preview",
    )
    return job.id


def make_source(db: Session, world: World, row: IncidentObject | None) -> int:
    """A source attached to no incident (None) or to `row`."""
    incident_id = repo.get_incident(db, SYSTEM, row.number).id if row is not None else None
    source = Source(
        kind="roster",
        origin=f"roster-{next(_unique)}.csv",
        checksum="matrix",
        incident_id=incident_id,
    )
    db.add(source)
    db.flush()
    return source.id


def make_person(db: Session, _world: World) -> int:
    name = f"Temp Person {next(_unique)}"
    return directory.create_person(db, SYSTEM, directory.PersonInput(name=name)).id


def make_team(db: Session, _world: World) -> str:
    return directory.create_team(db, SYSTEM, name=f"Temp team {next(_unique)}").slug


def make_service(db: Session, _world: World) -> str:
    return directory.create_service(db, SYSTEM, name=f"Temp service {next(_unique)}").slug


def make_problem(db: Session, _world: World) -> str:
    return directory.create_problem(db, SYSTEM, title=f"Temp problem {next(_unique)}").key


def make_user(db: Session, _world: World) -> int:
    number = next(_unique)
    return _user(db, f"temp-{number}", "viewer", None)


def make_token(db: Session, user_id: int) -> int:
    return users.issue_token(db, SYSTEM, user_id=user_id, name="spare").token.id


def make_session(db: Session, user_id: int) -> str:
    user = db.get(User, user_id)
    assert user is not None
    secret = sessions.start(db, user, now=datetime.now(UTC))
    return sessions.session_id(secret)


def make_subscription(db: Session, user_id: int) -> int:
    incident = repo.get_incident(db, SYSTEM, 1)
    return notifications.subscribe(db, user_id, incident_id=incident.id).id


# -- principals ----------------------------------------------------------------------------


def principals(world: World) -> list[Principal]:
    found = [Principal(None, None)]
    for who in ROLES:
        role = "viewer" if who == "reader" else who.split("-")[0]
        for via in ("session", "token"):
            found.append(Principal(who, via, role, world.users[who]))
    return found


def client_for(app: Any, world: World, principal: Principal) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    if principal.via == "session":
        login(client, f"{principal.who}@example.com", PASSWORD)
    elif principal.via == "token":
        client.headers["Authorization"] = f"Bearer {world.tokens[str(principal.who)]}"
    return client
