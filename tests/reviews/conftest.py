"""A small organisation with one analysed incident for the review and report tests: people
with a manager chain, two teams, users linked to people, roles, analysis notes, an accepted
timeline entry, action items, and an interview whose confidential notes must never leak."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import action_items, incident_roles, users
from afteraction.services import incidents as repo
from afteraction.storage.analysis_tables import (
    AnalysisNote,
    Interview,
    InterviewQuote,
    TimelineEntry,
)
from afteraction.storage.db import writing
from afteraction.storage.tables import Person, Team, TeamMembership
from tests.conftest import PASSWORD

SECRET = "SECRET-INTERVIEW-NOTE zebra walrus"
QUOTE = "I was looking at the pool graph, not the error rate"
T0 = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)


@dataclass
class Org:
    number: int
    people: dict[str, int]
    users: dict[str, int]
    teams: dict[str, int]


def _person(db: Session, name: str, manager: int | None = None, dept: str = "Engineering") -> int:
    row = Person(
        name=name,
        email=f"{name.split()[0].lower()}@example.com",
        manager_id=manager,
        department=dept,
    )
    db.add(row)
    db.flush()
    return row.id


@pytest.fixture
def org(db: Session) -> Org:
    with writing(db):
        teams = {}
        for slug in ("payments", "platform"):
            team = Team(slug=slug, name=slug.capitalize())
            db.add(team)
            db.flush()
            teams[slug] = team.id
        people: dict[str, int] = {}
        people["boss"] = _person(db, "Bea Boss")
        people["ann"] = _person(db, "Ann Responder", people["boss"])
        people["carl"] = _person(db, "Carl Commander", people["ann"])
        people["ivy"] = _person(db, "Ivy Investigator", dept="Reliability")
        people["sam"] = _person(db, "Sam Sales", dept="Sales")
        for key, team in (
            ("ann", "payments"),
            ("carl", "payments"),
            ("ivy", "platform"),
            ("sam", "platform"),
        ):
            db.add(
                TeamMembership(person_id=people[key], team_id=teams[team], start=date(2020, 1, 1))
            )
        accounts = {}
        for key, role in (
            ("ivy", "investigator"),
            ("ann", "responder"),
            ("carl", "responder"),
            ("sam", "viewer"),
            ("boss", "admin"),
        ):
            accounts[key] = users.create_user(
                db,
                SYSTEM,
                email=f"{key}@example.com",
                password=PASSWORD,
                role=role,
                person_id=people[key],
            ).id
        incident, _ = repo.declare(
            db,
            SYSTEM,
            repo.IncidentInput(
                title="Payments timeouts",
                severity="SEV1",
                summary="Card payments timed out for 40 minutes.",
                customer_impact="3% of checkouts failed.",
                teams=["payments"],
                milestones={"started": T0, "resolved": T0.replace(hour=10)},
            ),
        )
        incident_roles.assign_role(
            db, SYSTEM, incident.number, role="commander", person_id=people["carl"], start=T0
        )
        incident_roles.assign_role(
            db, SYSTEM, incident.number, role="responder", person_id=people["ann"], start=T0
        )
        for kind, text in (
            ("theme", "Connection pool limits were invisible"),
            ("theme", "Helpers joined from off call"),
            ("theme", "Dashboards disagreed"),
            ("open_question", "How did the retry storm start?"),
            ("contributing_factor", "Pool size set years ago"),
            ("risk", "Other services share the pool"),
            ("mitigator", "Quick rollback tooling"),
            ("difficulty", "Paging reached the wrong team first"),
        ):
            db.add(AnalysisNote(incident_id=incident.id, kind=kind, text=text))
        db.add(
            TimelineEntry(
                incident_id=incident.id,
                at=T0.replace(minute=20),
                kind="mitigation",
                text="Rolled back the pool change",
            )
        )
        interview = Interview(
            incident_id=incident.id,
            person_id=people["ann"],
            held_at=T0,
            consent=True,
            notes=SECRET,
            recording_url="https://rec.example/x",
        )
        db.add(interview)
        db.flush()
        db.add(InterviewQuote(interview_id=interview.id, passage=QUOTE))
        action_items.add_action_item(
            db,
            SYSTEM,
            incident.number,
            title="Alert on pool saturation",
            kind="prevention",
            owner_id=people["ann"],
            due=date(2026, 10, 1),
        )
        action_items.add_action_item(
            db, SYSTEM, incident.number, title="Restore retries", kind="recovery", status="done"
        )
        return Org(incident.number, people, accounts, teams)
