"""Benchmark the analysis workspace on a migrated SQLite file: an incident with 10,000
messages, 200 people and 2,000 pages (seeded, deterministic).

(a) building the bundle from the database + `analyze_people`, against one SQL query that
    fetches the same rows (messages, pages) as the baseline; targets ≤ 200 ms and ≤ 5×.
(b) the transcript's first screen (`/incidents/{id}/transcript`) median server time;
    target ≤ 150 ms.

Run: python benchmarks/analysis_workspace.py
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, text

from afteraction.config import development_settings
from afteraction.core.access import SYSTEM
from afteraction.core.analysis.people import analyze_people
from afteraction.services import incidents as repo
from afteraction.services import users
from afteraction.storage import db as storage_db
from afteraction.storage.analysis_bundle import build_incident_evidence
from afteraction.storage.evidence_tables import (
    Channel,
    IncidentChannel,
    Message,
    OnCallShift,
    Page,
    Source,
)
from afteraction.storage.tables import Identity, Person, Team, TeamMembership

T0 = datetime(2026, 10, 21, 0, 0, tzinfo=UTC)
WORDS = (
    "pool checkout timeout deploy rollback latency gateway looking error retry customers".split()
)


def populate(url: str) -> int:
    rng = random.Random(5)
    engine = storage_db.make_engine(url)
    session = storage_db.make_session_factory(engine)()
    with storage_db.writing(session):
        team = Team(slug="payments", name="Payments")
        session.add(team)
        session.flush()
        session.execute(
            insert(Person),
            [
                {
                    "name": f"Person {i}",
                    "email": f"p{i}@example.com",
                    "time_zone": rng.choice(["Europe/Paris", "America/New_York", None]),
                }
                for i in range(200)
            ],
        )
        ids = [row[0] for row in session.execute(text("SELECT id FROM people ORDER BY id"))]
        session.execute(
            insert(Identity),
            [
                {"person_id": p, "system": "slack", "external_id": f"U{p}", "display_name": ""}
                for p in ids
            ],
        )
        session.execute(
            insert(TeamMembership), [{"person_id": p, "team_id": team.id} for p in ids[:50]]
        )
        incident, _ = repo.declare(
            session,
            SYSTEM,
            repo.IncidentInput(title="Big", severity="SEV1", milestones={"started": T0}),
        )
        users.create_user(
            session,
            SYSTEM,
            email="bench@example.com",
            password="correct horse battery",
            role="investigator",
        )
        source = Source(kind="slack_export", origin="bench", checksum="x")
        channel = Channel(external_id="C1", name="inc-big")
        session.add_all([source, channel])
        session.flush()
        session.add(IncidentChannel(incident_id=incident.id, channel_id=channel.id))
        rows = []
        for i in range(10_000):
            author = rng.choice(ids)
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 25)))
            rows.append(
                {
                    "channel_id": channel.id,
                    "source_id": source.id,
                    "ts": f"{i}.000100",
                    "at": T0 + timedelta(seconds=3 * i),
                    "author_person_id": author,
                    "author_external": f"U{author}",
                    "author_name": f"Person {author}",
                    "text_raw": body,
                    "text_plain": body,
                    "mentions": [f"U{rng.choice(ids)}"] if i % 7 == 0 else None,
                    "reactions": None,
                    "thread_ts": None,
                    "subtype": None,
                    "is_bot": False,
                    "hidden": False,
                }
            )
        session.execute(insert(Message), rows)
        session.execute(
            insert(Page),
            [
                {
                    "source_id": source.id,
                    "system": "pagerduty",
                    "external_id": f"L{i}",
                    "external_incident_id": "PD1",
                    "incident_id": incident.id,
                    "kind": rng.choice(["notify", "acknowledge", "notify"]),
                    "at": T0 + timedelta(seconds=15 * i),
                    "person_id": rng.choice(ids),
                    "summary": "",
                }
                for i in range(2_000)
            ],
        )
        session.execute(
            insert(OnCallShift),
            [
                {
                    "source_id": source.id,
                    "schedule": "primary",
                    "person_external": f"P{p}",
                    "person_id": p,
                    "start": T0 - timedelta(hours=12),
                    "end": T0 + timedelta(hours=12),
                }
                for p in ids[:20]
            ],
        )
        number = incident.number
        incident_id = incident.id
    session.close()
    engine.dispose()
    return number if incident_id else number


def median_ms(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        storage_db.upgrade(url)
        number = populate(url)
        engine = storage_db.make_engine(url)
        factory = storage_db.make_session_factory(engine)
        session = factory()
        incident_id = session.execute(
            text("SELECT id FROM incidents WHERE number = :n"), {"n": number}
        ).scalar_one()

        def baseline() -> None:
            session.execute(
                text(
                    "SELECT m.id, m.ts, m.at, m.author_person_id, m.author_external, m.text_raw, "
                    "m.subtype, m.thread_ts, m.mentions, m.reactions, m.hidden, m.is_bot "
                    "FROM messages m JOIN incident_channels ic ON ic.channel_id = m.channel_id "
                    "WHERE ic.incident_id = :i ORDER BY m.at"
                ),
                {"i": incident_id},
            ).all()
            session.execute(
                text("SELECT * FROM pages WHERE incident_id = :i"), {"i": incident_id}
            ).all()

        def analysis() -> None:
            evidence = build_incident_evidence(session, incident_id)
            analyze_people(evidence.bundle, evidence.context, history=evidence.history)

        analysis()
        base = median_ms(baseline, 7)
        full = median_ms(analysis, 7)
        print(
            f"(a) bundle + analyze_people: median {full:.1f} ms; baseline single query "
            f"{base:.1f} ms; ratio {full / base:.2f}x (targets <= 200 ms, <= 5x)"
        )
        session.close()
        settings = development_settings(database_url=url, environment="test", queue_url="memory:")
        from afteraction.web.app import create_app

        with TestClient(create_app(settings)) as client:
            page = client.get("/login")
            token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            client.post(
                "/login",
                data={
                    "email": "bench@example.com",
                    "password": "correct horse battery",
                    "csrf_token": token,
                },
            )
            url_page = f"/incidents/INC-{number}/transcript"
            assert client.get(url_page).status_code == 200
            first = median_ms(lambda: client.get(url_page), 15)
            print(f"(b) transcript first screen: median {first:.1f} ms (target <= 150 ms)")
        engine.dispose()


if __name__ == "__main__":
    main()
