"""Benchmark the report path: the blame-aware check over a 5,000-word report, the report's
standalone HTML (diagrams included) for an incident with 10,000 chat messages, and its PDF.

Run: python benchmarks/report.py. Synthetic, seeded data in a temporary SQLite database.
Baselines measured in the same run: a plain phrase-list regex over the same text, and
rendering the report's Markdown alone. Targets: check ≤ 50 ms, HTML ≤ 0.5 s, PDF ≤ 5 s.
"""

from __future__ import annotations

import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from afteraction.core.access import SYSTEM
from afteraction.core.analysis.language import check_text
from afteraction.services import incidents as repo
from afteraction.services import report_export, report_publishing, reports
from afteraction.storage.db import make_engine, make_session_factory, upgrade, writing
from afteraction.storage.evidence_tables import Channel, IncidentChannel, Message, Source
from afteraction.storage.tables import Person
from afteraction.web.templating import render_markdown

SENTENCES = (
    "The health check did not pass after the deploy.",
    "The on-call engineer failed to notice the second alert.",
    "Requests failed to connect to the database for twelve minutes.",
    "We should have rolled back sooner.",
    "The pool was sized for last year's traffic.",
    "Dashboards showed different error rates for the same service.",
    "Just restart the service and it recovers.",
    "Each repository should have a pipeline.",
    "The root cause was a configuration change.",
    "Responders discussed three hypotheses in the channel.",
)
PHRASES = re.compile(
    r"\b(should have|could have|would have|failed to|did not|didn't|missed|root cause|"
    r"just|obviously|clearly|human error|post-mortem|RCA)\b",
    re.IGNORECASE,
)


def median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def report_text(words: int, rng: random.Random) -> str:
    parts, count = ["# INC-1: Synthetic"], 0
    while count < words:
        if rng.random() < 0.05:
            parts.append(f"\n## Section {len(parts)}\n")
        sentence = rng.choice(SENTENCES)
        parts.append(sentence)
        count += len(sentence.split())
    return " ".join(parts)


def build_incident(url: str, messages: int, rng: random.Random) -> int:
    upgrade(url)
    engine = make_engine(url)
    session = make_session_factory(engine)()
    start = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
    with writing(session):
        people = [Person(name=f"Person {i}", email=f"p{i}@example.com") for i in range(40)]
        session.add_all(people)
        incident, _ = repo.declare(
            session,
            SYSTEM,
            repo.IncidentInput(
                title="Payments timeouts (scaled)",
                severity="SEV1",
                milestones={"started": start, "resolved": start + timedelta(hours=6)},
            ),
        )
        source = Source(kind="slack", origin="bench", checksum="0" * 64, incident_id=incident.id)
        channel = Channel(external_id="C1", name="inc-payments")
        session.add_all([source, channel])
        session.flush()
        session.add(IncidentChannel(incident_id=incident.id, channel_id=channel.id))
        rows = [
            {
                "channel_id": channel.id,
                "source_id": source.id,
                "ts": f"{1760950800 + i}.000100",
                "at": start + timedelta(seconds=2 * i),
                "author_person_id": people[int(rng.paretovariate(1.2)) % 40].id,
                "author_name": "",
                "text_raw": rng.choice(SENTENCES),
                "text_plain": rng.choice(SENTENCES),
            }
            for i in range(messages)
        ]
        session.execute(Message.__table__.insert(), rows)
        reports.create_report(session, SYSTEM, incident.number)
        report_publishing.change_state(session, SYSTEM, incident.number, "in review")
        report_publishing.change_state(
            session, SYSTEM, incident.number, "published", confirmed=True
        )
        number = incident.number
    session.close()
    engine.dispose()
    return number


def main() -> None:
    rng = random.Random(6)
    text = report_text(5000, rng)
    check_text(text)  # warm the compiled patterns
    check = median_ms(lambda: check_text(text, people=[f"Person {i}" for i in range(40)]), 20)
    phrase = median_ms(lambda: list(PHRASES.finditer(text)), 20)
    print(
        f"blame-aware check, {len(text.split()):,} words: median {check:.1f} ms "
        f"(target ≤ 50 ms); phrase-list baseline {phrase:.2f} ms; ratio {check / phrase:.0f}x"
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        number = build_incident(url, 10_000, rng)
        engine = make_engine(url)
        session = make_session_factory(engine)()
        body = reports.readable(session, SYSTEM, number).version.body
        report_export.export(session, SYSTEM, number, "html")  # warm vl-convert
        html = median_ms(lambda: report_export.export(session, SYSTEM, number, "html"), 5)
        markdown = median_ms(lambda: render_markdown(body), 5)
        pdf = median_ms(lambda: report_export.export(session, SYSTEM, number, "pdf"), 3)
        print(
            f"report HTML, 10,000 messages: median {html:.0f} ms (target ≤ 500 ms); "
            f"Markdown-only baseline {markdown:.1f} ms; ratio {html / markdown:.0f}x"
        )
        print(
            f"report PDF, 10,000 messages: median {pdf:.0f} ms (target ≤ 5000 ms); "
            f"ratio to HTML {pdf / html:.1f}x"
        )
        session.close()
        engine.dispose()


if __name__ == "__main__":
    main()
