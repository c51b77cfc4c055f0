"""A small hand-made incident for the analysis workspace tests: two teams, four people
(one without a time zone or roster data), a Slack channel with a thread, a join with an
inviter, a hidden message and a bot post, PagerDuty pages and an on-call shift, and a
second incident whose message must never be annotatable from the first.

Rows are inserted directly (the importers have their own tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import incident_roles
from afteraction.services import incidents as repo
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import (
    Channel,
    ExternalIncident,
    IncidentChannel,
    Message,
    OnCallShift,
    Page,
    Source,
    TranscriptCue,
)
from afteraction.storage.tables import (
    Identity,
    Person,
    Service,
    Team,
    TeamMembership,
)

T0 = datetime(2026, 10, 21, 1, 50, tzinfo=UTC)


@dataclass
class Built:
    incident: int
    other_incident: int
    people: dict[str, int]
    messages: dict[str, int]
    other_message: int
    page_ids: list[int]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def build(db: Session, *, private: bool = False) -> Built:
    with writing(db):
        payments = Team(slug="payments", name="Payments")
        platform = Team(slug="platform", name="Platform")
        db.add_all([payments, platform])
        db.flush()
        db.add(Service(slug="checkout", name="Checkout", team_id=payments.id))
        people = {
            "ana": Person(
                name="Ana Ortiz",
                email="ana@example.com",
                time_zone="Europe/Madrid",
                title="SRE",
                start_date=date(2020, 1, 6),
            ),
            "ben": Person(
                name="Ben Cho",
                email="ben@example.com",
                time_zone="America/New_York",
                title="Engineer",
                start_date=date(2026, 8, 1),
            ),
            "cy": Person(
                name="Cy Dale",
                email="cy@example.com",
                time_zone="Asia/Tokyo",
                title="Staff engineer",
                start_date=date(2018, 3, 1),
            ),
            "dee": Person(name="Dee Unknown", email="dee@example.com"),
        }
        db.add_all(people.values())
        db.flush()
        ids = {k: p.id for k, p in people.items()}
        for key, ext in (("ana", "UANA"), ("ben", "UBEN"), ("cy", "UCY"), ("dee", "UDEE")):
            db.add(Identity(person_id=ids[key], system="slack", external_id=ext))
        db.add(Identity(person_id=ids["ana"], system="pagerduty", external_id="PANA"))
        db.add(TeamMembership(person_id=ids["ana"], team_id=payments.id, start=date(2020, 1, 6)))
        db.add(TeamMembership(person_id=ids["ben"], team_id=payments.id, start=date(2026, 8, 1)))
        db.add(
            TeamMembership(
                person_id=ids["cy"],
                team_id=payments.id,
                start=date(2018, 3, 1),
                end=date(2025, 6, 1),
            )
        )
        db.add(TeamMembership(person_id=ids["cy"], team_id=platform.id, start=date(2025, 6, 1)))
    with writing(db):
        incident, _ = repo.declare(
            db,
            SYSTEM,
            repo.IncidentInput(
                title="Checkout timeouts",
                severity="SEV2",
                services=["checkout"],
                private=private,
                milestones={"started": at(0)},
            ),
        )
        other, _ = repo.declare(db, SYSTEM, repo.IncidentInput(title="Other", severity="SEV4"))
        incident_roles.assign_role(
            db, SYSTEM, incident.number, role="commander", person_id=ids["ana"], start=at(5)
        )
        source = Source(kind="slack_export", origin="test", checksum="x")
        db.add(source)
        db.flush()
        channel = Channel(external_id="C1", name="inc-checkout")
        elsewhere = Channel(external_id="C2", name="random")
        db.add_all([channel, elsewhere])
        db.flush()
        db.add(IncidentChannel(incident_id=incident.id, channel_id=channel.id))
        db.add(IncidentChannel(incident_id=other.id, channel_id=elsewhere.id))
        rows = {
            "alert": {
                "ts": "1.0",
                "at": at(0),
                "author_external": "B1",
                "author_name": "alertbot",
                "is_bot": True,
                "text_raw": "ALERT checkout p99 > 2s",
            },
            "ana1": {
                "ts": "2.0",
                "at": at(4),
                "author_person_id": ids["ana"],
                "author_external": "UANA",
                "author_name": "Ana Ortiz",
                "text_raw": "Looking at checkout latency, <@UBEN> can you check the deploy?",
                "mentions": ["UBEN"],
                "thread_ts": "2.0",
            },
            "ben_join": {
                "ts": "3.0",
                "at": at(6),
                "author_person_id": ids["ben"],
                "author_external": "UBEN",
                "author_name": "Ben Cho",
                "subtype": "channel_join",
                "inviter_external": "UANA",
                "text_raw": "<@UBEN> has joined the channel",
            },
            "ben1": {
                "ts": "4.0",
                "at": at(8),
                "author_person_id": ids["ben"],
                "author_external": "UBEN",
                "author_name": "Ben Cho",
                "text_raw": "Deploy 4411 went out at 01:40, rolling back now",
                "thread_ts": "2.0",
            },
            "cy1": {
                "ts": "5.0",
                "at": at(20),
                "author_person_id": ids["cy"],
                "author_external": "UCY",
                "author_name": "Cy Dale",
                "text_raw": "The pool size change is mine; *mitigated* after rollback",
                "reactions": [{"name": "eyes", "count": 1, "users": ["UANA"]}],
            },
            "hidden": {
                "ts": "6.0",
                "at": at(22),
                "author_person_id": ids["dee"],
                "author_external": "UDEE",
                "author_name": "Dee Unknown",
                "text_raw": "",
                "hidden": True,
                "subtype": "tombstone",
            },
            "dee1": {
                "ts": "7.0",
                "at": at(30),
                "author_person_id": ids["dee"],
                "author_external": "UDEE",
                "author_name": "Dee Unknown",
                "text_raw": "Customers can pay again <script>alert(1)</script>",
            },
        }
        messages = {}
        for key, values in rows.items():
            row = Message(
                channel_id=channel.id,
                source_id=source.id,
                text_plain=values.get("text_raw", ""),
                **values,
            )
            db.add(row)
            db.flush()
            messages[key] = row.id
        foreign = Message(
            channel_id=elsewhere.id,
            source_id=source.id,
            ts="9.0",
            at=at(10),
            author_name="x",
            text_raw="elsewhere",
            text_plain="elsewhere",
        )
        db.add(foreign)
        db.add(ExternalIncident(incident_id=incident.id, system="pagerduty", external_id="PD1"))
        pages = [
            Page(
                source_id=source.id,
                external_id="L1",
                external_incident_id="PD1",
                incident_id=incident.id,
                kind="notify",
                at=at(1),
                person_id=ids["ana"],
                escalation_level=1,
                method="phone",
            ),
            Page(
                source_id=source.id,
                external_id="L2",
                external_incident_id="PD1",
                incident_id=incident.id,
                kind="acknowledge",
                at=at(3),
                person_id=ids["ana"],
            ),
        ]
        db.add_all(pages)
        db.add(
            OnCallShift(
                source_id=source.id,
                schedule="payments-primary",
                person_external="PANA",
                person_id=ids["ana"],
                start=at(-600),
                end=at(600),
                escalation_level=1,
            )
        )
        db.add(
            TranscriptCue(
                source_id=source.id,
                incident_id=incident.id,
                seq=0,
                start_seconds=0,
                end_seconds=2,
                at=at(40),
                speaker="Ana Ortiz",
                text="Review meeting opened",
            )
        )
        db.flush()
        return Built(
            incident.number, other.number, ids, messages, foreign.id, [p.id for p in pages]
        )
