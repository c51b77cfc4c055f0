"""Search on the migrated database (SQLite FTS5 or PostgreSQL full text): incidents,
messages and action items, with privacy; and similar incidents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM, Actor
from afteraction.core.errors import ValidationError
from afteraction.services import incidents as repo
from afteraction.services import search
from afteraction.storage import search as search_queries
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import Channel, IncidentChannel, Message, Source
from afteraction.storage.search import fts5_query
from afteraction.storage.tables import Incident, Service

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
VIEWER = Actor(user_id=None, label="viewer", role="viewer")
INVESTIGATOR = Actor(user_id=None, label="investigator", role="investigator")


def incident(db: Session, title: str, *, private: bool = False, summary: str = "",
             services: tuple[str, ...] = ("ledger",), days: int = 0) -> Incident:  # fmt: skip
    with writing(db):
        row, _ = repo.declare(db, SYSTEM, repo.IncidentInput(
            title=title, severity="SEV2", summary=summary, private=private, services=services,
            milestones={"started": T0 + timedelta(days=days)}))  # fmt: skip
        return row


def channel(db: Session, name: str, texts: list[str], attach_to: Incident | None) -> None:
    with writing(db):
        source = Source(kind="slack_export", origin="test", checksum=name)
        chan = Channel(external_id=name, name=name)
        db.add_all([source, chan])
        db.flush()
        for i, body in enumerate(texts):
            db.add(Message(channel_id=chan.id, source_id=source.id, ts=f"{i}.0",
                           at=T0 + timedelta(minutes=i), text_plain=body, author_name="ana"))  # fmt: skip  # noqa: E501
        if attach_to is not None:
            db.add(IncidentChannel(incident_id=attach_to.id, channel_id=chan.id))


@pytest.fixture
def world(db: Session) -> dict[str, Incident]:
    with writing(db):
        db.add(Service(slug="ledger", name="Ledger"))
    public = incident(db, "Ledger connection pool exhausted", summary="pool exhausted at peak")
    secret = incident(db, "Ledger credentials leaked", private=True)
    channel(db, "inc-public", ["the pool is exhausted again", "restarted ledger"], public)
    channel(db, "inc-secret", ["rotating leaked credentials for the pool"], secret)
    channel(db, "archive", ["old chatter about the pool"], None)
    return {"public": public, "secret": secret}


def test_messages_respect_privacy_and_archive_rule(db: Session, world: dict) -> None:
    viewer = search.search(db, VIEWER, "pool")
    assert {h.snippet for h in viewer.by_kind["messages"]} == {"the pool is exhausted again"}
    assert viewer.by_kind["messages"][0].url == f"/incidents/{world['public'].public_id}"
    investigator = search.search(db, INVESTIGATOR, "pool")
    assert len(investigator.by_kind["messages"]) == 2  # public + archive, never the private
    admin = search.search(db, SYSTEM, "pool")
    assert len(admin.by_kind["messages"]) == 3


def test_incidents_need_every_word_and_hide_private(db: Session, world: dict) -> None:
    found = search.search(db, VIEWER, "ledger exhausted", kinds=["incidents"])
    assert [h.key for h in found.hits] == [world["public"].public_id]
    assert search.search(db, VIEWER, "credentials", kinds=["incidents"]).hits == []
    assert search.search(db, SYSTEM, "credentials", kinds=["incidents"]).hits


def test_search_input_is_checked_and_operators_are_inert(db: Session, world: dict) -> None:
    with pytest.raises(ValidationError):
        search.search(db, VIEWER, "  ?! ")
    with pytest.raises(ValidationError):
        search.search(db, VIEWER, "pool", kinds=["nope"])
    assert search.search(db, SYSTEM, 'pool" OR "x* NEAR(').by_kind["messages"] == []
    assert fts5_query(['a"b']) == '"a""b"'


def test_similar_incidents_rank_shared_words_and_hide_private(db: Session, world: dict) -> None:
    later = incident(db, "Ledger pool exhausted during batch", days=3)
    incident(db, "Ledger pool secret twin", private=True, days=1)
    found = search.similar_incidents(db, VIEWER, later)
    assert [s.public_id for s in found] == [world["public"].public_id]
    assert "exhausted" in found[0].shared or "pool" in found[0].shared


def test_only_the_newest_visible_matches_are_scored(
    db: Session, world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel(db, "inc-more", ["pool pool pool pool", "pool", "the pool"], world["public"])
    everything = search.search(db, VIEWER, "pool", kinds=["messages"])
    assert everything.hits[0].snippet == "pool pool pool pool"  # best bm25 / ts_rank first
    monkeypatch.setattr(search_queries, "SEARCH_CANDIDATES", 2)
    capped = search.search(db, VIEWER, "pool", kinds=["messages"])
    # the two newest visible matches only (the private channel's message is never one)
    assert sorted(h.snippet for h in capped.hits) == ["pool", "the pool"]
    assert capped.hits[0].score >= capped.hits[1].score


def test_messages_follow_the_window_each_incident_attached(db: Session) -> None:
    """One channel, attached to a public incident for its first hour and to a private one
    for its second: search shows what each incident's transcript shows, to whom it may."""
    public = incident(db, "Queue backlog", services=())
    secret = incident(db, "Payroll export leaked", private=True, services=())
    with writing(db):
        source = Source(kind="slack_export", origin="test", checksum="windows")
        chan = Channel(external_id="C-shared", name="ops")
        db.add_all([source, chan])
        db.flush()
        texts = {0: "canary public window", 70: "canary private window", 200: "canary after both"}
        for minutes, body in texts.items():
            db.add(Message(channel_id=chan.id, source_id=source.id, ts=f"{minutes}.0",
                           at=T0 + timedelta(minutes=minutes), text_plain=body))  # fmt: skip
        hour = timedelta(hours=1)
        db.add(
            IncidentChannel(incident_id=public.id, channel_id=chan.id, since=T0, until=T0 + hour)
        )
        db.add(IncidentChannel(incident_id=secret.id, channel_id=chan.id, since=T0 + hour,
                               until=T0 + 2 * hour))  # fmt: skip

    def found(actor: Actor) -> dict[str, str | None]:
        hits = search.search(db, actor, "canary", kinds=["messages"]).hits
        return {h.snippet: h.url for h in hits}

    assert found(VIEWER) == {"canary public window": f"/incidents/{public.public_id}"}
    assert found(INVESTIGATOR) == {
        "canary public window": f"/incidents/{public.public_id}",
        "canary after both": None,  # held by no window: the archive rule
    }
    assert found(SYSTEM) == {
        "canary public window": f"/incidents/{public.public_id}",
        "canary private window": f"/incidents/{secret.public_id}",
        "canary after both": None,
    }
