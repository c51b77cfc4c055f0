"""Slack export reading: the real fixtures, zip and folder forms, hostile input, streaming.

Expected counts below were checked by hand with jq one-offs over the fixture day files
(e.g. `cat */*.json | jq -s 'add | group_by(.subtype) | map({k:.[0].subtype, n:length})'`).
"""

from __future__ import annotations

import json
import os
import stat
import tracemalloc
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from afteraction.adapters.slack_export import SlackExport, open_export
from afteraction.adapters.slack_messages import usual_message
from afteraction.adapters.slack_records import (
    ExportLimits,
    ParsedMessage,
    datetime_to_ts,
    redact_tokens,
    ts_key,
    ts_to_datetime,
)
from afteraction.core.errors import ImportFailed, NotFound, ValidationError

HFARAN = "slack/slack-export-viewer/tests/testarchive_zip_contents"
SLACKDUMP = "slack/slackdump/internal/fixtures/assets/source_export_dir"
MPIMS = "slack/slackdump/internal/fixtures/assets/export"


def _all(export: SlackExport, **kwargs: Any) -> list[ParsedMessage]:
    return list(export.iter_messages(**kwargs))


def write_export(root: Path, files: dict[str, Any]) -> Path:
    """Write an export folder: values are JSON-able objects or raw bytes."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return root


def zip_folder(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    return target


def minimal(messages: Any, name: str = "2016-01-14.json") -> dict[str, Any]:
    return {
        "users.json": [{"id": "U1", "name": "ann", "profile": {"display_name": "Ann"}}],
        "channels.json": [{"id": "C1", "name": "general", "created": "1452837318"}],
        f"general/{name}": messages,
    }


def msg(ts: str, text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "user": "U1", "text": text, "ts": ts, **extra}


# --- real exports ---------------------------------------------------------------------


def test_hfaran_official_2016_export(shared_fixtures: Path) -> None:
    with open_export(shared_fixtures / HFARAN) as export:
        users = {u.id: u for u in export.users()}
        channels = export.channels()
        messages = _all(export)
        assert export.warnings == [] and export.warning_count == 0
    assert len(users) == 4
    assert users["U0BMYT2FL"].real_name == "Harry Potter"
    assert users["U0BMYT2FL"].display_name == "abilinski"
    assert users["U0BMYT2FL"].tz == "America/Los_Angeles"
    assert users["U0BMYT2FL"].email is None
    assert [(c.id, c.name, c.kind) for c in channels] == [
        ("C0JGLMMNX", "enrique", "public"),
        ("C0JL6CGQ2", "traveling-sailor", "public"),
    ]
    assert channels[0].created == datetime(2016, 1, 15, 5, 55, 18, tzinfo=UTC)  # a string
    assert channels[0].creator == "U0BMQB6JE" and len(channels[0].members) == 4

    assert len(messages) == 42
    assert Counter(m.subtype for m in messages) == {
        None: 12,
        "bot_message": 24,
        "channel_join": 4,
        "file_share": 1,
        "file_comment": 1,
    }
    bots = [m for m in messages if m.subtype == "bot_message"]
    assert all(m.user_id is None and m.bot_id and m.is_bot for m in bots)
    # their content is in attachments, kept as their text
    assert all(m.text == m.attachments_text and m.plain for m in bots)
    commit = next(m for m in bots if "Implement killTask" in m.plain)  # pretext, then text
    assert commit.plain.startswith("[enrique:master] 1 new commit by hfaran:\nb698a38: ")
    assert sum(1 for m in messages if m.thread_ts) == 0

    joins = [m for m in messages if m.subtype == "channel_join"]
    assert [m.inviter for m in joins] == [None, "U0BMQB6JE", "U0BMQB6JE", "U0BMQB6JE"]
    assert joins[1].plain == "@abilinski has joined the channel"

    edited = [m for m in messages if m.edited_ts]
    assert [(m.ts, m.edited_by, m.edited_at) for m in edited] == [
        ("1458972985.000010", "U0BMQB6JE", datetime(2016, 3, 26, 8, 32, 14, tzinfo=UTC))
    ]

    reacted = [m for m in messages if m.reactions]
    assert [(m.ts, [(r.name, r.count, r.users) for r in m.reactions]) for m in reacted] == [
        ("1459154014.000018", [("botman", 1, ("U0BMYT2FL",))])
    ]

    comment = next(m for m in messages if m.subtype == "file_comment")
    assert comment.user_id == "U0BMS113R"  # from comment.user: the message has no `user`
    share = next(m for m in messages if m.subtype == "file_share")
    assert share.file_links == (
        "https://mesos-magellan.slack.com/files/U0BMS113R/F0VQ4C4BT/10_cities.js",
    )
    assert share.bot_id is None and not share.is_bot  # "bot_id": null
    assert share.plain == "@doubledeez uploaded a file: 10 cities"


def test_hfaran_times_come_from_ts_not_file_names(shared_fixtures: Path) -> None:
    with open_export(shared_fixtures / HFARAN) as export:
        first = _all(export, channels=["enrique"])[0]
    assert first.ts == "1452837318.000002"
    # The file is enrique/2016-01-14.json (Pacific day); the UTC instant is the 15th.
    assert first.at == datetime(2016, 1, 15, 5, 55, 18, 2, tzinfo=UTC)


def test_slackdump_threads_tombstone_bots_and_files(shared_fixtures: Path) -> None:
    with open_export(shared_fixtures / SLACKDUMP) as export:
        users = export.users()
        messages = _all(export)
        assert export.warnings == []
    assert len(users) == 10
    assert sum(u.deleted for u in users) == 1
    assert sum(u.is_bot for u in users) == 6
    assert len(messages) == 14
    assert Counter(m.subtype for m in messages) == {None: 12, "channel_join": 1, "tombstone": 1}
    parents = [m for m in messages if m.thread_ts == m.ts]
    replies = [m for m in messages if m.is_thread_reply]
    assert len(parents) == 3 and len(replies) == 4
    assert {m.thread_ts for m in replies} == {m.ts for m in parents}
    assert parents[0].reply_count == 2
    # replies to a 2025-01-10 parent live in 2025-01-11.json
    assert [r.parent_user_id for r in replies if r.thread_ts == "1736478630.905399"] == [
        "UOF82F39AE",
        "UOF82F39AE",
    ]
    tombstone = next(m for m in messages if m.subtype == "tombstone")
    assert tombstone.hidden
    assert sum(m.hidden for m in messages) == 1
    bot = next(m for m in messages if m.bot_id)
    assert (bot.user_id, bot.bot_id, bot.edited_by) == (
        "UO0EC43A4792",
        "B089LPE68BB",
        "UO2FDF223549",
    )
    assert bot.author_name == "2NR0w"
    no_text = next(m for m in messages if m.ts == "1736582524.607359")
    assert no_text.text == "" and len(no_text.file_links) == 1
    assert [m.sort_key for m in messages] == sorted(m.sort_key for m in messages)


def test_mpims_list(shared_fixtures: Path) -> None:
    with open_export(shared_fixtures / MPIMS) as export:
        channels = export.channels()
        assert _all(export) == []
        assert [w.where for w in export.warnings] == ["users.json"]
    assert [(c.kind, c.name, len(c.members)) for c in channels] == [
        ("mpim", "mpdm-smith--seymore.a--jane.d-1", 3),
        ("mpim", "mpdm-smith--john.s--jane.d-1", 3),
    ]
    assert channels[0].purpose == "Group messaging with: @smith @seymore.a @jane.d"


@pytest.mark.parametrize("prefix", ["", "export-2016/"])
def test_zip_form_reads_the_same(shared_fixtures: Path, tmp_path: Path, prefix: str) -> None:
    archive = zip_folder(shared_fixtures / HFARAN, tmp_path / "export.zip", prefix)
    with open_export(shared_fixtures / HFARAN) as folder, open_export(archive) as zipped:
        assert _all(zipped) == _all(folder)
        assert zipped.users() == folder.users()
        assert zipped.channels() == folder.channels()


def test_channel_and_time_filters(shared_fixtures: Path) -> None:
    since = datetime(2016, 3, 26, tzinfo=UTC)
    until = datetime(2016, 3, 28, tzinfo=UTC)
    with open_export(shared_fixtures / HFARAN) as export:
        assert len(_all(export, since=since, until=until)) == 10
        assert len(_all(export, channels=["enrique"])) == 25
        assert len(_all(export, channels=["C0JGLMMNX"])) == 25
        assert _all(export, channels=["enrique"], until=datetime(2016, 1, 1, tzinfo=UTC)) == []
        with pytest.raises(NotFound):
            _all(export, channels=["nope"])
        with pytest.raises(ValidationError):
            _all(export, since=datetime(2016, 3, 26))  # noqa: DTZ001 - naive on purpose


def test_to_record(shared_fixtures: Path) -> None:
    known = {"U0BMQB6JE": "person:1", "U0BMYT2FL": "person:2"}
    with open_export(shared_fixtures / HFARAN) as export:
        messages = {m.ts: m for m in _all(export)}
    join = messages["1452837318.000003"].to_record(known.get)
    assert (join.author_key, join.inviter_key, join.channel) == ("person:2", "person:1", "enrique")
    assert join.mention_keys == ("person:2",)
    bot = messages["1459154014.000018"].to_record(known.get)
    assert bot.author_key == "slack:B0JL6RASU" and bot.is_bot
    assert bot.reactions[0].user_keys == ("person:2",)
    edited = messages["1458972985.000010"].to_record(known.get)
    assert edited.edited_at == datetime(2016, 3, 26, 8, 32, 14, tzinfo=UTC)
    assert edited.at == ts_to_datetime("1458972985.000010")


# --- ts handling ----------------------------------------------------------------------


def test_ts_is_kept_exact_and_sorted_numerically(tmp_path: Path) -> None:
    root = write_export(
        tmp_path,
        minimal(
            [msg("1000000000.000001"), msg("999999999.000010"), msg("999999999.000009")],
            name="2001-09-09.json",
        ),
    )
    with open_export(root) as export:
        assert [m.ts for m in _all(export)] == [
            "999999999.000009",
            "999999999.000010",
            "1000000000.000001",
        ]
    assert ts_key("1454884927.000002") == (1454884927, 2)
    assert ts_key("1454884927.5") == (1454884927, 500000)
    assert datetime_to_ts(ts_to_datetime("1454884927.000002")) == "1454884927.000002"
    with pytest.raises(ValueError):
        ts_key("-1.000000")


def test_redact_tokens() -> None:
    url = "https://files.slack.com/files-pri/T1-F1/a.js?t=xoxe-1234-5678-abcdef"
    assert redact_tokens(url) == "https://files.slack.com/files-pri/T1-F1/a.js?t=xoxe-REDACTED"
    assert redact_tokens("token xoxb-12-34-abc leaked") == "token xoxb-REDACTED leaked"


def test_file_urls_and_text_tokens_are_redacted(tmp_path: Path) -> None:
    file = {"id": "F1", "url_private": "https://files.slack.com/x.png?t=xoxe-99-secret"}
    root = write_export(
        tmp_path,
        minimal([msg("1452837318.000001", "see <https://h/x?t=xoxe-1-2|x>", files=[file])]),
    )
    with open_export(root) as export:
        [message] = _all(export)
    assert message.file_links == ("https://files.slack.com/x.png?t=xoxe-REDACTED",)
    assert "secret" not in message.text and "xoxe-1-2" not in message.text
    assert message.links == ("https://h/x?t=xoxe-REDACTED",)


def _rich(*elements: dict[str, Any]) -> list[dict[str, Any]]:
    """A rich_text block as Slack clients send it (formats.md §1.8)."""
    return [{"type": "rich_text", "block_id": "pYfWB",
             "elements": [{"type": "rich_text_section", "elements": list(elements)}]}]  # fmt: skip


def test_rich_text_blocks_give_exact_mention_targets_and_empty_texts(tmp_path: Path) -> None:
    plain_text_mention = msg("1452837318.000001", "@ann can you look? cc everyone",
                             blocks=_rich({"type": "user", "user_id": "U1"},
                                          {"type": "text", "text": " can you look? cc "},
                                          {"type": "broadcast", "range": "everyone"}))  # fmt: skip
    both = msg("1452837318.000002", "<@U1> see <#C1>",
               blocks=_rich({"type": "user", "user_id": "U1"}, {"type": "text", "text": " see "},
                            {"type": "channel", "channel_id": "C1"}))  # fmt: skip
    only_blocks = msg("1452837318.000003", "", subtype="bot_message", bot_id="B1", blocks=[
        {"type": "rich_text", "elements": [
            {"type": "rich_text_section", "elements": [
                {"type": "text", "text": "Deploy <42> "},
                {"type": "link", "url": "https://ci.example.com/b/42?t=xoxe-1-secret",
                 "text": "build"},
                {"type": "emoji", "name": "rocket"}]},
            {"type": "rich_text_list", "style": "bullet", "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": "api"}]},
                {"type": "rich_text_section", "elements": [
                    {"type": "usergroup", "usergroup_id": "S9"}]}]},
            {"type": "mystery", "elements": []}]},
        {"type": "section", "text": {"type": "mrkdwn", "text": "not rich text"}}])  # fmt: skip
    slackdump_null = msg("1452837318.000004", "plain", blocks=None)
    root = write_export(tmp_path, minimal([plain_text_mention, both, only_blocks,
                                           slackdump_null]))  # fmt: skip
    with open_export(root) as export:
        first, second, third, fourth = _all(export)
    assert first.mentions == ("U1",) and first.broadcasts == ("everyone",)
    assert first.text == "@ann can you look? cc everyone"  # the text itself is kept as sent
    assert second.mentions == ("U1",) and second.channel_mentions == ("C1",)
    assert second.plain == "@Ann see #general"
    assert third.plain == "Deploy <42> build:rocket:\n• api\n• @S9"
    assert third.text == "Deploy &lt;42&gt; build:rocket:\n• api\n• @S9"
    assert third.links == ("https://ci.example.com/b/42?t=xoxe-REDACTED",)
    assert (fourth.text, fourth.mentions) == ("plain", ())


# --- odd but valid input: warnings ----------------------------------------------------


def test_quirks_become_counted_warnings(tmp_path: Path) -> None:
    messages = [
        msg("1452837318.000001"),
        {"type": "message", "text": "no user", "ts": "1452837318.000002"},
        msg("1452837318.000001", "duplicate"),
        {"type": "message", "user": "U1", "text": "num", "ts": 1452837318.5},
        msg("1452837318.000003", subtype="huddle_of_the_future"),
        msg("4102444800.000000", "year 2100"),
        msg("1.000000", "1970"),
        msg("999999999999.000000", "year 33658"),
        {"type": "message", "user": "U1", "text": "no ts"},
        "not an object",
        {"type": "message", "user": 42, "text": 7, "ts": "1452837318.000004"},
        msg("1452837318.000005", reactions=[{"name": "+1", "count": "3", "users": ["U1"]}, {}]),
        msg("1452837318.000006", edited={"user": "U1", "ts": "soon"}),
    ]
    root = write_export(tmp_path, minimal(messages))
    with open_export(root) as export:
        found = {m.ts: m for m in _all(export)}
        reasons = [(w.where, w.reason) for w in export.warnings]
    assert sorted(found) == [
        "1452837318.000001",
        "1452837318.000002",
        "1452837318.000003",
        "1452837318.000004",
        "1452837318.000005",
        "1452837318.000006",
        "1452837318.500000",
    ]
    assert found["1452837318.000002"].user_id is None
    assert found["1452837318.000003"].subtype == "huddle_of_the_future"
    assert (found["1452837318.000004"].user_id, found["1452837318.000004"].text) == ("42", "7")
    assert found["1452837318.000005"].reactions[0].count == 3
    assert found["1452837318.000006"].edited_at is None
    where = "general/2016-01-14.json: message"
    assert [w for w, _ in reasons] == [
        f"{where} 3",
        f"{where} 4",
        f"{where} 5",
        f"{where} 6",
        f"{where} 7",
        f"{where} 8",
        f"{where} 9",
        f"{where} 10",
        f"{where} 11",
        f"{where} 11",
        f"{where} 12",
        f"{where} 13",
    ]
    text = " | ".join(r for _, r in reasons)
    for expected in (
        "duplicate ts",
        "ts is a number",
        "unknown subtype",
        "implausible date",
        "malformed ts",
        "not a message object",
        "user is a int",
        "text is a int",
        "reaction without a name",
        "edited.ts",
    ):
        assert expected in text


def test_warning_list_is_capped_but_counted(tmp_path: Path) -> None:
    root = write_export(tmp_path, minimal([{"no": "ts"}] * 30))
    with open_export(root, limits=ExportLimits(max_warnings_listed=5)) as export:
        assert _all(export) == []
        assert len(export.warnings) == 5 and export.warning_count == 30


def test_single_object_instead_of_array_and_bom(tmp_path: Path) -> None:
    files = minimal(msg("1452837318.000001"))
    files["users.json"] = b"\xef\xbb\xbf" + json.dumps(files["users.json"]).encode()
    files["channels.json"] = json.dumps(files["channels.json"]).encode("utf-16")
    root = write_export(tmp_path, files)
    with open_export(root) as export:
        [message] = _all(export)
        reasons = {w.where: w.reason for w in export.warnings}
    assert message.plain == "hi"
    assert reasons == {
        "users.json": "UTF-8 byte order mark removed",
        "channels.json": "UTF-16 file converted to UTF-8",
        "general/2016-01-14.json": (
            "a single object where an array was expected; read as a one-item array"
        ),
    }


def test_duplicate_users_and_channels_and_unlisted_folders(tmp_path: Path) -> None:
    files = minimal([msg("1452837318.000001")])
    files["users.json"] = files["users.json"] * 2 + [{"name": "no id"}, 5]
    files["channels.json"] = files["channels.json"] * 2
    files["random/2016-01-14.json"] = [msg("1452837318.000001")]
    root = write_export(tmp_path, files)
    with open_export(root) as export:
        assert len(export.users()) == 1 and len(export.channels()) == 1
        messages = _all(export)
        reasons = [(w.where, w.reason) for w in export.warnings]
    assert [(m.channel_id, m.channel_name) for m in messages] == [
        ("C1", "general"),
        ("random", "random"),
    ]
    assert reasons == [
        ("users.json: item 2", "skipped: duplicate id U1"),
        ("users.json: item 3", "skipped: no id"),
        ("users.json: item 4", "skipped: a int, not an object"),
        ("channels.json: item 2", "skipped: duplicate id C1"),
        ("random", "folder not listed in any conversation list; id = folder name"),
    ]


def test_channel_events_and_edits_deletes(tmp_path: Path) -> None:
    messages = [
        msg("1452837318.000001", subtype="channel_name", old_name="tuts", name="tutorials"),
        msg("1452837318.000002", subtype="channel_topic", topic="Sev1 &amp; bridge"),
        msg("1452837318.000003", subtype="channel_purpose", purpose="incidents"),
        {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "ts": "1452837318.000004",
            "message": msg(
                "1452837318.000001", "new <@U1>", edited={"user": "U1", "ts": "1452837318.000004"}
            ),
        },
        {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "ts": "1452837318.000005",
            "deleted_ts": "1452837318.000002",
        },
        msg(
            "1452837318.000006",
            "<!here> see <#C1>",
            subtype="thread_broadcast",
            thread_ts="1452837318.000001",
        ),
    ]
    root = write_export(tmp_path, minimal(messages))
    with open_export(root) as export:
        found = _all(export)
        assert export.warnings == []
    rename, topic, purpose, changed, deleted, broadcast = found
    assert (rename.old_name, rename.name) == ("tuts", "tutorials")
    assert topic.topic == "Sev1 &amp; bridge" and topic.purpose is None
    assert purpose.purpose == "incidents"
    assert (changed.target_ts, changed.plain, changed.mentions, changed.hidden) == (
        "1452837318.000001",
        "new @Ann",
        ("U1",),
        True,
    )
    assert changed.edited_by == "U1"
    assert (deleted.target_ts, deleted.hidden) == ("1452837318.000002", True)
    assert broadcast.broadcasts == ("here",) and broadcast.channel_mentions == ("C1",)
    assert broadcast.plain == "@here see #general"


def test_integration_logs(tmp_path: Path) -> None:
    files = minimal([])
    files["integration_logs.json"] = [
        {
            "user_id": "U1",
            "user_name": "ann",
            "date": "1452837318",
            "change_type": "added",
            "service_type": "GitHub",
            "scope": "incoming-webhook",
            "channel": "general",
        },
        {
            "user_id": "U1",
            "user_name": "ann",
            "date": 1452837319,
            "change_type": "removed",
            "app_type": "app",
            "reason": "user",
        },
    ]
    with open_export(write_export(tmp_path, files)) as export:
        logs = export.integration_logs()
    assert [(e.change_type, e.service, e.at) for e in logs] == [
        ("added", "GitHub", datetime(2016, 1, 15, 5, 55, 18, tzinfo=UTC)),
        ("removed", "app", datetime(2016, 1, 15, 5, 55, 19, tzinfo=UTC)),
    ]


# --- hostile input: errors ------------------------------------------------------------


def _fails(path: Path, **limits: Any) -> ImportFailed:
    with pytest.raises(ImportFailed) as caught:
        with open_export(path, limits=ExportLimits(**limits)) as export:
            export.users()
            export.channels()
            _all(export)
    return caught.value


def _zip(path: Path, members: dict[str, bytes], *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ("../x.json", "path escapes the export folder"),
        ("general/../../x.json", "path escapes the export folder"),
        ("/etc/x", "absolute path"),
        ("C:/windows/x.json", "absolute path"),
        ("..\\x.json", "path escapes the export folder"),
    ],
)
def test_zip_slip_and_absolute_members_are_refused(
    tmp_path: Path, member: str, reason: str
) -> None:
    archive = _zip(tmp_path / "e.zip", {"users.json": b"[]", member: b"[]"})
    error = _fails(archive)
    assert error.where == member and reason in error.message


def test_zip_symlink_member_is_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "e.zip", {"users.json": b"[]"}, symlink="general/2016-01-14.json")
    error = _fails(archive)
    assert error.where == "general/2016-01-14.json" and "symbolic link" in error.message


def test_zip_bomb_ratio_and_total_size(tmp_path: Path) -> None:
    bomb = _zip(
        tmp_path / "bomb.zip",
        {"users.json": b"[]", "general/2016-01-14.json": b" " * (3 * 1024 * 1024)},
    )
    error = _fails(bomb)
    assert error.where == "general/2016-01-14.json" and "zip bomb" in error.message
    big = _zip(tmp_path / "big.zip", {"users.json": b"[]" + b" " * 5000})
    error = _fails(big, max_total_bytes=1000)
    assert "uncompressed size" in error.message


def test_member_over_size_limit(tmp_path: Path) -> None:
    files = minimal([msg("1452837318.000001", "x" * 3000)])
    root = write_export(tmp_path / "dir", files)
    for path in (root, zip_folder(root, tmp_path / "e.zip")):
        error = _fails(path, max_file_bytes=2000)
        assert error.where == "general/2016-01-14.json" and "2,000-byte limit" in error.message


def test_not_a_zip_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "e.zip").write_bytes(b"PK\x03\x04 truncated")
    assert "not a readable zip" in _fails(tmp_path / "e.zip").message
    assert "no such export" in _fails(tmp_path / "missing.zip").message


def test_folder_symlinks_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text("[]")
    root = write_export(tmp_path / "a", minimal([]))
    os.symlink(secret, root / "general" / "2016-01-15.json")
    assert _fails(root).where == "general/2016-01-15.json"
    other = write_export(tmp_path / "b", minimal([]))
    os.symlink(tmp_path / "a" / "general", other / "linked")
    assert _fails(other).where == "linked"


@pytest.mark.parametrize(
    ("content", "where", "message"),
    [
        (b'[{"type": "message", "ts": "1452837318.0', "general/2016-01-14.json", "line 1 column"),
        (b"", "general/2016-01-14.json", "empty file"),
        (
            '[{"text": "caf\xe9", "ts": "1.0"}]'.encode("latin-1"),
            "general/2016-01-14.json",
            "not valid UTF-8: byte 0xe9 at offset 14 (line 1)",
        ),
        (
            b'{"ok": true}',
            "general/2016-01-14.json",
            "expected a JSON array at the top level, found object",
        ),
        (b'"text"', "general/2016-01-14.json", "found string"),
        (b"null", "general/2016-01-14.json", "found null"),
    ],
)
def test_broken_day_files_name_file_and_position(
    tmp_path: Path, content: bytes, where: str, message: str
) -> None:
    root = write_export(tmp_path, minimal(content))
    error = _fails(root)
    assert error.where == where
    assert message in error.message
    assert str(error).startswith(where + ": ")


def test_wrong_top_level_in_users_json(tmp_path: Path) -> None:
    files = minimal([])
    files["users.json"] = {"members": []}
    error = _fails(write_export(tmp_path, files))
    assert error.where == "users.json" and "found object" in error.message


def test_day_files_far_outside_the_window_are_not_opened(tmp_path: Path) -> None:
    files = minimal([msg("1452837318.000001")])
    files["general/2010-01-01.json"] = b"[{ truncated"
    root = write_export(tmp_path, files)
    with open_export(root) as export:
        assert len(_all(export, since=datetime(2016, 1, 1, tzinfo=UTC))) == 1
        with pytest.raises(ImportFailed):
            _all(export)


# --- streaming ------------------------------------------------------------------------


def _generate(root: Path, channels: int, days: int, per_day: int) -> int:
    start = 1_600_000_000
    (root / "users.json").write_text(json.dumps([{"id": "U1", "name": "ann"}]))
    listed = [{"id": f"C{c}", "name": f"chan{c}"} for c in range(channels)]
    (root / "channels.json").write_text(json.dumps(listed))
    for c in range(channels):
        folder = root / f"chan{c}"
        folder.mkdir()
        for d in range(days):
            base = start + d * 86400
            day = datetime.fromtimestamp(base, UTC).date().isoformat()
            batch = [
                msg(f"{base + i}.{i:06d}", f"<@U1> message {i} &amp; <https://e.com/{i}|link>")
                for i in range(per_day)
            ]
            (folder / f"{day}.json").write_bytes(json.dumps(batch).encode())
    return channels * days * per_day


def _peak_while_counting(root: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        with open_export(root) as export:
            count = sum(1 for _ in export.iter_messages())
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_does_not_grow_with_export_size(tmp_path: Path) -> None:
    small = tmp_path / "small"
    large = tmp_path / "large"
    small.mkdir()
    large.mkdir()
    small_total = _generate(small, channels=2, days=20, per_day=500)
    large_total = _generate(large, channels=2, days=200, per_day=500)
    assert large_total == 200_000
    small_count, small_peak = _peak_while_counting(small)
    large_count, large_peak = _peak_while_counting(large)
    assert (small_count, large_count) == (small_total, large_total)
    # Keeping the messages would cost hundreds of MB; one day file at a time costs ~2 MB.
    assert large_peak < 16 * 1024 * 1024
    assert large_peak < small_peak * 3  # 10x the messages, not 10x the memory


def test_a_day_file_parses_as_its_messages_one_by_one() -> None:
    """`parse_day` reads the usual message inline: the same records and the same warnings,
    in the same order, as `parse` item by item (duplicates and unknown subtypes aside)."""
    from afteraction.adapters.slack_messages import MessageParser, WarningLog

    items: list[Any] = [
        {"type": "message", "ts": "1700000000.000100", "user": "U1", "text": "plain words"},
        {"ts": "1700000001.000200", "user": "U2", "text": "hi <@U1> &amp; <https://x.io|x>",
         "thread_ts": "1700000000.000100", "parent_user_id": "U1", "reply_count": "3",
         "reactions": [{"name": "eyes", "users": ["U1"]}, {"users": ["U2"]}]},
        {"ts": "1700000002", "user": "U1", "text": "token xoxb-123-abc in text"},
        {"ts": "1700000003.1", "user": "U1", "text": "edited", "edited": {"ts": "bad"}},
        {"ts": "1700000004.000400", "user": "", "text": "no user"},
        {"ts": "1700000005.000500", "user": 7, "text": 8},
        {"ts": "99.5", "user": "U1", "text": "far past"},
        {"ts": 1700000006.5, "user": "U1", "text": "numeric ts"},
        {"ts": "1700000007.000700", "user": "U1", "text": "blocks", "blocks": []},
        {"ts": "1700000008.000800", "subtype": "channel_join", "user": "U1", "text": "joined"},
        "not an object",
    ]  # fmt: skip

    def parser(log: WarningLog) -> MessageParser:
        return MessageParser(users={"U1": "ada"}, channels={}, warn=log)

    one_by_one_log, day_log = WarningLog(), WarningLog()
    one = parser(one_by_one_log)
    expected = [
        one.parse(item, channel_id="C1", channel_name="c", where=f"d.json: message {n}")
        for n, item in enumerate(items, start=1)
        if isinstance(item, dict)
    ]
    found, seen = parser(day_log).parse_day(items, "d.json", channel_id="C1", channel_name="c")
    assert found == [m for m in expected if m is not None]
    assert len(found) == 9 and seen == {m.ts for m in found}
    assert day_log.items[:-1] == one_by_one_log.items  # the non-object item is warned last
    assert day_log.items[-1].reason == "skipped: a str, not a message object"


@pytest.mark.parametrize(
    ("value", "count"),
    [("3", 3), (" -2 ", -2), ("--5", 0), ("-", 0), ("\u0663", 0), ("9" * 19, 0), ("9" * 400, 0),
     (2**70, 0), (1.5e30, 0), (True, 0)],
)  # fmt: skip
def test_a_count_that_is_not_a_plain_integer_reads_as_none(value: object, count: int) -> None:
    """Counts (reply_count, a reaction's count) take ASCII digits that fit 64 bits; any
    other value is no count, never an error."""
    from afteraction.adapters.slack_messages import MessageParser, WarningLog

    log = WarningLog()
    parser = MessageParser(users={}, channels={}, warn=log)
    raw = {"ts": "1700000000.000100", "user": "U1", "text": "x", "reply_count": value}
    message = parser.parse(raw, channel_id="C1", channel_name="c", where="d.json: message 1")
    assert message is not None and message.reply_count == count


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("1767571451.044539", ("1767571451", "044539")),
        ("1767571451.0445", ("1767571451", "044500")),
        ("1767571451", ("1767571451", "000000")),
        ("1.000001", ("1", "000001")),
        ("1767571451.044539\n", ("1767571451", "044539")),  # as the pattern's `$` allows
        ("123456789012.044539", ("123456789012", "044539")),
        ("1234567890123.044539", None),  # thirteen digits of seconds
        ("1767571451.0445391", None),
        ("+767571451.044539", None),
        ("\u0661\u0662\u0663.044539", None),  # digits, but not ASCII ones
        ("1767571451.\u0660\u0664\u0664\u0665\u0663\u0669", None),
        (".044539", None),
        ("1767571451.", None),
    ],
)
def test_the_usual_message_reads_only_slack_ts_forms(
    ts: str, expected: tuple[str, str] | None
) -> None:
    item = {"type": "message", "ts": ts, "user": "U1", "text": "hi"}
    found = usual_message(item, blocks=False)
    if expected is None:
        assert found is None
    else:
        assert found == (ts, "hi", "U1", *expected)
