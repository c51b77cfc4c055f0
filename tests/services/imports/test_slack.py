"""Slack import: the real exports, idempotency, overlapping exports and edits, incident
attachment and window, references, people matching, hostile input leaving the database
unchanged, and removing a source with exactly what it brought."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.core.errors import ImportFailed, NotFound
from afteraction.services import directory
from afteraction.services import incidents as repo
from afteraction.services.imports.slack import import_slack_export, incident_window
from afteraction.services.imports.sources import remove_source
from afteraction.storage import bound_rows
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import Channel, IncidentChannel, Message, Source
from afteraction.storage.tables import Identity, Person, Reference
from tests.services.imports._helpers import (
    count,
    row_counts,
    shared_fixture,
    slack_message,
    slack_ts,
)

HFARAN = "slack/slack-export-viewer/tests/testarchive_zip_contents"
SLACKDUMP = "slack/slackdump/internal/fixtures/assets/source_export_dir"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _import(db: Session, path: Path, **options: Any):  # type: ignore[no-untyped-def]
    with writing(db):
        return import_slack_export(db, SYSTEM, path, **options)


_ts, _msg = slack_ts, slack_message


USERS = [
    {"id": "U1", "name": "ada", "real_name": "Ada Lovelace",
     "profile": {"real_name": "Ada Lovelace", "email": "ada@example.com", "title": "SRE"},
     "tz": "Europe/London"},
    {"id": "U2", "name": "grace", "real_name": "Grace Hopper",
     "profile": {"real_name": "Grace Hopper", "display_name": "grace"}},
    {"id": "U3", "name": "linus", "real_name": "Linus T",
     "profile": {"real_name": "Linus T", "email": "linus@example.com"}},
]  # fmt: skip
CHANNELS = [
    {"id": "C1", "name": "inc-db", "created": 1700000000,
     "topic": {"value": ""}, "purpose": {"value": "database incident"}},
    {"id": "C2", "name": "general", "created": 1700000000},
]  # fmt: skip


def write_export(root: Path, days: dict[str, list[dict]]) -> Path:
    """A folder export: users, channels, and day files {"inc-db/2026-03-02.json": [...]}."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "users.json").write_text(json.dumps(USERS))
    (root / "channels.json").write_text(json.dumps(CHANNELS))
    for rel, messages in days.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(json.dumps(messages))
    return root


def first_export(root: Path) -> Path:
    return write_export(
        root,
        {
            "inc-db/2026-03-02.json": [
                _msg(T0, "db is slow <https://github.com/acme/api/pull/42|PR 42>"),
                _msg(T0 + timedelta(minutes=1), "looking <@U1>", user="U2",
                     reactions=[{"name": "eyes", "users": ["U1", "U3"], "count": 2}]),
                {"type": "message", "subtype": "channel_join", "ts": _ts(T0, 5), "user": "U3",
                 "inviter": "U1", "text": "<@U3> has joined the channel"},
                {"type": "message", "subtype": "channel_topic", "ts": _ts(T0, 6), "user": "U1",
                 "topic": "replica lag", "text": "set the topic"},
            ],
            "general/2026-02-01.json": [_msg(T0 - timedelta(days=29), "long before")],
        },
    )  # fmt: skip


# --- real exports ---------------------------------------------------------------------


def test_hfaran_export_as_archive_then_idempotent(db: Session) -> None:
    path = shared_fixture(HFARAN)
    summary = _import(db, path)
    assert summary.counts["channels"] == 2 and summary.counts["messages"] == 42
    assert summary.counts["users"] == 4 and summary.counts["people created"] == 4
    assert len(summary.unmatched) == 4 and "Harry Potter (U0BMYT2FL)" in summary.unmatched
    assert summary.incident is None and count(db, IncidentChannel) == 0
    assert count(db, Message) == 42 and count(db, Identity) == 4
    join = db.scalars(
        select(Message).where(Message.subtype == "channel_join", Message.ts.is_not(None))
    ).all()
    assert sorted(m.inviter_external or "" for m in join) == ["", "U0BMQB6JE", "U0BMQB6JE",
                                                              "U0BMQB6JE"]  # fmt: skip
    reacted = db.scalar(select(Message).where(Message.ts == "1459154014.000018"))
    assert reacted is not None
    assert reacted.reactions == [{"name": "botman", "count": 1, "users": ["U0BMYT2FL"]}]
    edited = db.scalar(select(Message).where(Message.ts == "1458972985.000010"))
    assert edited is not None
    assert edited.edited_at == datetime(2016, 3, 26, 8, 32, 14, tzinfo=UTC)
    bots = db.scalars(select(Message).where(Message.subtype == "bot_message")).all()
    assert len(bots) == 24 and all(m.is_bot and m.text_plain for m in bots)
    share = db.scalar(select(Message).where(Message.subtype == "file_share"))
    assert share is not None and share.files == [
        "https://mesos-magellan.slack.com/files/U0BMS113R/F0VQ4C4BT/10_cities.js"
    ]
    harry = db.scalar(select(Person).where(Person.name == "Harry Potter"))
    assert harry is not None and harry.time_zone == "America/Los_Angeles"
    authored = db.scalar(
        select(Message).where(Message.author_external == "U0BMYT2FL", Message.subtype.is_(None))
    )
    assert authored is not None and authored.author_person_id == harry.id

    before = row_counts(db)
    again = _import(db, path)
    assert again.already_imported and again.counts == summary.counts
    assert row_counts(db) == before


def test_slackdump_threads_tombstones_and_bots(db: Session) -> None:
    summary = _import(db, shared_fixture(SLACKDUMP))
    assert summary.counts["messages"] == 14 and summary.counts["bots"] == 6
    replies = db.scalars(select(Message).where(Message.thread_ts != Message.ts)).all()
    assert len(replies) == 4
    tombstone = db.scalar(select(Message).where(Message.subtype == "tombstone"))
    assert tombstone is not None and tombstone.hidden
    parent = db.scalar(select(Message).where(Message.ts == "1736478630.905399"))
    assert parent is not None and parent.extra and parent.extra["reply_count"] == 2


# --- behaviour on small inline exports ------------------------------------------------


def test_full_text_search_finds_imported_messages(db: Session, tmp_path: Path) -> None:
    _import(db, first_export(tmp_path / "e"))
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("FTS5 is SQLite's index")
    hits = db.execute(text("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'slow'")).all()
    assert len(hits) == 1
    trigger = db.execute(
        text("SELECT 1 FROM sqlite_master WHERE name = 'messages_fts_insert'")
    ).all()
    assert trigger, "the insert trigger is back after a bulk import"


def test_overlapping_later_export_adds_new_and_updates_edits(db: Session, tmp_path: Path) -> None:
    first = _import(db, first_export(tmp_path / "v1"))
    assert first.counts["messages"] == 5
    days = {
        "inc-db/2026-03-02.json": [
            _msg(T0, "db is slow (edited)", edited={"user": "U1", "ts": _ts(T0, 9)}),
            _msg(T0 + timedelta(minutes=1), "looking <@U1>", user="U2"),
            _msg(T0 + timedelta(minutes=2), "new one"),
        ]
    }
    second = _import(db, write_export(tmp_path / "v2", days))
    assert second.counts["messages"] == 1
    assert second.counts["messages updated"] == 1
    assert second.counts["messages already present"] == 1
    assert count(db, Message) == 6
    edited = db.scalar(select(Message).where(Message.ts == _ts(T0)))
    assert edited is not None and edited.text_plain == "db is slow (edited)"
    assert edited.source_id == first.source_id  # kept by the source that brought it
    channel = db.scalar(select(Channel).where(Channel.external_id == "C1"))
    assert channel is not None
    assert (channel.topic, channel.purpose) == ("replica lag", "database incident")


def _incident(db: Session, **milestones: datetime) -> str:
    milestones.setdefault("declared", milestones["started"])
    with writing(db):
        incident, _ = repo.declare(
            db, SYSTEM, repo.IncidentInput(title="db", severity="SEV2", milestones=milestones)
        )
        return incident.public_id


def test_incident_attachment_window_and_references(db: Session, tmp_path: Path) -> None:
    public_id = _incident(db, started=T0 - timedelta(minutes=30), closed=T0 + timedelta(hours=1))
    summary = _import(db, first_export(tmp_path / "e"), incident=public_id)
    assert summary.incident == public_id
    assert summary.counts["messages"] == 4  # the general message is outside the window
    attached = db.scalars(select(IncidentChannel)).all()
    assert [a.channel.external_id for a in attached] == ["C1"]  # only channels with messages
    assert attached[0].since == T0 - timedelta(minutes=150)
    assert attached[0].until == T0 + timedelta(hours=3)
    reference = db.scalar(select(Reference))
    assert reference is not None
    assert (reference.kind, reference.key, reference.mentions) == ("github pr", "acme/api#42", 1)
    assert reference.first_seen == T0 and reference.source_id == summary.source_id


def test_explicit_channels_and_window(db: Session, tmp_path: Path) -> None:
    public_id = _incident(db, started=T0)
    export = first_export(tmp_path / "e")
    summary = _import(
        db,
        export,
        incident=public_id,
        channels=["general", "inc-db"],
        since=T0 - timedelta(days=40),
        until=T0 + timedelta(seconds=1),
    )
    assert summary.counts["channels attached"] == 2
    assert summary.counts["messages"] == 4  # until excludes the message a minute later
    with pytest.raises(NotFound):
        _import(db, export, channels=["nope"])


def test_open_incident_window_ends_now_plus_two_hours() -> None:
    class Open:
        started_at = T0
        detected_at = declared_at = closed_at = resolved_at = None

    since, until = incident_window(Open(), None, None)  # type: ignore[arg-type]
    assert since == T0 - timedelta(hours=2)
    assert until is not None and until > datetime.now(UTC) + timedelta(hours=1)


def test_people_matched_by_email_then_name(db: Session, tmp_path: Path) -> None:
    with writing(db):
        ada = directory.create_person(
            db, SYSTEM, directory.PersonInput(name="Augusta Ada King", email="ada@example.com")
        )
        grace = directory.create_person(db, SYSTEM, directory.PersonInput(name="Grace Hopper"))
        ada_id, grace_id = ada.id, grace.id
    summary = _import(db, first_export(tmp_path / "e"))
    assert summary.counts["people matched"] == 2 and summary.counts["people created"] == 1
    assert summary.unmatched == ["Linus T (U3)"]
    identities = {r[0]: r[1] for r in db.execute(select(Identity.external_id, Identity.person_id))}
    assert identities["U1"] == ada_id and identities["U2"] == grace_id
    linus = db.scalar(select(Person).where(Person.email == "linus@example.com"))
    assert linus is not None and identities["U3"] == linus.id


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("members", "where"),
    [
        ({"users.json": b"[]", "../evil/2026-03-02.json": b"[]"}, "../evil"),
        ({"users.json": b"[]", "c/2026-03-02.json": b'[{"ts": "1.0", "text": "x'}, "c/2026"),
    ],
)
def test_hostile_input_changes_nothing(
    db: Session, tmp_path: Path, members: dict[str, bytes], where: str
) -> None:
    _import(db, first_export(tmp_path / "e"))  # something already there
    before = row_counts(db)
    with pytest.raises(ImportFailed) as caught:
        _import(db, _zip(tmp_path / "bad.zip", members))
    assert where in caught.value.message
    assert row_counts(db) == before


def test_removal_removes_exactly_what_a_source_brought(db: Session, tmp_path: Path) -> None:
    public_id = _incident(db, started=T0 - timedelta(minutes=30), closed=T0 + timedelta(hours=1))
    empty = row_counts(db)
    first = _import(db, first_export(tmp_path / "v1"), incident=public_id)
    after_first = row_counts(db)
    days = {"inc-db/2026-03-02.json": [_msg(T0 + timedelta(minutes=2), "new one")]}
    second = _import(db, write_export(tmp_path / "v2", days), incident=public_id)
    assert second.counts["messages"] == 1
    with writing(db):
        remove_source(db, SYSTEM, second.source_id or 0)
    evidence = ("messages", "channels", "incident_channels", "incident_references", "sources")
    now = row_counts(db)
    assert {t: now[t] for t in evidence} == {t: after_first[t] for t in evidence}
    with writing(db):
        remove_source(db, SYSTEM, first.source_id or 0)
    now = row_counts(db)
    assert {t: now[t] for t in evidence} == {t: empty[t] for t in evidence}
    # the people the first import created went with it: nothing else used them
    assert count(db, Source) == 0 and count(db, Person) == 0


def test_row_dicts_are_stored_in_sqlite_form(db: Session) -> None:
    """`insert_messages` stores rows of Python values by column name: times as UTC,
    a missing key as NULL, JSON as compact text on SQLite, the text indexed."""
    from afteraction.services.imports.sources import start_source
    from afteraction.storage import messages as store

    at = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=2)))

    def row(channel_id: int, source_id: int, n: int) -> dict[str, Any]:
        full = dict.fromkeys(bound_rows.COLUMNS)
        full |= {"channel_id": channel_id, "source_id": source_id, "ts": f"1.{n}", "at": at}
        full |= {"author_name": "ann", "text_raw": f"needle {n}", "text_plain": f"needle {n}"}
        full |= {"is_bot": n == 1, "hidden": False, "mentions": ["U1"], "extra": {"k": n}}
        full |= {"edited_at": at + timedelta(minutes=n) if n else None}
        return full

    with writing(db):
        source = start_source(db, SYSTEM, kind="slack_export", origin="t", checksum="c")
        a = store.upsert_channel(db, store.ChannelInfo("CA", "CA"), source_id=source.id)[0]
        dicts = [row(a, source.id, n) for n in range(3)]
        del dicts[2]["thread_ts"]  # a missing key is NULL
        assert store.insert_messages(db, dicts) == 3
        assert store.insert_messages(db, []) == 0
    query = text(
        "SELECT ts, at, edited_at, author_name, text_plain, is_bot, mentions, extra, thread_ts "
        "FROM messages WHERE channel_id = :c ORDER BY ts"
    )
    stored = [db.execute(query, {"c": a}).all()]
    assert [r[0] for r in stored[0]] == ["1.0", "1.1", "1.2"]
    if db.get_bind().dialect.name != "sqlite":
        return  # the stored forms below are SQLite's (text times, JSON text, FTS5)
    assert stored[0][1][1:3] == ("2026-03-02 08:00:00.000000", "2026-03-02 08:01:00.000000")
    assert stored[0][0][6:] == ('["U1"]', '{"k":0}', None)
    found = db.execute(text("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'needle'"))
    assert found.scalar() == 3


def test_both_message_sinks_store_a_record_alike(db: Session) -> None:
    """The bound-row sink (SQLite's) makes the bound row of a record itself, absent values
    as "" or 0 and flags as 0/1 (cheaper for the driver than None and bool); what lands
    must be what the generic sink stores through SQLAlchemy: NULL, true and false, on
    every optional column, set or not, and the same updates from later edits."""
    from dataclasses import replace

    from afteraction.core.slack_record import ParsedMessage, SlackReaction
    from afteraction.services.imports.sources import start_source
    from afteraction.storage import messages as store
    from afteraction.storage.message_sinks import BoundRowSink, ValueSink

    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("the bound-row sink writes SQLite only")
    micros = 1_772_445_600_123_456  # 2026-03-02 10:00:00.123456 UTC
    optional: dict[str, Any] = {
        "thread_ts": "1.5",
        "user_id": "U1",
        "subtype": "bot_message",
        "bot_id": "B1",
        "username": "ci",
        "author_name": "Continuous Integration",
        "reply_count": 2,
        "parent_user_id": "U2",
        "edited_by": "U1",
        "edited_at": datetime(2026, 3, 2, 10, 1, tzinfo=UTC),
        "inviter": "U2",
        "reactions": (SlackReaction("eyes", 1, ("U2",)),),
        "file_links": ("https://files.example/a",),
        "mentions": ("U1",),
        "channel_mentions": ("C9",),
        "broadcasts": ("here",),
        "links": ("https://example.com",),
        "topic": "a topic",
        "old_name": "old",
        "target_ts": "1.2",
        "hidden": True,
    }
    shapes = [set(), set(optional)] + [{name} for name in optional]
    records = [
        ParsedMessage("C", "c", f"1.{n}", micros + n, None, "*up*" if n % 2 else "up", "up")
        for n in range(len(shapes))
    ]
    records = [
        replace(r, **{k: optional[k] for k in shape})
        for r, shape in zip(records, shapes, strict=True)
    ]

    with writing(db):
        source = start_source(db, SYSTEM, kind="slack_export", origin="t", checksum="c")
        person = directory.create_person(db, SYSTEM, directory.PersonInput(name="Ann"))
        authors = bound_rows.Authors({"U1": person.id}, {"U1": "ann", "B1": "bot"}, {"U9"})
        fast, slow = (
            store.upsert_channel(db, store.ChannelInfo(c, c), source_id=source.id)[0]
            for c in ("CF", "CV")
        )
        edited = [replace(records[0], text="later", plain="later", edited_at=micros_at(micros))]
        generic = ValueSink(db, source_id=source.id, authors=authors)
        assert generic.add(slow, records) == len(shapes)
        assert generic.update(slow, edited) == 1
        generic.finish()
        # one sink per import: the bound-row sink's bulk load takes every insert after it
        bound = BoundRowSink(db, source_id=source.id, authors=authors)
        assert bound.add(fast, records) == len(shapes)
        assert bound.update(fast, edited) == 1
        bound.finish()
    db.expire_all()
    columns = [c for c in bound_rows.COLUMNS if c != "channel_id"]
    stored = [
        [
            tuple(getattr(m, c) for c in columns)
            for m in db.scalars(select(Message).where(Message.channel_id == c).order_by(Message.ts))
        ]
        for c in (fast, slow)
    ]
    assert len(stored[0]) == len(shapes) and stored[0] == stored[1]
    first = dict(zip(columns, stored[0][0], strict=True))
    assert first["at"] == datetime(2026, 3, 2, 10, 0, 0, 123456, tzinfo=UTC)
    assert first["text_plain"] == "later" and first["author_person_id"] is None
    full = dict(zip(columns, stored[0][1], strict=True))
    assert (full["author_person_id"], full["author_name"]) == (person.id, "Continuous Integration")
    assert full["is_bot"] is True and full["hidden"] is True and full["text_raw"] == "*up*"
    assert list(full["extra"]) == [
        "reply_count", "parent_user_id", "edited_by", "bot_id", "username", "old_name",
        "topic", "target_ts", "channel_mentions", "broadcasts", "links",
    ]  # fmt: skip
    nulls = text(
        "SELECT count(*) FROM messages WHERE channel_id = :c AND thread_ts IS NULL "
        "AND author_person_id IS NULL AND edited_at IS NULL AND mentions IS NULL "
        "AND extra IS NULL AND text_raw IS NULL AND subtype IS NULL AND files IS NULL"
    )
    counted = [db.execute(nulls, {"c": c}).scalar() for c in (fast, slow)]
    assert counted[0] == counted[1] == 2  # NULL, not "" or 0, where a value is absent
    found = db.execute(text("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'up'"))
    assert found.scalar() == 2 * (len(shapes) - 1)


def micros_at(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros + 60_000_000)


def test_latest_topic_wins_and_bot_users_posts_are_bots(db: Session, tmp_path: Path) -> None:
    root = write_export(
        tmp_path / "export",
        {
            "general/2026-03-02.json": [  # newest first, as the Web API returns history
                _msg(T0 + timedelta(minutes=5), "set the topic", n=2, subtype="channel_topic",
                     topic="db failover drill"),
                _msg(T0, "set the topic", n=1, subtype="channel_topic", topic="old topic"),
                _msg(T0 + timedelta(minutes=6), "deploy finished", user="UBOT", n=3),
            ]
        },
    )  # fmt: skip
    users = [*USERS, {"id": "UBOT", "name": "deploybot", "is_bot": True,
                      "profile": {"real_name": "Deploy Bot"}}]  # fmt: skip
    (root / "users.json").write_text(json.dumps(users))
    summary = _import(db, root)
    assert summary.counts["bots"] == 1
    channel = db.scalar(select(Channel).where(Channel.external_id == "C2"))
    assert channel is not None and channel.topic == "db failover drill"
    post = db.scalar(select(Message).where(Message.author_external == "UBOT"))
    assert post is not None and post.is_bot and post.author_person_id is None


def test_bulk_load_indexes_each_row_once_and_rebuilds_the_indexes(
    db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import larger than the table it loads into indexes its text and rebuilds the
    secondary indexes at the end; a message met again later in the same import with an
    edit is found by its new text only, though it was updated before the end."""
    from afteraction.services import search
    from afteraction.storage import messages as store

    monkeypatch.setattr(store, "LOAD_INDEX_AFTER", 2)
    sqlite = db.get_bind().dialect.name == "sqlite"
    schema = text("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'messages'")
    before = sorted(db.execute(schema).all()) if sqlite else []
    edit = {"user": "U1", "ts": _ts(T0 + timedelta(days=1), 1)}
    days = {
        "inc-db/2026-03-02.json": [
            _msg(T0, "first draft"),
            _msg(T0 + timedelta(minutes=1), "alpha"),
            _msg(T0 + timedelta(minutes=2), "beta"),
        ],
        "inc-db/2026-03-03.json": [_msg(T0 + timedelta(days=1), "gamma")],
        "inc-db/2026-03-04.json": [_msg(T0, "final words", edited=edit)],
    }
    summary = _import(db, write_export(tmp_path / "e", days))
    assert (summary.counts["messages"], summary.counts["messages updated"]) == (4, 1)

    def found(word: str) -> list[str]:
        hits = search.search(db, SYSTEM, word, kinds=["messages"]).hits
        return [hit.snippet for hit in hits]

    assert [len(found(w)) for w in ("final", "draft", "alpha", "gamma")] == [1, 0, 1, 1]
    if not sqlite:
        return
    assert sorted(db.execute(schema).all()) == before  # the same indexes and triggers
    db.execute(text("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)"))
    plan = db.execute(
        text("EXPLAIN QUERY PLAN SELECT id FROM messages WHERE author_person_id = 1")
    ).all()
    assert "ix_messages_author_person_id" in str(plan)
    # a later import, ending with its rows not yet indexed: FTS5 gathers more at a time
    later = {"general/2026-03-05.json": [_msg(T0 + timedelta(days=3, minutes=n), f"delta {n}")
                                         for n in range(3)]}  # fmt: skip
    assert _import(db, write_export(tmp_path / "later", later)).counts["messages"] == 3
    assert len(found("delta")) == 3
    db.execute(text("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)"))
    hash_size = text("SELECT v FROM messages_fts_config WHERE k = 'hashsize'")
    assert db.execute(hash_size).scalar() == 1024 * 1024  # FTS5's default, as before


@pytest.mark.parametrize(
    ("beside_parsers", "dropped"),
    [
        (False, {"ix_messages_channel_at", "ix_messages_thread", "ix_messages_source_id",
                 "ix_messages_author_person_id"}),
        (True, {"ix_messages_author_person_id"}),
    ],
)  # fmt: skip
def test_a_large_load_drops_the_indexes_it_would_scatter(
    db: Session, beside_parsers: bool, dropped: set[str]
) -> None:
    """A load that outgrows the table builds its secondary indexes at the end; beside
    parser processes it keeps in step those it only extends at their end."""
    from afteraction.storage import messages as store

    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL keeps its indexes in step itself")
    names = text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'")
    before = set(db.scalars(names))
    with pytest.raises(RuntimeError), writing(db):
        load = store.start_bulk_load(db)
        store.expect_rows(db, load, 10 * store.LOAD_INDEX_AFTER, beside_parsers=beside_parsers)
        assert before - set(db.scalars(names)) == dropped
        store.finish_bulk_load(db, load)
        assert set(db.scalars(names)) == before
        raise RuntimeError("roll back")
    assert set(db.scalars(names)) == before
