"""Benchmark: global search over 1,000,000 messages (FTS5 kept by the migration's triggers).

Run: python benchmarks/search.py [messages]. Deterministic (seeded); prints the median query
time over a fixed set of queries (target <= 50 ms) for an admin and for a viewer, and the
SQLite query plan of the message query (FTS5 scanned newest first, capped, then scored).
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from afteraction.core.access import SYSTEM, Actor
from afteraction.storage import db as storage_db
from afteraction.storage import search
from afteraction.storage.evidence_tables import Channel, IncidentChannel, Message, Source
from afteraction.storage.tables import Incident

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
WORDS = ("deploy rollback timeout ledger pool exhausted latency checkout payments retry error "
         "cache redis kafka lag disk full cert expired dns failover queue backlog alert page "
         "restart pod node memory cpu spike saturation throttle quota config flag").split()  # fmt: skip  # noqa: E501
QUERIES = ["ledger timeout", "rollback", "cert expired", "kafka lag backlog", "dns failover",
           "redis", "memory spike pod", "quota throttle", "zzznotfound", "payments retry error"]  # fmt: skip  # noqa: E501
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def build(url: str) -> None:
    rng = random.Random(11)
    engine = storage_db.make_engine(url)
    with engine.begin() as c:
        c.execute(insert(Source), [{"kind": "slack_export", "origin": "bench", "checksum": "x",
                                    "imported_at": T0, "imported_by": "", "status": "complete",
                                    "counts": {}, "warnings": {}, "options": {}}])  # fmt: skip
        c.execute(insert(Channel), [{"workspace": "", "external_id": f"C{i}", "name": f"inc-{i}",
                                     "kind": "public", "topic": "", "purpose": ""}
                                    for i in range(1, 1001)])  # fmt: skip
        c.execute(insert(Incident), [{"number": i, "title": f"incident {i}", "summary": "",
                                      "severity": "SEV3", "status": "resolved", "type": "default",
                                      "private": i % 10 == 0, "customer_impact": "",
                                      "created_at": T0, "updated_at": T0, "version": 1}
                                     for i in range(1, 901)])  # fmt: skip
        c.execute(insert(IncidentChannel), [{"incident_id": i, "channel_id": i}
                                            for i in range(1, 901)])  # fmt: skip
        batch = []
        for n in range(N):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(4, 16)))
            batch.append({"channel_id": rng.randrange(1, 1001), "source_id": 1, "ts": f"{n}.0",
                          "at": T0 + timedelta(seconds=n), "text_raw": text, "text_plain": text,
                          "author_name": "bench", "is_bot": False, "hidden": False})  # fmt: skip
            if len(batch) == 50_000:
                c.execute(insert(Message), batch)
                batch = []
        if batch:
            c.execute(insert(Message), batch)
    engine.dispose()


def main() -> None:
    path = Path(tempfile.mkdtemp()) / "search.db"
    url = f"sqlite:///{path}"
    storage_db.upgrade(url)
    t = time.perf_counter()
    build(url)
    print(f"wrote {N:,} messages (FTS5 by trigger) in {time.perf_counter() - t:.0f} s")
    engine = storage_db.make_engine(url)
    factory = storage_db.make_session_factory(engine)
    viewer = Actor(user_id=None, label="viewer", role="viewer")
    print_plan(factory, viewer)
    for label, actor in (("admin", SYSTEM), ("viewer", viewer)):
        times = []
        with factory() as session:
            for _ in range(3):
                for q in QUERIES:
                    t = time.perf_counter()
                    search.search(session, actor, q, kinds=["messages"], limit=20)
                    times.append(time.perf_counter() - t)
        print(f"{label}: median {statistics.median(times) * 1000:.1f} ms, "
              f"max {max(times) * 1000:.0f} ms over {len(times)} queries (target <= 50 ms)")  # fmt: skip  # noqa: E501


def print_plan(factory, actor: Actor) -> None:  # type: ignore[no-untyped-def]
    """EXPLAIN QUERY PLAN of the message search, as the application sends it."""
    from sqlalchemy import select

    from afteraction.storage.evidence_tables import Message

    with factory() as session:
        candidates = search._message_candidates(session, actor, ["ledger", "timeout"])
        query = select(Message.id, candidates.c.score).join_from(
            candidates, Message, Message.id == candidates.c.id
        ).order_by(candidates.c.score.desc()).limit(20)  # fmt: skip
        compiled = query.compile(session.get_bind())
        params = [compiled.params[name] for name in compiled.positiontup or ()]
        raw = session.connection().connection.dbapi_connection
        print("query plan:")
        for row in raw.execute(f"EXPLAIN QUERY PLAN {compiled}", params):
            print("  ", row[-1])


if __name__ == "__main__":
    main()
