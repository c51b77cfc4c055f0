"""The flagship incident: its record read from data files, and its evidence files in real
formats, consistent with each other and with the organisation."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from afteraction.demo import flagship as fs
from afteraction.demo.generate import build_org
from afteraction.demo.model import DemoOrg, team_on

EVIDENCE = Path(fs.__file__).resolve().parent / "evidence" / "flagship"
MENTION_RE = re.compile(r"<@(U[A-Z0-9]+)(?:\|[^>]*)?>")
TS_RE = re.compile(r"^\d{10}\.\d{6}$")
PAYLANE_GUEST_ID = "U0PLXVNDR1"
"""A Slack Connect guest from the payment provider, mentioned but absent from users.json."""


@pytest.fixture(scope="module")
def org() -> DemoOrg:
    return build_org()


@pytest.fixture(scope="module")
def evidence() -> Path:
    return EVIDENCE


def load(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


def day_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "slack").glob("*/*.json"))


def all_messages(root: Path) -> list[dict]:
    return [m for path in day_files(root) for m in load(path)]


def person(org: DemoOrg, first_name: str):
    """The person whose roster key starts with `first_name` (`lena` is lena.vogel)."""
    return next(p for p in org.people if p.email.startswith(f"{first_name}."))


def local_hour(org, handle: str, when: datetime) -> int:
    return when.astimezone(ZoneInfo(person(org, handle).time_zone)).hour


# ---------------------------------------------------------------- the incident record


def test_flagship_record(org):
    incident = fs.flagship_of(org)
    assert incident is org.incidents[-1] and incident.number == len(org.incidents)
    assert incident.severity == "SEV1" and incident.status == "closed"
    assert incident.problem == "PRB-101"
    commanders = [r for r in incident.roles if r.role == "commander"]
    assert [r.person_email for r in commanders] == [
        person(org, "maya").email,
        person(org, "arjun").email,
    ]
    assert commanders[0].end == commanders[1].start
    assert {"github pr", "jira", "dashboard", "github commit"} <= {
        r.kind for r in incident.references
    }
    assert {a.kind for a in incident.action_items} == {"recovery", "prevention", "learning"}


def test_cast_must_exist():
    with pytest.raises(ValueError, match="cast missing"):
        fs.build_flagship_incident(1, [], date(2026, 11, 2))


def test_record_moves_with_the_day_the_demo_is_built_for(org):
    later = fs.build_flagship_incident(7, org.people, date(2026, 11, 12))
    incident = fs.flagship_of(org)
    assert later.milestones["started"] - incident.milestones["started"] == timedelta(days=10)
    assert later.action_items[0].due - incident.action_items[0].due == timedelta(days=10)
    assert later.roles == tuple(
        replace(r, start=r.start + timedelta(days=10), end=r.end and r.end + timedelta(days=10))
        for r in incident.roles
    )


def test_record_agrees_with_the_evidence(org, evidence):
    incident = fs.flagship_of(org)
    pd = load(evidence / "pagerduty" / "incident.json")["incident"]
    resolved = datetime.fromisoformat(pd["resolved_at"])
    assert incident.milestones["resolved"] == resolved
    first_ack = datetime.fromisoformat(pd["acknowledgements"][0]["at"])
    assert incident.milestones["acknowledged"] == first_ack
    names = {c["name"] for c in load(evidence / "slack" / "channels.json")}
    assert f"inc-{incident.number}-payments-timeouts" in names


def test_former_member_and_off_call_helper(org):
    incident = fs.flagship_of(org)
    day = incident.milestones["started"].date()
    tomas = person(org, "tomas")
    assert tomas.team != "payments" and team_on(tomas, day - timedelta(days=300)) == "payments"
    lena = person(org, "lena")
    assert lena.team == "platform"
    paged = at_of(org, incident, "lena")
    assert local_hour(org, "lena", paged) == 2


def at_of(org, incident, handle: str) -> datetime:
    email = person(org, handle).email
    return next(r.start for r in incident.roles if r.person_email == email)


def test_analysis_reads_its_files():
    analysis = fs.flagship_analysis()
    assert len(analysis.notes) == 7 and {n.kind for n in analysis.notes} >= {"theme", "risk"}
    assert all(note.cites for note in analysis.notes)
    assert all(a.ts and a.quote for a in analysis.annotations)
    with_notes = [i for i in analysis.interviews if i.notes]
    assert len(with_notes) == 1
    assert with_notes[0].notes.startswith("Interview notes (confidential)")


# ---------------------------------------------------------------- Slack export


def test_users_json_shape(evidence):
    users = load(evidence / "slack" / "users.json")
    assert isinstance(users, list) and len(users) >= 40
    for user in users:
        assert {
            "id",
            "name",
            "real_name",
            "deleted",
            "is_bot",
            "tz",
            "tz_offset",
            "profile",
        } <= set(user)
        assert {"real_name", "display_name", "title", "image_72"} <= set(user["profile"])
    humans = [u for u in users if not u["is_bot"]]
    assert all("@" in u["profile"]["email"] for u in humans)
    assert [u["real_name"] for u in humans if u["deleted"]] == ["Peter Alvarez"]
    assert any(u["is_bot"] and u["deleted"] for u in users)


def test_channels_json_shape(evidence, org):
    channels = load(evidence / "slack" / "channels.json")
    names = {c["name"] for c in channels}
    assert names == {f"inc-{fs.flagship_of(org).number}-payments-timeouts", "payments-eng"}
    user_ids = {u["id"] for u in load(evidence / "slack" / "users.json")}
    for channel in channels:
        assert channel["id"].startswith("C") and isinstance(channel["created"], int)
        assert set(channel["members"]) <= user_ids
        assert {"value", "creator", "last_set"} <= set(channel["topic"])
        assert {"value", "creator", "last_set"} <= set(channel["purpose"])
        assert (evidence / "slack" / channel["name"]).is_dir()


def test_day_files_are_lists_in_their_utc_day(evidence):
    for path in day_files(evidence):
        messages = load(path)
        assert isinstance(messages, list) and messages
        stamps = []
        for message in messages:
            assert message["type"] == "message"
            assert isinstance(message["ts"], str) and TS_RE.match(message["ts"]), message["ts"]
            seconds, fraction = (int(part) for part in message["ts"].split("."))
            day = datetime.fromtimestamp(seconds, tz=UTC).date().isoformat()
            assert day == path.stem
            stamps.append((seconds, fraction))
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_a_few_hundred_messages_over_local_midnight(evidence, org):
    messages = all_messages(evidence)
    assert 200 <= len(messages) <= 400
    spans = set()
    for message in messages:
        user = message.get("user")
        for handle in ("jordan", "maya", "lena", "isabel"):
            if user == person(org, handle).slack_id:
                when = datetime.fromtimestamp(int(message["ts"].split(".")[0]), tz=UTC)
                spans.add((handle, when.astimezone(ZoneInfo(person(org, handle).time_zone)).date()))
    assert len({d for h, d in spans if h == "maya"}) >= 2


def test_mentions_resolve_except_the_guest(evidence):
    user_ids = {u["id"] for u in load(evidence / "slack" / "users.json")}
    mentioned = set()
    for message in all_messages(evidence):
        mentioned.update(MENTION_RE.findall(message.get("text", "")))
    assert PAYLANE_GUEST_ID in mentioned
    assert mentioned - user_ids == {PAYLANE_GUEST_ID}


def test_every_author_and_reactor_exists(evidence):
    user_ids = {u["id"] for u in load(evidence / "slack" / "users.json")}
    for message in all_messages(evidence):
        if "user" in message:
            assert message["user"] in user_ids
        for reaction in message.get("reactions", []):
            assert set(reaction["users"]) <= user_ids
            assert reaction["count"] == len(reaction["users"])


def test_slack_quirks_are_present(evidence, org):
    messages = all_messages(evidence)
    subtypes = {m.get("subtype") for m in messages}
    assert {None, "channel_join", "channel_topic", "bot_message", "file_share"} <= subtypes
    joins = [m for m in messages if m.get("subtype") == "channel_join"]
    assert any("inviter" in m for m in joins) and any("inviter" not in m for m in joins)
    invited = {m["user"]: m["inviter"] for m in joins if "inviter" in m}
    assert invited[person(org, "lena").slack_id] == person(org, "maya").slack_id
    assert invited[person(org, "tomas").slack_id] == person(org, "jordan").slack_id
    assert invited[person(org, "daniel").slack_id] == person(org, "maya").slack_id
    bots = [m for m in messages if m.get("subtype") == "bot_message"]
    assert any("user" not in m and m["text"] == "" and m["attachments"] for m in bots)
    assert any("edited" in m for m in messages)
    files = [f for m in messages for f in m.get("files", [])]
    assert files and all("?t=xoxe-" in f["url_private"] for f in files)
    texts = " ".join(m.get("text", "") for m in messages)
    assert "&amp;" in texts and "&lt;" in texts and "&gt;" in texts
    assert re.search(r"<https://github\.com/[^|>]+/pull/\d+\|[^>]+>", texts)
    assert "<!here>" in texts and "upgrading to SEV1" in texts
    for phrase in ("should have", "root cause", "human error", "failed to"):
        assert phrase in texts


def test_threads_are_consistent(evidence):
    by_ts = {}
    for message in all_messages(evidence):
        by_ts[message["ts"]] = message
    parents = [m for m in by_ts.values() if m.get("reply_count")]
    assert len(parents) >= 10
    for parent in parents:
        assert parent["thread_ts"] == parent["ts"]
        for reply in parent["replies"]:
            child = by_ts[reply["ts"]]
            assert child["thread_ts"] == parent["ts"]
            assert child["parent_user_id"] == parent["user"]
        assert parent["latest_reply"] == parent["replies"][-1]["ts"]
    replies_across_days = [
        m for m in by_ts.values() if m.get("thread_ts") and m["thread_ts"][:10] != m["ts"][:10]
    ]
    assert replies_across_days


# ---------------------------------------------------------------- PagerDuty


def test_pagerduty_shapes_and_users(evidence, org):
    pd = evidence / "pagerduty"
    incident = load(pd / "incident.json")["incident"]
    assert incident["type"] == "incident" and incident["status"] == "resolved"
    body = load(pd / "log_entries.json")
    assert body["more"] is False and {"limit", "offset"} <= set(body)
    user_ids = {u["id"] for u in load(pd / "users.json")["users"]}
    types = set()
    for entry in body["log_entries"]:
        types.add(entry["type"])
        refs = [entry.get("agent"), entry.get("user"), *entry.get("assignees", [])]
        for ref in refs:
            if ref and ref["type"] == "user_reference":
                assert ref["id"] in user_ids
        if entry["type"] == "notify_log_entry":
            assert entry["channel"]["notification"]["type"].endswith("_notification")
        if entry["type"] == "escalate_log_entry":
            assert entry["escalation_level"] == 2
    assert {
        "trigger_log_entry",
        "notify_log_entry",
        "escalate_log_entry",
        "acknowledge_log_entry",
        "assign_log_entry",
        "annotate_log_entry",
        "resolve_log_entry",
    } <= types
    for entry in load(pd / "oncalls.json")["oncalls"]:
        assert entry["user"]["id"] in user_ids and entry["escalation_level"] >= 1
    for schedule in load(pd / "schedules.json")["schedules"]:
        for item in schedule["final_schedule"]["rendered_schedule_entries"]:
            assert item["user"]["id"] in user_ids


def test_off_call_person_paged_at_night(evidence, org):
    pd = evidence / "pagerduty"
    lena = person(org, "lena").pagerduty_id
    notified = [
        e
        for e in load(pd / "log_entries.json")["log_entries"]
        if e["type"] == "notify_log_entry" and e["user"]["id"] == lena
    ]
    assert notified
    when = datetime.fromisoformat(notified[0]["created_at"])
    assert local_hour(org, "lena", when) == 2
    on_call = [
        e
        for e in load(pd / "oncalls.json")["oncalls"]
        if e["user"]["id"] == lena
        and e["start"]
        and datetime.fromisoformat(e["start"]) <= when < datetime.fromisoformat(e["end"])
    ]
    assert on_call == []


# ---------------------------------------------------------------- roster and transcripts


def test_every_person_is_the_same_in_the_evidence(evidence, org):
    slack = {u["id"]: u for u in load(evidence / "slack" / "users.json")}
    pagerduty = {u["id"]: u for u in load(evidence / "pagerduty" / "users.json")["users"]}
    rows = csv.DictReader(io.StringIO((evidence / "roster.csv").read_text("utf-8")))
    roster = {row["email"]: row for row in rows}
    day = fs.flagship_of(org).milestones["started"].date()
    for someone in org.people:
        assert slack[someone.slack_id]["profile"]["email"] == someone.email
        assert slack[someone.slack_id]["deleted"] == (someone.end_date is not None)
        employed = someone.end_date is None or someone.end_date > day
        assert (someone.pagerduty_id in pagerduty) == employed, someone.email
        if employed:
            assert pagerduty[someone.pagerduty_id]["email"] == someone.email
        row = roster[someone.email]
        assert (row["name"], row["title"], row["timezone"]) == (
            someone.name,
            someone.title,
            someone.time_zone,
        )
        assert row["startDate"] == someone.start_date.isoformat()
        assert row["endDate"] == (someone.end_date.isoformat() if someone.end_date else "")


def test_roster_csv(evidence, org):
    rows = list(csv.DictReader(io.StringIO((evidence / "roster.csv").read_text("utf-8"))))
    assert len(rows) == len(org.people)
    assert list(rows[0])[:7] == [
        "name",
        "email",
        "location",
        "title",
        "team",
        "manager",
        "startDate",
    ]
    tomas = next(r for r in rows if r["email"] == person(org, "tomas").email)
    assert tomas["previousTeam"] == "Payments" and tomas["teamChangeDate"]
    assert sum(bool(r["endDate"]) for r in rows) == 1


def test_transcripts(evidence):
    vtt = (evidence / "transcripts" / "review-meeting.vtt").read_text("utf-8")
    assert vtt.startswith("WEBVTT\n\n")
    cues = vtt.strip().split("\n\n")[1:]
    assert 35 <= len(cues) <= 45
    timing = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}$")
    unattributed = 0
    for number, cue in enumerate(cues, start=1):
        ident, times, payload = cue.split("\n")
        assert ident == str(number) and timing.match(times)
        unattributed += not re.match(r"^[^:]{3,40}: ", payload)
    assert unattributed == 1
    chat = (evidence / "transcripts" / "zoom-chat.txt").read_text("utf-8").splitlines()
    assert chat and all(re.match(r"^\d{2}:\d{2}:\d{2}\t[^\t]+:\t.+$", line) for line in chat)


def test_readme_says_fictional(evidence):
    text = (evidence / "README.md").read_text("utf-8")
    assert "Fictional" in text and "not generated" in text
