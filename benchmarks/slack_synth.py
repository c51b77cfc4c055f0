"""Deterministic synthetic Slack workspace export, written as an unpacked folder.

N messages spread over channels and days (UTC day files, ascending ts), users with emails
and time zones, threads with replies, reactions, user mentions, links (GitHub PRs, Jira,
dashboards), joins with an inviter, edits and a few bot posts. Same arguments, same bytes.

    python benchmarks/slack_synth.py OUT_DIR [--messages 100000] [--channels 20] [--users 300]
                                             [--blocks]
"""

from __future__ import annotations

import argparse
import html
import random
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

START = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp())
WORDS = (
    "deploy rollback latency timeout queue database replica failover alert page customer "
    "checkout payments error rate spike cache eviction retry budget config flag canary "
    "dashboard logs trace metric worker node pod restart memory cpu disk network dns tls "
    "certificate expired on call handover mitigation incident resolved investigating"
).split()


def _users(count: int) -> list[dict[str, Any]]:
    zones = ("America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "America/New_York")
    users = []
    for n in range(count):
        first, last = f"First{n}", f"Last{n}"
        users.append(
            {
                "id": f"U{n:08d}",
                "team_id": "T00000001",
                "name": f"user{n}",
                "deleted": n % 97 == 96,
                "real_name": f"{first} {last}",
                "tz": zones[n % len(zones)],
                "is_bot": False,
                "profile": {
                    "real_name": f"{first} {last}",
                    "display_name": f"user{n}",
                    "email": f"user{n}@example.com",
                    "title": "Engineer",
                },
            }
        )
    users.append(
        {
            "id": "UBOT00001",
            "name": "deploybot",
            "is_bot": True,
            "deleted": False,
            "profile": {"real_name": "Deploy Bot", "bot_id": "B00000001"},
        }
    )
    return users


def _text(rng: random.Random, users: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(4, 18))
    roll = rng.random()
    if roll < 0.15:
        words.insert(rng.randrange(len(words)), f"<@U{rng.randrange(users):08d}>")
    elif roll < 0.20:
        words.append(f"<https://github.com/acme/api/pull/{rng.randint(1, 400)}>")
    elif roll < 0.23:
        words.append(f"<https://acme.atlassian.net/browse/OPS-{rng.randint(1, 300)}|ticket>")
    elif roll < 0.25:
        words.append("<https://grafana.acme.io/d/abc/payments?orgId=1|dashboard>")
    elif roll < 0.27:
        words.append("&lt;3 &amp; thanks")
    return " ".join(words)


def generate(
    out: Path,
    *,
    messages: int,
    channels: int = 20,
    users: int = 300,
    seed: int = 7,
    blocks: bool = False,
) -> dict[str, int]:
    """Write the export under `out` (created); returns counts of what was written. With
    `blocks`, people's messages also carry the rich_text block a current Slack export
    gives them (the same text, mentions and links; the same messages otherwise)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    people = _users(users)
    (out / "users.json").write_bytes(orjson.dumps(people))
    names = [f"chan-{c:03d}" for c in range(channels)]
    listed = [
        {
            "id": f"C{c:08d}",
            "name": names[c],
            "created": START - 86400,
            "creator": "U00000000",
            "members": [f"U{u:08d}" for u in range(0, users, max(1, users // 20))],
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": f"talk about {names[c]}", "creator": "", "last_set": 0},
        }
        for c in range(channels)
    ]
    (out / "channels.json").write_bytes(orjson.dumps(listed))
    share, rest = divmod(messages, channels)
    per_channel = [share + (1 if c < rest else 0) for c in range(channels)]
    written = 0
    for c, count in enumerate(per_channel):
        written += _channel(out / names[c], rng, count, users, blocks)
    return {"messages": written, "users": len(people), "channels": channels}


def _channel(folder: Path, rng: random.Random, count: int, users: int, blocks: bool) -> int:
    folder.mkdir(exist_ok=True)
    per_day = 400
    ts = START * 1_000_000
    day: list[dict[str, Any]] = []
    day_name = ""
    parents: list[str] = []
    for n in range(count):
        ts += rng.randint(1, 200) * 1_000_000 + rng.randint(0, 999_999)
        sec, micro = divmod(ts, 1_000_000)
        name = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%d")
        if (name != day_name and day) or len(day) >= per_day * 3:
            _write_day(folder, day_name, day)
            day = []
        day_name = name
        message = _message(rng, f"{sec}.{micro:06d}", n, users, parents)
        if blocks and "user" in message and "subtype" not in message:
            message["blocks"] = _blocks(message["text"])
        day.append(message)
    if day:
        _write_day(folder, day_name, day)
    return count


def _write_day(folder: Path, name: str, day: list[dict[str, Any]]) -> None:
    path = folder / f"{name}.json"
    if path.exists():  # a day split for size: append to the existing array
        day = orjson.loads(path.read_bytes()) + day
    path.write_bytes(orjson.dumps(day))


def _message(rng: random.Random, ts: str, n: int, users: int, parents: list[str]) -> dict[str, Any]:
    user = f"U{rng.randrange(users):08d}"
    if n % 500 == 0:
        return {
            "type": "message",
            "subtype": "channel_join",
            "ts": ts,
            "user": user,
            "inviter": f"U{rng.randrange(users):08d}",
            "text": f"<@{user}> has joined the channel",
        }
    if n % 250 == 7:
        return {
            "type": "message",
            "subtype": "bot_message",
            "ts": ts,
            "bot_id": "B00000001",
            "username": "deploybot",
            "text": "",
            "attachments": [{"fallback": "deploy finished", "text": _text(rng, users)}],
        }
    message: dict[str, Any] = {"type": "message", "ts": ts, "user": user}
    message["text"] = _text(rng, users)
    if n % 10 == 0:
        message["thread_ts"] = ts
        message["reply_count"] = 2
        parents.append(ts)
        del parents[:-5]
    elif parents and n % 10 in (1, 2):
        message["thread_ts"] = parents[-1]
        message["parent_user_id"] = user
    if n % 8 == 0:
        message["reactions"] = [
            {"name": "eyes", "count": 2, "users": [user, f"U{rng.randrange(users):08d}"]}
        ]
    if n % 40 == 3:
        message["edited"] = {"user": user, "ts": ts}
    return message


_SEQUENCE = re.compile(r"<([^<>]*)>")


def _blocks(text: str) -> list[dict[str, Any]]:
    """The rich_text block Slack sends with a person's message of this mrkdwn text."""
    elements: list[dict[str, Any]] = []
    pos = 0
    for match in _SEQUENCE.finditer(text):
        if match.start() > pos:
            elements.append({"type": "text", "text": html.unescape(text[pos : match.start()])})
        inner = match.group(1)
        if inner.startswith("@"):
            elements.append({"type": "user", "user_id": inner[1:]})
        else:
            url, _, label = inner.partition("|")
            link = {"type": "link", "url": url}
            elements.append(link | {"text": label} if label else link)
        pos = match.end()
    if pos < len(text):
        elements.append({"type": "text", "text": html.unescape(text[pos:])})
    section = {"type": "rich_text_section", "elements": elements}
    return [{"type": "rich_text", "block_id": "b", "elements": [section]}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--blocks", action="store_true", help="rich_text blocks as Slack sends")
    args = parser.parse_args()
    counts = generate(
        args.out,
        messages=args.messages,
        channels=args.channels,
        users=args.users,
        blocks=args.blocks,
    )
    print(counts)


if __name__ == "__main__":
    main()
