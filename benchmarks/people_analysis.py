"""Benchmark: people and coordination analysis on a large synthetic incident.

Builds a deterministic incident (seeded): 200 people in 10 teams, 10,000 chat messages with
joins, mentions, reactions, bot posts and hidden messages, 2,000 PagerDuty log entries (this
incident and a week of earlier ones) and a week of on-call shifts. Times `analyze_people`
(median of 15 runs) against the 200 ms target, beside a baseline measured in the same run:
one pass over the messages counting them per author with `collections.Counter`, the least
any per-person analysis has to do.

Run: python benchmarks/people_analysis.py
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from afteraction.core.analysis.people import IncidentContext, RoleAssignment, analyze_people
from afteraction.core.evidence import (
    EvidenceBundle,
    MembershipRecord,
    MessageRecord,
    PageRecord,
    PersonRecord,
    Reaction,
    ShiftRecord,
)

SEED = 20240305
PEOPLE = 200
MESSAGES = 10_000
PAGES = 2_000
RUNS = 15
TARGET_MS = 200.0
STARTED = datetime(2024, 3, 5, 2, 0, tzinfo=UTC)
ZONES = ("Europe/London", "America/Los_Angeles", "America/New_York", "Asia/Kolkata", None)
WORDS = "the db pool is exhausted rolling back deploy looks like latency error rate ok".split()


def build(rng: random.Random) -> tuple[EvidenceBundle, IncidentContext]:
    keys = [f"u{i:03d}" for i in range(PEOPLE)]
    people = {
        k: PersonRecord(
            k,
            f"Person {k}",
            time_zone=rng.choice(ZONES),
            start_date=date(2015, 1, 1) + timedelta(days=rng.randrange(3300)),
        )
        for k in keys
    }
    people["bot"] = PersonRecord("bot", "Alertbot", is_bot=True)
    memberships = [
        MembershipRecord(k, f"team{i % 10}", date(2015, 1, 1)) for i, k in enumerate(keys)
    ]
    shifts = [
        ShiftRecord(
            rng.choice(keys),
            f"team{t}-primary",
            STARTED - timedelta(days=d),
            STARTED - timedelta(days=d - 1),
        )
        for t in range(10)
        for d in range(7, 0, -1)
    ]
    messages = []
    for i in range(MESSAGES):
        at = STARTED + timedelta(seconds=i * 2)
        author = rng.choice(keys)
        roll = rng.random()
        if roll < 0.02:
            messages.append(
                MessageRecord(
                    "C1",
                    f"{i}",
                    at,
                    author,
                    subtype="channel_join",
                    inviter_key=rng.choice([None, rng.choice(keys)]),
                )
            )
            continue
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 20)))
        mentions = (rng.choice(keys),) if roll < 0.2 else ()
        reactions = (
            (Reaction("eyes", 2, (rng.choice(keys), rng.choice(keys))),) if roll > 0.9 else ()
        )
        messages.append(
            MessageRecord(
                "C1",
                f"{i}",
                at,
                "bot" if roll > 0.97 else author,
                text,
                mention_keys=mentions,
                reactions=reactions,
                hidden=0.3 < roll < 0.31,
            )
        )
    pages = []
    for i in range(PAGES):
        earlier = i % 2 == 0
        at = (
            STARTED - timedelta(minutes=rng.randrange(1, 7 * 24 * 60))
            if earlier
            else (STARTED + timedelta(seconds=rng.randrange(20_000)))
        )
        incident = f"PD-{rng.randrange(300)}" if earlier else "PD-NOW"
        kind = rng.choice(("notify", "notify", "acknowledge", "assign"))
        pages.append(
            PageRecord(
                f"P{i}", incident, kind, at, rng.choice(keys), escalation_level=rng.randrange(1, 4)
            )
        )
    context = IncidentContext(
        start=STARTED,
        end=STARTED + timedelta(hours=6),
        started=STARTED,
        owning_teams=("team0",),
        roles=(RoleAssignment("commander", keys[0], STARTED),),
        page_incident_ids=("PD-NOW",),
    )
    return EvidenceBundle(people, memberships, messages, pages, shifts), context


def median_ms(run: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        begin = time.perf_counter()
        run()
        times.append((time.perf_counter() - begin) * 1000)
    return statistics.median(times)


def main() -> None:
    bundle, context = build(random.Random(SEED))
    history = {k: i % 5 for i, k in enumerate(bundle.people)}
    result = analyze_people(bundle, context, history=history)
    analysis_ms = median_ms(lambda: analyze_people(bundle, context, history=history))
    baseline_ms = median_ms(lambda: Counter(m.author_key for m in bundle.messages))
    print(
        f"incident: {len(bundle.messages)} messages, {len(bundle.people) - 1} people, "
        f"{len(bundle.pages)} pages, {len(bundle.shifts)} shifts "
        f"-> {result.rollup.people_count} people analysed"
    )
    print(
        f"analyze_people  median of {RUNS}: {analysis_ms:8.2f} ms   (target {TARGET_MS:.0f} ms: "
        f"{'met' if analysis_ms <= TARGET_MS else 'MISSED'})"
    )
    print(
        f"baseline        median of {RUNS}: {baseline_ms:8.2f} ms   "
        "(Counter of messages per author, one pass)"
    )
    print(f"ratio analysis / baseline: {analysis_ms / baseline_ms:.1f}x")


if __name__ == "__main__":
    main()
