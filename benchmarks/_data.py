"""Deterministic synthetic incident history for the web benchmarks.

`build_database(url, incidents=N)` migrates the database at `url`, bulk-inserts N incidents
with services, teams, tags and problems straight into the real tables (SQLAlchemy Core, one
`executemany` per table), and creates one admin user with an API token through
`afteraction.services.users`. The same seed always yields the same rows. Benchmarks only:
nothing in the package imports this module.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from afteraction.core.access import SYSTEM
from afteraction.core.incidents import INCIDENT_TYPES
from afteraction.services import users
from afteraction.storage.db import make_engine, make_session_factory, upgrade, writing
from afteraction.storage.tables import (
    Incident,
    IncidentService,
    IncidentTag,
    IncidentTeam,
    Problem,
    Service,
    Team,
)

SEED = 20261123
ADMIN_EMAIL = "bench-admin@example.com"
ADMIN_PASSWORD = "bench-password-1"
TEAMS = 12
SERVICES = 40
PROBLEMS = 30
TAGS = ("latency", "errors", "deploy", "database", "dns", "capacity", "config", "network")
SEVERITY_WEIGHTS = {"SEV1": 1, "SEV2": 4, "SEV3": 10, "SEV4": 8}
STATUS_WEIGHTS = {"closed": 70, "resolved": 20, "monitoring": 3, "investigating": 4, "triage": 3}
WORDS = (
    "checkout payments search login api gateway queue cache replica latency errors timeouts "
    "elevated degraded partial outage slow failing stale dropped retries"
).split()
FIRST = datetime(2023, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class BenchData:
    url: str
    incidents: int
    admin_email: str
    admin_password: str
    token: str


def _title(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7))).capitalize()


def _incident_row(rng: random.Random, number: int, admin_id: int) -> dict[str, Any]:
    started = FIRST + timedelta(minutes=number * 90 + rng.randrange(60))
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    detected = started + timedelta(minutes=rng.randint(1, 30))
    declared = detected + timedelta(minutes=rng.randint(0, 10))
    acknowledged = declared + timedelta(minutes=rng.randint(1, 15))
    mitigated = acknowledged + timedelta(minutes=rng.randint(5, 240))
    resolved = mitigated + timedelta(minutes=rng.randint(0, 120))
    done = status in ("resolved", "closed")
    return {
        "id": number,
        "number": number,
        "title": _title(rng),
        "summary": _title(rng) + ". " + _title(rng) + ".",
        "severity": rng.choices(list(SEVERITY_WEIGHTS), weights=list(SEVERITY_WEIGHTS.values()))[0],
        "status": status,
        "type": rng.choices(INCIDENT_TYPES, weights=(90, 4, 3, 3))[0],
        "private": rng.random() < 0.05,
        "customer_impact": "",
        "problem_id": rng.randint(1, PROBLEMS) if rng.random() < 0.15 else None,
        "started_at": started,
        "detected_at": detected,
        "declared_at": declared,
        "acknowledged_at": acknowledged if status != "triage" else None,
        "mitigated_at": mitigated if done or status == "monitoring" else None,
        "resolved_at": resolved if done else None,
        "closed_at": resolved + timedelta(days=2) if status == "closed" else None,
        "created_at": declared,
        "updated_at": resolved if done else declared,
        "created_by_id": admin_id,
        "version": 1,
    }


def _links(rng: random.Random, number: int) -> tuple[list[dict[str, Any]], ...]:
    services = rng.sample(range(1, SERVICES + 1), rng.randint(1, 3))
    teams = rng.sample(range(1, TEAMS + 1), rng.randint(1, 2))
    tags = rng.sample(TAGS, rng.randint(0, 3))
    return (
        [{"incident_id": number, "service_id": s} for s in services],
        [{"incident_id": number, "team_id": t} for t in teams],
        [{"incident_id": number, "tag": t} for t in tags],
    )


def _directory_rows() -> tuple[list[dict[str, Any]], ...]:
    teams = [
        {"id": i, "slug": f"team-{i:02d}", "name": f"Team {i:02d}", "description": "",
         "created_at": FIRST}
        for i in range(1, TEAMS + 1)
    ]  # fmt: skip
    services = [
        {"id": i, "slug": f"service-{i:02d}", "name": f"Service {i:02d}", "description": "",
         "tier": 1 + i % 3, "team_id": 1 + i % TEAMS, "created_at": FIRST}
        for i in range(1, SERVICES + 1)
    ]  # fmt: skip
    problems = [
        {"id": i, "key": f"PRB-{i}", "title": f"Recurring problem {i}", "description": "",
         "status": "open", "workaround": "", "created_at": FIRST}
        for i in range(1, PROBLEMS + 1)
    ]  # fmt: skip
    return teams, services, problems


def _admin_and_token(session: Any) -> tuple[int, str]:
    with writing(session):
        user = users.create_user(
            session, SYSTEM, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, role="admin"
        )
        issued = users.issue_token(session, SYSTEM, user_id=user.id, name="benchmark")
        return user.id, issued.secret


def build_database(url: str, *, incidents: int, seed: int = SEED) -> BenchData:
    """Migrate `url` (an empty database) and fill it; returns how to log in."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            admin_id, token = _admin_and_token(session)
        rng = random.Random(seed)
        rows, services, teams, tags = [], [], [], []
        for number in range(1, incidents + 1):
            rows.append(_incident_row(rng, number, admin_id))
            linked = _links(rng, number)
            services += linked[0]
            teams += linked[1]
            tags += linked[2]
        team_rows, service_rows, problem_rows = _directory_rows()
        with engine.begin() as connection:
            connection.execute(insert(Team), team_rows)
            connection.execute(insert(Service), service_rows)
            connection.execute(insert(Problem), problem_rows)
            connection.execute(insert(Incident), rows)
            connection.execute(insert(IncidentService), services)
            connection.execute(insert(IncidentTeam), teams)
            if tags:
                connection.execute(insert(IncidentTag), tags)
    finally:
        engine.dispose()
    return BenchData(url, incidents, ADMIN_EMAIL, ADMIN_PASSWORD, token)


if __name__ == "__main__":
    import sys
    import tempfile
    import time

    target = f"sqlite:///{tempfile.mkdtemp(prefix='afteraction-bench-')}/bench.db"
    began = time.perf_counter()
    data = build_database(target, incidents=int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
    print(f"{data.incidents} incidents in {time.perf_counter() - began:.2f}s at {data.url}")
