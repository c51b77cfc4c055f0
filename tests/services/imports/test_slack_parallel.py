"""A Slack export written through the bound-row sink (SQLite's), read here or by parser
processes (`services.imports.slack_parallel`), stores exactly what the generic sink
(PostgreSQL's) stores: the same rows, counts, warnings in the same order, channel events
and references; a parser's failure or death fails the import and leaves the database as
it was.

Each test builds its own SQLite files (the parser path is SQLite's), so these run
whichever database the rest of the suite uses."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.core.errors import ImportFailed
from afteraction.services import incidents as repo
from afteraction.services.imports import slack as slack_importer
from afteraction.services.imports import slack_parallel
from afteraction.services.imports.slack import import_slack_export
from afteraction.services.imports.sources import ImportSummary
from afteraction.storage import db as storage_db
from tests.services.imports._helpers import row_counts, shared_fixture, slack_message, slack_ts

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


_ts, _msg = slack_ts, slack_message


USERS = [
    {"id": "U1", "name": "ada", "real_name": "Ada Lovelace",
     "profile": {"real_name": "Ada Lovelace", "email": "ada@example.com"}},
    {"id": "U2", "name": "grace", "profile": {"real_name": "Grace Hopper"}},
    {"id": "UBOT", "name": "deploybot", "is_bot": True, "profile": {"real_name": "Deploy"}},
]  # fmt: skip
CHANNELS = [
    {"id": "C1", "name": "inc-db", "created": 1700000000, "topic": {"value": ""},
     "purpose": {"value": ""}},
    {"id": "C2", "name": "general", "created": 1700000000},
]  # fmt: skip


def _day(start: datetime) -> list[Any]:
    """One day of every kind of item the two paths must agree on."""
    t = start
    return [
        _msg(t, "plain words"),
        _msg(t, "later in the file, earlier in time", n=3),  # the day is sorted by ts
        _msg(t + timedelta(seconds=1), "hi <@U2> and <@U9> in <#C2|general> <!here>", "U2"),
        _msg(
            t + timedelta(seconds=2),
            "see <https://github.com/acme/api/pull/7|PR 7> &amp; "
            "<https://example.com/?t=xoxb-123-abc> PROJ-12 token xoxp-9-zz",
        ),
        _msg(
            t + timedelta(seconds=3),
            "reacted",
            reactions=[
                {"name": "eyes", "users": ["U1", "U2"], "count": 2},
                {"users": ["U1"]},
                {"name": "tada", "users": ["U2"], "count": "1"},
            ],
        ),
        _msg(t + timedelta(seconds=4), "in a thread", thread_ts=_ts(t), parent_user_id="U1"),
        _msg(t, "a parent", n=7, thread_ts=_ts(t, 7), reply_count="3", reply_users=["U2"]),
        _msg(t + timedelta(seconds=5), "same ts twice"),
        _msg(t + timedelta(seconds=5), "same ts twice, skipped"),
        _msg(t + timedelta(seconds=6), "by the bot user", "UBOT"),
        _msg(
            t + timedelta(seconds=7),
            "",
            blocks=[
                {
                    "type": "rich_text",
                    "elements": [
                        {
                            "type": "rich_text_section",
                            "elements": [
                                {"type": "text", "text": "from blocks "},
                                {"type": "user", "user_id": "U1"},
                            ],
                        }
                    ],
                }
            ],
        ),
        _msg(
            t + timedelta(seconds=8),
            "edited once",
            edited={"user": "U1", "ts": _ts(t + timedelta(minutes=1))},
        ),
        {
            "type": "message",
            "subtype": "channel_join",
            "ts": _ts(t + timedelta(seconds=9)),
            "user": "U2",
            "inviter": "U1",
            "text": "<@U2> has joined the channel",
        },
        {
            "type": "message",
            "subtype": "channel_topic",
            "ts": _ts(t + timedelta(seconds=10)),
            "user": "U1",
            "topic": f"topic of {t:%d}",
            "text": "set the topic",
        },
        {
            "type": "message",
            "subtype": "channel_purpose",
            "ts": _ts(t + timedelta(seconds=11)),
            "user": "U1",
            "purpose": "the purpose",
            "text": "set the purpose",
        },
        {
            "type": "message",
            "subtype": "bot_message",
            "ts": _ts(t + timedelta(seconds=12)),
            "bot_id": "B1",
            "username": "ci",
            "text": "build <https://ci.example/1|passed>",
            "attachments": [{"text": "details"}],
        },
        {
            "type": "message",
            "subtype": "file_share",
            "ts": _ts(t + timedelta(seconds=13)),
            "user": "U1",
            "text": "a file",
            "files": [{"id": "F1", "name": "log.txt", "permalink": "https://files.example/F1"}],
        },
        {
            "type": "message",
            "subtype": "strange_new_kind",
            "ts": _ts(t + timedelta(seconds=14)),
            "user": "U1",
            "text": "unknown subtype",
        },
        {
            "type": "message",
            "subtype": "message_changed",
            "ts": _ts(t + timedelta(seconds=15)),
            "message": {
                "user": "U1",
                "text": "changed text",
                "ts": _ts(t),
                "edited": {"user": "U1", "ts": _ts(t + timedelta(seconds=15))},
            },
        },
        _msg(t + timedelta(seconds=16), 12345),
        _msg(t + timedelta(seconds=17), "no user here", user=""),
        "not an object",
        {"type": "message", "text": "no ts", "user": "U1"},
        {"type": "message", "ts": 1772445600.5, "user": "U1", "text": "a number ts"},
        _msg(datetime(2999, 1, 1, tzinfo=UTC), "far future"),
        _msg(
            t + timedelta(seconds=18),
            "ends with an entity &lt;3",
            user="U2",
            team="T1",
            client_msg_id="x",
            blocks=[],
        ),
        _msg(
            t + timedelta(seconds=19),
            "ping <@U2> see <https://x.example/y|y> xoxb-1-2",
            blocks=[_rich_text(
                {"type": "text", "text": "ping "},
                {"type": "user", "user_id": "U2"},
                {"type": "user", "user_id": "U3"},
                {"type": "channel", "channel_id": "C1"},
                {"type": "broadcast", "range": "channel"},
                {"type": "link", "url": "https://x.example/y", "text": "y"},
                {"type": "link", "url": "https://z.example/?t=xoxp-5-6"},
            )],
        ),
        _msg(t + timedelta(seconds=20), "odd blocks", blocks={"type": "rich_text"}),
        _msg(t + timedelta(seconds=21), "   ", blocks=[_rich_text(
            {"type": "text", "text": "only <here> & in blocks "},
            {"type": "channel", "channel_id": "C2"},
        )]),
        # the same instant written two ways: a parsed item first, then a usual one
        {"type": "message", "subtype": "me_message", "user": "U1", "text": "waves",
         "ts": _ts(t + timedelta(seconds=22))[:-6] + "5"},
        {"type": "message", "user": "U2", "text": "same instant",
         "ts": _ts(t + timedelta(seconds=22))[:-6] + "50"},
        _msg(t + timedelta(seconds=23), "a count past 64 bits", reply_count=2**70),
        _msg(t + timedelta(seconds=24), "a count of 400 digits", reply_count="9" * 400),
        {"type": "message", "user": "U1", "text": "a ts with an Arabic-Indic digit",
         "ts": _ts(t + timedelta(seconds=25))[:-1] + "\u0665"},
    ]  # fmt: skip


def _rich_text(*elements: dict[str, Any]) -> dict[str, Any]:
    section = {"type": "rich_text_section", "elements": list(elements)}
    return {"type": "rich_text", "elements": [section]}


def write_export(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "users.json").write_text(json.dumps(USERS))
    (root / "channels.json").write_text(json.dumps(CHANNELS))
    days = {
        "inc-db/2026-03-01.json": _day(T0 - timedelta(days=1)),
        "inc-db/2026-03-02.json": _day(T0),
        # the first message of the 1st again (skipped: seen the day before in this file
        # order? no, two days before: kept as already present), and edited later (a change)
        "inc-db/2026-03-03.json": [
            _msg(T0 - timedelta(days=1), "plain words"),
            _msg(
                T0 - timedelta(days=1) + timedelta(seconds=8),
                "edited twice",
                edited={"user": "U1", "ts": _ts(T0 + timedelta(days=1))},
            ),
            *_day(T0 + timedelta(days=1)),
        ],
        "general/2026-03-02.json": list(reversed(_day(T0 + timedelta(hours=1)))),
        "C777/2026-03-02.json": _day(T0 + timedelta(hours=2)),  # a folder nobody listed
    }
    for rel, items in days.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(json.dumps(items))
    return root


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parallel") / "template.db"
    storage_db.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def fresh(template: Path, tmp_path: Path) -> Iterator[Any]:
    """Sessions on fresh migrated SQLite files (copies of one migrated file)."""
    engines = []

    def make(name: str) -> Session:
        path = tmp_path / f"{name}.db"
        shutil.copy(template, path)
        engine = storage_db.make_engine(f"sqlite:///{path}")
        engines.append(engine)
        return storage_db.make_session_factory(engine)()

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def spied(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many parser processes each import used (none: it read in process)."""
    used: list[int] = []
    original = slack_parallel.parse_elsewhere

    def spy(*args: Any) -> None:
        used.append(args[-1])
        original(*args)

    monkeypatch.setattr(slack_importer, "parse_elsewhere", spy)
    return used


def _declare(db: Session) -> None:
    with storage_db.writing(db):
        repo.declare(
            db,
            SYSTEM,
            repo.IncidentInput(
                title="db",
                severity="SEV2",
                milestones={"started": T0, "declared": T0, "closed": T0 + timedelta(hours=1)},
            ),
        )


USUAL = -1  # `_import` through the generic sink (PostgreSQL's), the reference


def _import(db: Session, path: Path, parsers: int | None, **options: Any) -> dict[str, Any]:
    """Import in one transaction: `USUAL`, 0 (bound rows made in process) or parsers."""
    bound = slack_importer.BOUND_ROWS
    slack_importer.BOUND_ROWS = parsers != USUAL
    try:
        with storage_db.writing(db):
            summary = import_slack_export(
                db,
                SYSTEM,
                path,
                parser_processes=max(parsers, 0) if parsers else parsers,
                **options,
            )
    finally:
        slack_importer.BOUND_ROWS = bound
    return {k: v for k, v in summary.as_dict().items() if k not in ("source_id", "origin")}


def _stored(db: Session) -> dict[str, Any]:
    """Everything an import writes, without row ids: parsers send channels as they go, so
    message ids interleave and, in an incident's window, channels are made in another
    order."""
    messages = db.execute(
        text(
            "SELECT c.external_id, m.ts, m.at, m.thread_ts, m.author_external, "
            "m.author_person_id, m.author_name, m.subtype, m.text_raw, m.text_plain, "
            "m.edited_at, m.inviter_external, m.is_bot, m.hidden, m.mentions, m.reactions, "
            "m.files, m.extra, m.source_id FROM messages m JOIN channels c ON c.id = m.channel_id "
            "ORDER BY c.external_id, m.ts"
        )
    ).all()
    channels = db.execute(
        text(
            "SELECT c.external_id, c.name, c.kind, c.topic, c.purpose, c.source_id, "
            "i.incident_id, i.since, i.until FROM channels c "
            "LEFT JOIN incident_channels i ON i.channel_id = c.id ORDER BY c.external_id"
        )
    ).all()
    references = db.execute(
        text(
            "SELECT kind, key, url, title, mentions, first_seen FROM incident_references "
            "ORDER BY id"
        )
    ).all()
    indexed = db.execute(
        text(
            "SELECT count(*) FROM messages_fts f JOIN messages m ON m.id = f.rowid "
            "WHERE messages_fts MATCH 'words OR thread OR blocks'"
        )
    ).scalar()
    in_id_order = db.execute(
        text(
            "SELECT c.external_id, m.ts FROM messages m JOIN channels c ON c.id = m.channel_id "
            "ORDER BY c.external_id, m.id"
        )
    ).all()
    return {
        "messages": messages,
        "in_id_order": in_id_order,  # within a channel, ids follow the same order
        "channels": channels,
        "references": references,
        "indexed": indexed,
    }


@pytest.mark.parametrize("parsers", [0, 1, 2, 3])
def test_bound_rows_store_what_the_usual_path_stores(
    fresh: Any, spied: list[int], tmp_path: Path, parsers: int
) -> None:
    export = write_export(tmp_path / "export")
    usual, parallel = fresh("usual"), fresh("parallel")
    expected = _import(usual, export, USUAL)
    got = _import(parallel, export, parsers)
    assert spied == ([parsers] if parsers else [])
    assert got == expected
    assert expected["counts"]["messages"] > 100 and expected["counts"]["messages updated"] > 0
    assert expected["counts"]["messages already present"] > 0
    assert any("duplicate ts" in s["reason"] for s in expected["skipped"])
    assert any("unknown subtype" in w for w in expected["warnings"])
    assert _stored(parallel) == _stored(usual)


def test_a_window_and_references_of_an_incident_come_out_the_same(
    fresh: Any, spied: list[int], tmp_path: Path
) -> None:
    export = write_export(tmp_path / "export")
    usual, parallel = fresh("usual"), fresh("parallel")
    for db in (usual, parallel):
        _declare(db)
    since = T0 - timedelta(hours=20)
    until = T0 + timedelta(seconds=7, microseconds=1)
    expected = _import(usual, export, USUAL, incident="INC-1", since=since, until=until)
    stored = _stored(usual)
    assert stored["references"] and stored["messages"]
    for parsers in (0, 2):
        db = fresh(f"parsers{parsers}")
        _declare(db)
        assert _import(db, export, parsers, incident="INC-1", since=since, until=until) == (
            expected
        )
        assert _stored(db) == stored
    assert spied == [2]


def test_an_overlapping_later_export_with_edits_comes_out_the_same(
    fresh: Any, spied: list[int], tmp_path: Path
) -> None:
    """The bound rows made in process (0) against messages the database already holds."""
    export = write_export(tmp_path / "export")
    later = tmp_path / "later"
    shutil.copytree(export, later)
    day = json.loads((later / "inc-db" / "2026-03-02.json").read_text())
    day[0] |= {"text": "plain words, edited", "edited": {"user": "U1", "ts": _ts(T0, 99)}}
    day.append(_msg(T0 + timedelta(hours=3), "only in the later export"))
    (later / "inc-db" / "2026-03-02.json").write_text(json.dumps(day))
    results = []
    for way in (USUAL, 0):
        db = fresh(f"way{way}")
        _import(db, export, way)
        results.append((_import(db, later, way), _stored(db)))
    assert results[0] == results[1]
    assert results[0][0]["counts"]["messages"] == 1
    assert results[0][0]["counts"]["messages updated"] == 1
    assert spied == []


def test_two_folders_of_one_channel_come_out_the_same(
    fresh: Any, spied: list[int], tmp_path: Path
) -> None:
    """An unlisted folder named by a listed channel's id is that channel: what the first
    folder wrote counts as already there for the second (never a parser: they could not
    know)."""
    export = write_export(tmp_path / "export")
    (export / "C1").mkdir()
    (export / "C1" / "2026-03-02.json").write_text(
        json.dumps([_msg(T0, "plain words"), _msg(T0, "only in the id folder", n=999)])
    )
    results = []
    for way in (USUAL, 0, 2):
        db = fresh(f"way{way}")
        results.append((_import(db, export, way), _stored(db)))
    assert results[0] == results[1] == results[2]
    assert results[0][0]["counts"]["messages already present"] > 0
    assert spied == []


def test_a_zipped_export_read_by_parsers_comes_out_the_same(
    fresh: Any, spied: list[int], tmp_path: Path
) -> None:
    """Each parser opens the archive itself (with the same safety limits)."""
    export = write_export(tmp_path / "export")
    archive = Path(shutil.make_archive(str(tmp_path / "export"), "zip", export))
    usual = fresh("usual")
    expected = _import(usual, archive, USUAL)
    parallel = fresh("parallel")
    assert _import(parallel, archive, 2) == expected
    assert _stored(parallel) == _stored(usual)
    assert spied == [2]


def test_the_real_exports_come_out_the_same(fresh: Any, spied: list[int]) -> None:
    for relative in ("slack/slack-export-viewer/tests/testarchive_zip_contents",):
        path = shared_fixture(relative)
        usual = fresh("usual")
        expected = _import(usual, path, USUAL)
        assert expected["counts"]["messages"] > 0
        for parsers in (0, 2):
            db = fresh(f"parsers{parsers}")
            assert _import(db, path, parsers) == expected
            assert _stored(db) == _stored(usual)
    assert spied == [2]


def test_a_bad_file_read_by_a_parser_fails_the_import_and_keeps_nothing(
    fresh: Any, spied: list[int], tmp_path: Path
) -> None:
    export = write_export(tmp_path / "export")
    (export / "general" / "2026-03-03.json").write_text('[{"ts": "1772445600.000001", "text": "x')
    db = fresh("db")
    before = row_counts(db)
    with pytest.raises(ImportFailed) as failed:
        _import(db, export, 2)
    assert "general/2026-03-03.json" in str(failed.value)
    assert "truncated" in str(failed.value) or "line 1" in str(failed.value)
    assert spied == [2]
    assert row_counts(db) == before


def test_a_parser_that_dies_is_an_import_failure() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdout.buffer.write(b'\\0\\0'); sys.exit(3)"],
        stdout=subprocess.PIPE,
        bufsize=0,
    )
    parser = slack_parallel._Parser(process, ["general", "random"])
    with pytest.raises(ImportFailed) as failed:
        slack_parallel._receive(parser)
    assert "exit code 3" in str(failed.value) and "general, random" in str(failed.value)
    assert process.stdout is not None
    process.stdout.close()


def test_a_parser_that_is_stuck_fails_the_import_and_keeps_nothing(
    fresh: Any, spied: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A parser that neither reports nor dies (stopped here with SIGSTOP) fails the import
    once it has been silent for `PARSER_SILENCE_S`; every parser is killed."""
    started: list[subprocess.Popen[bytes]] = []
    original = slack_parallel._start

    def stopped(job: Any) -> Any:
        parser = original(job)
        parser.process.send_signal(signal.SIGSTOP)
        started.append(parser.process)
        return parser

    monkeypatch.setattr(slack_parallel, "_start", stopped)
    monkeypatch.setattr(slack_parallel, "PARSER_SILENCE_S", 1.0)
    # without the limit the import would wait for ever: let the parsers go on after 30 s,
    # so that such an import ends (and this test fails) instead of hanging
    release = threading.Timer(30, lambda: [p.send_signal(signal.SIGCONT) for p in started])
    release.start()
    db = fresh("db")
    before = row_counts(db)
    try:
        with pytest.raises(ImportFailed) as failed:
            _import(db, write_export(tmp_path / "export"), 2)
    finally:
        release.cancel()
    assert "stuck" in str(failed.value) and "general" in str(failed.value)
    assert spied == [2] and len(started) == 2
    assert all(process.returncode == -signal.SIGKILL for process in started)
    assert row_counts(db) == before


def test_the_usual_path_is_kept_where_a_parser_could_not_give_the_same(
    fresh: Any, spied: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = write_export(tmp_path / "export")
    db = fresh("db")
    monkeypatch.setattr(slack_parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(slack_parallel, "usable_cpus", lambda: 2)
    _import(db, export, 0)  # asked for none
    assert spied == []
    later = tmp_path / "later"
    shutil.copytree(export, later)
    (later / "inc-db" / "2026-03-04.json").write_text(json.dumps([_msg(T0, "again")]))
    again = _import(db, later, None)  # its channels hold messages: read in process
    assert spied == [] and again["counts"]["messages"] == 0
    other = fresh("other")
    _import(other, export, None)  # large enough (by the patched size), two CPUs, all new
    assert spied == [2]
    monkeypatch.setattr(slack_parallel, "usable_cpus", lambda: 1)
    _import(fresh("one_cpu"), export, None)
    assert spied == [2]


@pytest.fixture
def staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder the parsers stage their rows in (the importing process makes it)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _attached(db: Session) -> list[str]:
    return [row[1] for row in db.execute(text("PRAGMA database_list")) if row[1] != "temp"]


def test_rows_staged_in_several_files_come_out_the_same(
    fresh: Any, spied: list[int], tmp_path: Path, staging: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder large enough for several hand-overs (edits on later days change rows
    copied from earlier files); each file is removed once copied, the folder at the end,
    and nothing stays attached after the commit."""
    export = write_export(tmp_path / "export")
    bulk = [_msg(T0 - timedelta(days=3), f"bulk {n}", n=n) for n in range(1, 12_001)]
    (export / "inc-db" / "2026-02-27.json").write_text(json.dumps(bulk))
    handed: list[str | None] = []
    original = slack_importer.SlackWriter.take_staged

    def spy(writer: Any, path: str | None, items: Any) -> int:
        handed.append(path)
        return original(writer, path, items)

    monkeypatch.setattr(slack_importer.SlackWriter, "take_staged", spy)
    usual, parallel = fresh("usual"), fresh("parallel")
    expected = _import(usual, export, USUAL)
    assert _import(parallel, export, 2) == expected
    assert _stored(parallel) == _stored(usual)
    files = [path for path in handed if path]
    assert len(files) >= 3, handed  # the big folder's parser handed over more than once
    assert len(files) <= slack_parallel.MAX_STAGES
    assert not list(staging.iterdir())
    assert _attached(parallel) == ["main"]


def test_a_failed_import_leaves_no_staged_file_and_nothing_attached(
    fresh: Any, spied: list[int], tmp_path: Path, staging: Path
) -> None:
    export = write_export(tmp_path / "export")
    (export / "zz-last").mkdir()
    (export / "zz-last" / "2026-03-03.json").write_text("{not json")
    db = fresh("db")
    before = row_counts(db)
    with pytest.raises(ImportFailed):
        _import(db, export, 2)
    assert spied == [2]
    assert row_counts(db) == before
    assert not list(staging.iterdir())
    assert _attached(db) == ["main"]


@pytest.mark.parametrize(("taken", "parsers"), [(9, 1), (10, 0)])
def test_parsers_stage_no_more_files_than_the_connection_can_attach(
    fresh: Any, spied: list[int], tmp_path: Path, taken: int, parsers: int
) -> None:
    """SQLite attaches at most ten files and a staged file stays attached until the
    transaction ends: with nine taken one parser reads, with ten the importing process."""
    export = write_export(tmp_path / "export")
    expected = _import(fresh("usual"), export, USUAL)
    db = fresh("db")
    with storage_db.writing(db):
        for n in range(taken):
            storage_db.attach_for_transaction(db, tmp_path / f"other{n}.db")
        assert storage_db.attach_capacity(db) == 10 - taken
        summary = import_slack_export(db, SYSTEM, export, parser_processes=2)
    got = {k: v for k, v in summary.as_dict().items() if k not in ("source_id", "origin")}
    assert got == expected
    assert spied == ([parsers] if parsers else [])
    assert _attached(db) == ["main"]
    assert storage_db.attach_capacity(db) == 10


def test_staged_rows_without_their_file_fail_the_import(fresh: Any) -> None:
    """Rows are only ever handed over with the file that holds them; if that ever broke,
    the import fails instead of dropping them."""
    db = fresh("db")
    summary = ImportSummary(kind="slack-export", source_id=None, origin="test")
    writer = slack_importer.SlackWriter(db, SYSTEM, summary, 1, None, (None, None), None)
    with storage_db.writing(db), pytest.raises(ImportFailed) as failed:
        writer.start_loading()
        writer.take_staged(None, [("C1", "inc-db", (1, 3), [], 0)])
    assert "without their file" in str(failed.value) and "inc-db" in str(failed.value)


def test_a_parser_process_starts_without_sqlalchemy() -> None:
    """A parser process imports the adapters and `storage.bound_rows` only: importing
    SQLAlchemy took about 0.45 s of every parser's start, before its first row."""
    code = (
        "import sys, afteraction.services.imports.slack_parallel\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] == 'sqlalchemy'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_a_parser_lowers_its_own_priority() -> None:
    """The writer runs first when both have work: a parser lowers its priority."""
    code = (
        "import os\nfrom afteraction.services.imports import slack_parallel\n"
        "before = os.nice(0)\nslack_parallel.lower_priority()\nprint(before, os.nice(0))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    before, after = (int(word) for word in done.stdout.split())
    assert after == min(19, before + slack_parallel.PARSER_NICENESS)
