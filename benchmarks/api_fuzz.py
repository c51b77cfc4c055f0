"""Schemathesis over the whole API with every role's token, on the demo organisation.

Builds the demo (`afteraction.demo.load`) into a fresh SQLite file (or the database
`--database-url` names), issues an API token for an admin, an investigator, a responder and a
viewer, and sends generated requests (valid and invalid) to every operation of
`/api/v1/openapi.json` as each of them, through the real app in process. Every answer must be
below 500 and one of the status codes the operation documents (`tests/web/test_api_fuzz.py`
holds the same check over fewer requests; this reuses its runner).

Target: at least 1,000 requests per role, 0 server errors, 0 undocumented status codes.
The baseline is the number of operations the schema documents: every one must be exercised.

Run: python benchmarks/api_fuzz.py [--examples 12] [--database-url URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROLES = ("admin", "investigator", "responder", "viewer")
TARGET_PER_ROLE = 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=12, help="requests per operation")
    parser.add_argument("--database-url", default="")
    options = parser.parse_args()

    import schemathesis
    import tests.web.test_api_fuzz as runner

    from afteraction.config import development_settings
    from afteraction.core.access import SYSTEM
    from afteraction.demo.load import load_demo
    from afteraction.services import users
    from afteraction.storage.db import make_engine, make_session_factory, upgrade, writing
    from afteraction.web.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="afteraction-fuzz-"))
    url = options.database_url or f"sqlite:///{folder / 'fuzz.db'}"
    upgrade(url)
    engine = make_engine(url)
    session = make_session_factory(engine)()
    load_demo(session)
    session.commit()
    tokens = {}
    for role in ROLES:
        with writing(session):
            user = users.create_user(
                session,
                SYSTEM,
                email=f"fuzz-{role}@example.com",
                password="fuzz-password-long-enough",
                role=role,
            )
            tokens[role] = users.issue_token(session, SYSTEM, user_id=user.id, name="fuzz").secret
    session.close()
    settings = development_settings(
        database_url=url, queue_url="memory:", uploads_dir=folder / "uploads"
    )
    app = create_app(settings)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = sum(1 for _ in schema.get_all_operations())
    runner.EXAMPLES = options.examples
    print(f"{operations} operations documented; {options.examples} examples per operation")
    print(f"{'role':<14}{'requests':>10}{'failures':>10}{'seconds':>10}")
    failed = 0
    short = 0
    for role in ROLES:
        started = time.perf_counter()
        sent, failures = runner.fuzz(schema, tokens[role])
        took = time.perf_counter() - started
        print(f"{role:<14}{sent:>10}{len(failures):>10}{took:>10.0f}")
        for line in failures[:20]:
            print(f"    {line}")
        failed += len(failures)
        short += sent < TARGET_PER_ROLE
    verdict = "met" if not failed and not short else "MISSED"
    print(
        f"target (>= {TARGET_PER_ROLE} requests per role, 0 server errors, "
        f"0 undocumented status codes): {verdict}"
    )
    engine.dispose()
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    raise SystemExit(main())
