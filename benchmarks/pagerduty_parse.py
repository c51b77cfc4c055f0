"""Time `parse_log_entries` on 10,000 synthetic PagerDuty log entries.

Entries copy the shapes of the official examples (trigger, notify with `include[]=channels`,
acknowledge, assign, escalate, annotate, resolve), generated with a fixed seed. The baseline
is `orjson.loads` of the same bytes alone, measured in the same run. Target: well under 2 s.

    python benchmarks/pagerduty_parse.py
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import orjson

from afteraction.adapters.pagerduty import parse_log_entries

ENTRIES = 10_000
RUNS = 7
TARGET_MS = 2000.0
KINDS = ["notify"] * 5 + ["trigger", "acknowledge", "assign", "escalate", "annotate", "resolve"]
METHODS = ["sms_notification", "phone_notification", "push_notification", "email_notification"]


def ref(kind: str, ident: str, summary: str) -> dict[str, str]:
    return {
        "id": ident,
        "type": f"{kind}_reference",
        "summary": summary,
        "self": f"https://api.pagerduty.com/{kind}s/{ident}",
        "html_url": f"https://subdomain.pagerduty.com/{kind}s/{ident}",
    }


def make_entry(rng: random.Random, index: int, start: datetime) -> dict[str, object]:
    kind = rng.choice(KINDS)
    incident = f"PINC{index // 40:05d}"
    person = ref("user", f"PU{rng.randrange(200):04d}", "Responder")
    entry: dict[str, object] = {
        "id": f"R{index:024d}",
        "type": f"{kind}_log_entry",
        "summary": f"{kind} entry {index}",
        "self": f"https://api.pagerduty.com/log_entries/R{index:024d}",
        "html_url": None,
        "created_at": (start + timedelta(seconds=index * 7)).isoformat().replace("+00:00", "Z"),
        "agent": person if kind != "trigger" else ref("service", "PSVC001", "API"),
        "channel": {"type": "website"},
        "service": ref("service", "PSVC001", "API"),
        "incident": ref("incident", incident, f"[#{index}] Something broke"),
        "teams": [ref("team", "PTEAM01", "Engineering")],
        "contexts": [],
        "event_details": {},
    }
    if kind == "notify":
        entry["user"] = person
        entry["channel"] = {
            "type": "auto",
            "notification": {
                "id": f"PN{index}",
                "type": rng.choice(METHODS),
                "started_at": entry["created_at"],
                "address": None,
                "user": person,
            },
        }
    elif kind in ("assign", "escalate"):
        entry["assignees"] = [person]
        if kind == "escalate":
            entry["summary"] = f"Escalated to Level {rng.randint(1, 3)} by timeout"
    return entry


def median_ms(action, runs: int = RUNS) -> float:
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def main() -> None:
    rng = random.Random(20240501)
    start = datetime(2024, 5, 1, tzinfo=UTC)
    body = {
        "log_entries": [make_entry(rng, i, start) for i in range(ENTRIES)],
        "limit": 100,
        "offset": 0,
        "more": False,
    }
    raw = orjson.dumps(body)
    pages = parse_log_entries(raw)
    baseline = median_ms(lambda: orjson.loads(raw))
    parse = median_ms(lambda: parse_log_entries(raw))
    print(f"log entries: {ENTRIES:,} ({len(raw) / 1e6:.1f} MB), page records: {len(pages):,}")
    print(f"baseline orjson.loads:  median {baseline:8.1f} ms over {RUNS} runs")
    print(f"parse_log_entries:      median {parse:8.1f} ms over {RUNS} runs")
    print(f"ratio parse / baseline: {parse / baseline:8.1f}x")
    verdict = "OK" if parse <= TARGET_MS else "TOO SLOW"
    print(f"target <= {TARGET_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
