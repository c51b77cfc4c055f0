"""Live Slack history client, against a local fake Web API serving recorded payload shapes.

Message objects come from the real slackdump fixture day files; the envelopes
(`ok`, `messages`, `has_more`, `response_metadata.next_cursor`, `members`) are the Web API's.
No network: the fake listens on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.fake_slack import FakeSlack, page, serving

from afteraction.adapters.slack_api import (
    fetch_channel,
    fetch_channel_history,
    fetch_channel_messages,
    fetch_users,
    make_client,
)
from afteraction.adapters.slack_export import open_export
from afteraction.adapters.slack_messages import WarningLog
from afteraction.core.errors import ImportFailed

SLACKDUMP = "slack/slackdump/internal/fixtures/assets/source_export_dir"


@pytest.fixture
def fake() -> Iterator[tuple[FakeSlack, str]]:
    with serving() as running:
        yield running


@pytest.fixture
def recorded(shared_fixtures: Path) -> list[dict[str, Any]]:
    folder = shared_fixtures / SLACKDUMP / "B75B4C7"
    messages: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")):
        messages.extend(json.loads(path.read_text()))
    return messages


def _script_history(slack: FakeSlack, recorded: list[dict[str, Any]]) -> None:
    top = [m for m in recorded if m.get("thread_ts") in (None, m["ts"])]
    newest_first = sorted(top, key=lambda m: m["ts"], reverse=True)
    slack.add("conversations.history", page("messages", newest_first[:5], "page2"))
    slack.add("conversations.history", page("messages", newest_first[5:]))
    parents = [m for m in newest_first if m.get("reply_count")]
    for parent in parents:
        replies = [m for m in recorded if m.get("thread_ts") == parent["ts"] and m is not parent]
        slack.add("conversations.replies", page("messages", [parent, *replies[:1]], "r2"))
        slack.add("conversations.replies", page("messages", replies[1:]))


def _no_sleep() -> tuple[list[float], Callable[[float], None]]:
    slept: list[float] = []
    return slept, slept.append


def test_history_pages_and_threads_match_the_export(
    fake: tuple[FakeSlack, str], recorded: list[dict[str, Any]], shared_fixtures: Path
) -> None:
    slack, url = fake
    _script_history(slack, recorded)
    client = make_client("xoxb-test", base_url=url)
    log = WarningLog()
    live = list(
        fetch_channel_messages(
            client, "CO69735E8A", channel_name="B75B4C7", users={"UOF82F39AE": "ann"}, warn=log
        )
    )
    assert log.count == 0
    assert len(live) == 14  # 10 top-level + 4 replies, no parent repeated
    with open_export(shared_fixtures / SLACKDUMP) as export:
        exported = {m.ts: m for m in export.iter_messages()}
    assert {m.ts for m in live} == set(exported)
    for message in live:  # same parser, same records (export resolves more names)
        expected = exported[message.ts]
        assert (message.thread_ts, message.user_id, message.subtype, message.text) == (
            expected.thread_ts,
            expected.user_id,
            expected.subtype,
            expected.text,
        )
    methods = [(m, q.get("cursor"), q.get("ts")) for m, q, _ in slack.requests]
    assert methods[0] == ("conversations.history", None, None)
    assert ("conversations.history", "page2", None) in methods
    assert ("conversations.replies", "r2", "1736554801.872639") in methods
    assert all(auth == "Bearer xoxb-test" for _, _, auth in slack.requests)


def test_window_is_sent_as_ts_strings(fake: tuple[FakeSlack, str]) -> None:
    slack, url = fake
    slack.add("conversations.history", page("messages", []))
    client = make_client("xoxb-test", base_url=url)
    oldest = datetime(2025, 1, 10, tzinfo=UTC)
    assert (
        list(fetch_channel_history(client, "C1", oldest=oldest, latest="1736600000.000000")) == []
    )
    _, query, _ = slack.requests[0]
    assert (query["oldest"], query["latest"], query["inclusive"]) == (
        "1736467200.000000",
        "1736600000.000000",
        "1",
    )


def test_rate_limit_honours_retry_after_with_a_cap(fake: tuple[FakeSlack, str]) -> None:
    slack, url = fake
    limited = {"ok": False, "error": "ratelimited"}
    slack.add("users.list", limited, status=429, Retry_After="7")
    slack.add("users.list", limited, status=429, Retry_After="600")
    slack.add("users.list", page("members", [{"id": "U1", "name": "ann"}], "next"))
    slack.add("users.list", page("members", [{"id": "U2", "name": "bob", "is_bot": True}]))
    slept, sleep = _no_sleep()
    client = make_client("xoxb-test", base_url=url, max_wait=30, sleep=sleep)
    users = fetch_users(client)
    assert [(u.id, u.is_bot) for u in users] == [("U1", False), ("U2", True)]
    assert slept == [7.0, 30.0]


def test_rate_limit_retries_are_bounded(fake: tuple[FakeSlack, str]) -> None:
    slack, url = fake
    for _ in range(3):
        slack.add("conversations.history", {"ok": False, "error": "ratelimited"}, 429)
    slept, sleep = _no_sleep()
    client = make_client("xoxb-test", base_url=url, max_retries=2, sleep=sleep)
    with pytest.raises(ImportFailed, match="ratelimited") as caught:
        list(fetch_channel_history(client, "C1"))
    assert caught.value.where == "conversations.history C1"
    assert slept == [1.0, 1.0]  # no Retry-After header: wait one second


def test_api_errors_name_the_call(fake: tuple[FakeSlack, str]) -> None:
    slack, url = fake
    slack.add("conversations.history", {"ok": False, "error": "channel_not_found"})
    client = make_client("xoxb-test", base_url=url)
    with pytest.raises(ImportFailed, match="channel_not_found"):
        list(fetch_channel_history(client, "C404"))


def test_bad_message_items_are_skipped_with_warnings(fake: tuple[FakeSlack, str]) -> None:
    slack, url = fake
    body = page("messages", [{"type": "message", "text": "no ts"}, {"ts": "1736478514.897649"}])
    body["messages"].append("junk")
    slack.add("conversations.history", body)
    log = WarningLog()
    client = make_client("xoxb-test", base_url=url)
    found = list(fetch_channel_messages(client, "C1", warn=log))
    assert [m.ts for m in found] == ["1736478514.897649"]
    assert [w.where for w in log.items] == ["conversations.history C1: message 1"]


def test_fetch_channel(fake: tuple[FakeSlack, str], shared_fixtures: Path) -> None:
    slack, url = fake
    listed = json.loads((shared_fixtures / SLACKDUMP / "channels.json").read_text())
    slack.add("conversations.info", {"ok": True, "channel": listed[0]})
    slack.add("conversations.info", {"ok": True})
    client = make_client("xoxb-test", base_url=url)
    channel = fetch_channel(client, "CO69735E8A")
    assert (channel.id, channel.name, channel.kind, len(channel.members)) == (
        "CO69735E8A",
        "B75B4C7",
        "public",
        3,
    )
    with pytest.raises(ImportFailed, match="no channel"):
        fetch_channel(client, "C2")
