"""Incidents worked while not on call, from the database: a person's first involvement is
the People tab's (`core.analysis.involvement`): here their first role on the incident or
their first message in a channel attached to it (inside the attachment's window; a bot's
post is nobody's involvement), whichever came first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.core.metrics import InsightFilters
from afteraction.services import incident_roles
from afteraction.services import incidents as repo
from afteraction.services import insights as ins
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import (
    Channel,
    IncidentChannel,
    Message,
    OnCallShift,
    Source,
)
from afteraction.storage.tables import Incident, Person

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def _incident(db: Session, title: str, hours: int) -> Incident:
    started = {"started": T0 + timedelta(hours=hours)}
    row, _ = repo.declare(db, SYSTEM, repo.IncidentInput(title, "SEV2", milestones=started))
    return row


def test_first_message_in_an_attached_channel_counts_as_involvement(db: Session) -> None:
    with writing(db):
        ana, bob = Person(name="Ana", time_zone="UTC"), Person(name="Bob", time_zone="UTC")
        source = Source(kind="pagerduty", origin="test", checksum="s")
        db.add_all([ana, bob, source])
        db.flush()
        db.add_all([  # Ana is on call for the first 8 hours; Bob's shift spans the day
            OnCallShift(source_id=source.id, schedule="primary", person_external="PA",
                        person_id=ana.id, start=T0, end=T0 + timedelta(hours=8)),
            OnCallShift(source_id=source.id, schedule="secondary", person_external="PB",
                        person_id=bob.id, start=T0, end=T0 + timedelta(hours=24)),
        ])  # fmt: skip
        on_call = _incident(db, "queue backlog", 2)
        off_call = _incident(db, "cache stampede", 10)
        outside = _incident(db, "dns flap", 12)
        incident_roles.assign_role(
            db, SYSTEM, on_call.public_id, role="responder", person_id=ana.id,
            start=T0 + timedelta(hours=2),
        )  # fmt: skip
        chat = Channel(external_id="C1", name="inc-cache")
        other = Channel(external_id="C2", name="inc-dns")
        db.add_all([chat, other])
        db.flush()
        db.add_all([
            IncidentChannel(incident_id=off_call.id, channel_id=chat.id),
            IncidentChannel(incident_id=outside.id, channel_id=other.id,
                            until=T0 + timedelta(hours=12)),
        ])  # fmt: skip
        for n, (channel, hours, bot) in enumerate(
            ((chat, 10.5, False), (chat, 11, False), (other, 13, False), (chat, 9, True))
        ):
            db.add(Message(channel_id=channel.id, source_id=source.id, ts=f"{n}.0",
                           at=T0 + timedelta(hours=hours), text_plain="on it",
                           author_person_id=None if bot else ana.id,
                           author_external="B0DEPLOY" if bot else None, is_bot=bot))  # fmt: skip
    report = ins.oncall(db, SYSTEM, InsightFilters(since=T0, until=T0 + timedelta(days=1)))
    work = report.people[str(ana.id)].off_call
    assert work.on_call == (on_call.public_id,)
    # the cache stampede: first message at 10:30, outside her shift (the bot post at 09:00
    # does not count); the dns flap: her message came after the attachment's window
    assert work.off_call == (off_call.public_id,)
    assert work.unknown == ()
