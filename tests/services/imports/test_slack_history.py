"""Live Slack history end to end: `import_slack_history` against a local fake Web API that
serves recorded payload shapes (the real slackdump fixture's users, channel and messages in
the Web API's envelopes), into the database. Checks messages, threads and replies, users →
people, cursor pagination, 429 + Retry-After, idempotency, the incident attachment, and that
a failure mid-way leaves every table as it was. No network: the fake listens on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.adapters.slack_api import make_client
from afteraction.core.access import SYSTEM
from afteraction.core.errors import ImportFailed
from afteraction.services import incidents as repo
from afteraction.services.imports.slack import import_slack_history
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import Channel, IncidentChannel, Message, Source
from afteraction.storage.tables import Identity, Person
from tests.fake_slack import DROP, FakeSlack, page, serving
from tests.services.imports._helpers import count, row_counts, shared_fixture

SLACKDUMP = "slack/slackdump/internal/fixtures/assets/source_export_dir"
CHANNEL = "CO69735E8A"
THREAD = "1736478630.905399"  # a parent with two replies
TOMBSTONE = "1736554828.343759"  # a deleted parent kept so its reply survives


@pytest.fixture
def slack() -> Iterator[tuple[FakeSlack, str]]:
    with serving() as running:
        yield running


def _export() -> Path:
    return shared_fixture(SLACKDUMP)


def _recorded() -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    """(users, the channel, its messages) from the real slackdump export."""
    root = _export()
    users = json.loads((root / "users.json").read_text())
    channel = json.loads((root / "channels.json").read_text())[0]
    messages: list[dict[str, Any]] = []
    for path in sorted((root / channel["name"]).glob("*.json")):
        messages.extend(json.loads(path.read_text()))
    return users, channel, messages


LIMITED = {"ok": False, "error": "ratelimited"}


def _script(fake: FakeSlack, *, fail_second_history_page: bool = False) -> int:
    """Queue a whole fetch: users over two pages with a 429 (Retry-After: 3) between them,
    the channel, history newest first over two pages with a 429 (Retry-After: 2) before
    the second, and each thread's replies over two pages. Returns how many messages."""
    users, channel, messages = _recorded()
    fake.add("users.list", page("members", users[:6], "users-2"))
    fake.add("users.list", LIMITED, 429, Retry_After="3")
    fake.add("users.list", page("members", users[6:]))
    fake.add("conversations.info", {"ok": True, "channel": channel})
    top = [m for m in messages if m.get("thread_ts") in (None, m["ts"])]
    newest_first = sorted(top, key=lambda m: m["ts"], reverse=True)
    fake.add("conversations.history", page("messages", newest_first[:6], "history-2"))
    if fail_second_history_page:
        fake.add("conversations.history", {"ok": False, "error": "internal_error"})
    else:
        fake.add("conversations.history", LIMITED, 429, Retry_After="2")
        fake.add("conversations.history", page("messages", newest_first[6:]))
    fetched = newest_first[:6] if fail_second_history_page else newest_first
    for parent in fetched:  # replies are asked for right after their parent is read
        if not parent.get("reply_count"):
            continue
        replies = [m for m in messages if m.get("thread_ts") == parent["ts"] and m is not parent]
        fake.add("conversations.replies", page("messages", [parent, *replies[:1]], "replies-2"))
        fake.add("conversations.replies", page("messages", replies[1:]))
    return len(messages)


def _client(url: str, slept: list[float]) -> Any:
    return make_client("xoxb-test", base_url=url, max_wait=30, sleep=slept.append)


def _import(db: Session, client: Any, **options: Any):  # type: ignore[no-untyped-def]
    options.setdefault("incident", None)
    with writing(db):
        return import_slack_history(db, SYSTEM, client, CHANNEL, **options)


def test_history_lands_in_the_database(slack: tuple[FakeSlack, str], db: Session) -> None:
    fake, url = slack
    total = _script(fake)
    slept: list[float] = []

    summary = _import(db, _client(url, slept))

    # every page was asked for, each 429 waited out for its Retry-After, then retried
    assert slept == [3.0, 2.0]
    assert [q.get("cursor") for q in fake.calls("users.list")] == [None, "users-2", "users-2"]
    assert [q.get("cursor") for q in fake.calls("conversations.history")] == [
        None,
        "history-2",
        "history-2",
    ]
    replies = [(q["ts"], q.get("cursor")) for q in fake.calls("conversations.replies")]
    assert (THREAD, "replies-2") in replies and (TOMBSTONE, None) in replies
    assert all(not queue for queue in fake.replies.values()), "every recorded reply was used"

    assert summary.kind == "slack_api" and summary.origin == f"slack:{CHANNEL}"
    assert summary.counts["messages"] == total == 14
    assert summary.counts["channels"] == 1 and summary.skipped == []
    source = db.get(Source, summary.source_id)
    assert source is not None and source.status == "complete"
    assert source.options == {"channels": [CHANNEL]}

    channel = db.scalar(select(Channel))
    assert channel is not None
    assert (channel.external_id, channel.name, channel.kind) == (CHANNEL, "B75B4C7", "public")
    stored = {m.ts: m for m in db.scalars(select(Message))}
    _, _, recorded = _recorded()
    assert set(stored) == {m["ts"] for m in recorded}
    assert {m.source_id for m in stored.values()} == {summary.source_id}
    # threads: replies keep their parent's thread_ts; the tombstone parent is kept, hidden
    thread = sorted(ts for ts, m in stored.items() if m.thread_ts == THREAD and ts != THREAD)
    assert thread == ["1736554746.482349", "1736554783.040199"]
    assert stored[THREAD].extra is not None and stored[THREAD].extra["reply_count"] == 2
    assert stored["1736554838.911679"].thread_ts == TOMBSTONE
    assert stored[TOMBSTONE].hidden and stored[TOMBSTONE].subtype == "tombstone"
    assert stored["1736554636.807919"].subtype == "channel_join"
    assert stored["1736478514.897649"].at == datetime.fromtimestamp(1736478514.897649, UTC)

    # users → people: humans (not bots, not deleted bots) become people with an identity
    users, _, _ = _recorded()
    humans = {u["id"] for u in users if not u.get("is_bot")}
    identities = {i.external_id: i.person_id for i in db.scalars(select(Identity))}
    assert set(identities) == humans and count(db, Person) == len(humans)
    assert summary.counts["people created"] == len(humans)
    assert summary.counts["bots"] == len(users) - len(humans)
    for message in stored.values():
        author = message.author_external
        if author in humans:
            assert message.author_person_id == identities[author]
    bot_post = stored["1737160363.583369"]
    assert bot_post.is_bot and bot_post.author_person_id is None


def test_fetching_again_adds_nothing(slack: tuple[FakeSlack, str], db: Session) -> None:
    fake, url = slack
    _script(fake)
    first = _import(db, _client(url, []))
    _script(fake)
    second = _import(db, _client(url, []))
    assert second.source_id != first.source_id  # each fetch is a source
    assert second.counts["messages"] == 0
    assert second.counts["messages already present"] == first.counts["messages"] == 14
    assert count(db, Message) == 14 and count(db, Channel) == 1
    assert second.counts["people created"] == 0


def test_into_an_incident_sends_its_window_and_attaches_the_channel(
    slack: tuple[FakeSlack, str], db: Session
) -> None:
    fake, url = slack
    _script(fake)
    with writing(db):
        incident, _ = repo.declare(
            db,
            SYSTEM,
            repo.IncidentInput(
                title="thread storm",
                severity="SEV2",
                milestones={
                    "started": datetime(2025, 1, 10, 3, 0, tzinfo=UTC),
                    "declared": datetime(2025, 1, 10, 3, 0, tzinfo=UTC),
                },
            ),
        )
        public_id = incident.public_id
    since = datetime(2025, 1, 10, tzinfo=UTC)
    until = datetime(2025, 1, 11, 0, 30, tzinfo=UTC)

    summary = _import(db, _client(url, []), incident=public_id, since=since, until=until)

    first = fake.calls("conversations.history")[0]
    assert (first["oldest"], first["latest"]) == ("1736467200.000000", "1736555400.000000")
    assert summary.incident == public_id
    attached = db.scalar(select(IncidentChannel))
    assert attached is not None and attached.source_id == summary.source_id
    assert (attached.since, attached.until) == (since, until)
    # the fake ignores the window, as a recorded reply would; the importer still keeps
    # only messages inside it
    kept = sorted(db.scalars(select(Message.ts)))
    assert kept and all(since.timestamp() <= float(ts) < until.timestamp() for ts in kept)
    assert "1737160363.583369" not in kept


def test_a_failure_mid_way_leaves_the_database_unchanged(
    slack: tuple[FakeSlack, str], db: Session
) -> None:
    fake, url = slack
    _script(fake, fail_second_history_page=True)
    before = row_counts(db)
    with pytest.raises(ImportFailed, match="internal_error") as caught:
        _import(db, _client(url, []))
    assert caught.value.details["where"] == f"conversations.history {CHANNEL}"
    # users were linked and the first page written before the failure: all rolled back
    assert [q.get("cursor") for q in fake.calls("conversations.history")] == [
        None,
        "history-2",
    ]
    assert row_counts(db) == before


def test_rate_limits_past_the_retry_budget_fail_cleanly(
    slack: tuple[FakeSlack, str], db: Session
) -> None:
    fake, url = slack
    users, channel, _ = _recorded()
    fake.add("users.list", page("members", users))
    fake.add("conversations.info", {"ok": True, "channel": channel})
    for _ in range(3):
        fake.add("conversations.history", LIMITED, 429, Retry_After="120")
    slept: list[float] = []
    client = make_client("xoxb-test", base_url=url, max_retries=2, max_wait=5, sleep=slept.append)
    before = row_counts(db)
    with pytest.raises(ImportFailed, match="ratelimited"):
        _import(db, client)
    assert slept == [5.0, 5.0]  # Retry-After capped, attempts bounded
    assert row_counts(db) == before


def test_a_broken_connection_mid_way_fails_cleanly(
    slack: tuple[FakeSlack, str], db: Session
) -> None:
    fake, url = slack
    users, channel, messages = _recorded()
    fake.add("users.list", page("members", users))
    fake.add("conversations.info", {"ok": True, "channel": channel})
    fake.add("conversations.history", page("messages", messages[:1], "history-2"))
    for _ in range(3):  # the client retries a broken connection once by itself
        fake.add("conversations.history", {}, DROP)
    before = row_counts(db)
    with pytest.raises(ImportFailed, match="cannot reach Slack") as caught:
        _import(db, _client(url, []))
    assert caught.value.details["where"] == f"conversations.history {CHANNEL}"
    assert row_counts(db) == before


def test_a_cursor_that_comes_back_fails_instead_of_looping(
    slack: tuple[FakeSlack, str], db: Session
) -> None:
    fake, url = slack
    users, channel, messages = _recorded()
    fake.add("users.list", page("members", users))
    fake.add("conversations.info", {"ok": True, "channel": channel})
    for _ in range(3):
        fake.add("conversations.history", page("messages", messages[:1], "same"))
    before = row_counts(db)
    with pytest.raises(ImportFailed, match="cursor 'same' twice"):
        _import(db, _client(url, []))
    assert len(fake.calls("conversations.history")) == 2
    assert row_counts(db) == before


def test_cli_fetches_with_the_token_from_settings(
    slack: tuple[FakeSlack, str], db: Session, database_url: str
) -> None:
    from typer.testing import CliRunner

    from afteraction.cli.main import app

    fake, url = slack
    users, channel, messages = _recorded()
    top = sorted((m for m in messages if m.get("thread_ts") in (None, m["ts"])),
                 key=lambda m: m["ts"], reverse=True)  # fmt: skip
    fake.add("users.list", page("members", users))
    fake.add("conversations.info", {"ok": True, "channel": channel})
    fake.add("conversations.history", page("messages", top))
    for parent in (m for m in top if m.get("reply_count")):
        replies = [m for m in messages if m.get("thread_ts") == parent["ts"] and m is not parent]
        fake.add("conversations.replies", page("messages", [parent, *replies]))
    env = {"AFTERACTION_DATABASE_URL": database_url, "AFTERACTION_ENVIRONMENT": "development"}
    runner = CliRunner()

    missing = runner.invoke(app, ["import", "slack-history", CHANNEL], env=env)
    assert missing.exit_code == 2 and "AFTERACTION_SLACK_BOT_TOKEN" in missing.output
    env |= {"AFTERACTION_SLACK_BOT_TOKEN": "xoxb-cli", "AFTERACTION_SLACK_API_URL": url}
    result = runner.invoke(app, ["import", "slack-history", CHANNEL, "--json"], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["kind"] == "slack_api" and summary["counts"]["messages"] == 14
    assert fake.calls("conversations.history")[0]["channel"] == CHANNEL
    assert count(db, Message) == 14
