"""A client generated from the live app's OpenAPI document works: openapi-python-client
writes it into a temporary folder from `/api/v1/openapi.json`, and its typed functions
list incidents, declare one and read its people analysis from the app served by uvicorn
on a loopback port. Skipped only when the generator is not installed."""

from __future__ import annotations

import importlib
import importlib.util
import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Engine

from afteraction.config import development_settings
from afteraction.core.access import SYSTEM
from afteraction.services import users
from afteraction.storage.db import make_session_factory, writing
from tests.browser.conftest import _free_port
from tests.conftest import PASSWORD, _empty

PACKAGE = "afteraction_generated_client"

pytestmark = pytest.mark.slow


def _generator() -> list[str]:
    if importlib.util.find_spec("openapi_python_client") is None:
        pytest.skip("openapi-python-client is not installed (pip install -e '.[test]')")
    return [sys.executable, "-m", "openapi_python_client"]


@pytest.fixture(scope="module")
def served(database_url: str, engine: Engine) -> Iterator[tuple[str, str]]:
    """Base URL of the app under uvicorn and an admin's API token."""
    import uvicorn

    from afteraction.web.app import create_app

    _empty(engine)
    session = make_session_factory(engine)()
    with writing(session):
        user = users.create_user(
            session, SYSTEM, email="client@example.com", password=PASSWORD, role="admin"
        )
        token = users.issue_token(session, SYSTEM, user_id=user.id, name="generated").secret
    session.close()
    settings = development_settings(
        database_url=database_url, environment="test", queue_url="memory:"
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning", ws="none"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", token
    server.should_exit = True
    thread.join(timeout=10)
    _empty(engine)


def _generate(base_url: str, folder: Path) -> ModuleType:
    command = _generator()
    with urllib.request.urlopen(f"{base_url}/api/v1/openapi.json", timeout=10) as answer:
        (folder / "openapi.json").write_bytes(answer.read())
    (folder / "config.json").write_text(json.dumps({"post_hooks": []}))
    target = folder / PACKAGE
    result = subprocess.run(
        [*command, "generate", "--path", str(folder / "openapi.json"), "--meta", "none",
         "--output-path", str(target), "--config", str(folder / "config.json")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0 and target.is_dir(), result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))


def test_a_generated_client_lists_creates_and_reads_people(
    served: tuple[str, str], tmp_path: Path
) -> None:
    base_url, token = served
    client_package = _generate(base_url, tmp_path)
    try:
        api = f"{PACKAGE}.api"
        listing = importlib.import_module(f"{api}.incidents.list_incidents_api_v1_incidents_get")
        creating = importlib.import_module(f"{api}.incidents.create_incident_api_v1_incidents_post")
        people = importlib.import_module(f"{api}.analysis.people_api_v1_incidents_key_people_get")
        models = importlib.import_module(f"{PACKAGE}.models")
        client = client_package.AuthenticatedClient(base_url=base_url, token=token)

        with client:
            before = listing.sync(client=client, limit=10)
            assert isinstance(before, models.IncidentPage) and before.total == 0
            body = models.IncidentCreate(title="Checkout latency above SLO", severity="SEV2")
            created = creating.sync(client=client, body=body)
            assert isinstance(created, models.IncidentRead), created
            assert created.id == "INC-1" and created.severity == "SEV2"
            after = listing.sync(client=client, limit=10)
            assert after.total == 1 and after.items[0].title == "Checkout latency above SLO"
            analysis = people.sync(key=created.id, client=client)
            assert isinstance(analysis, models.PeopleAnalysisRead), analysis
            assert analysis.incident == "INC-1" and analysis.people == []
            assert analysis.rollup.people_count == 0
            refused = creating.sync_detailed(client=client, body=models.IncidentCreate(
                title="x", severity="SEV9"))  # fmt: skip
            assert refused.status_code == 422
            assert isinstance(refused.parsed, models.ErrorResponse)
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]
        shutil.rmtree(tmp_path / PACKAGE, ignore_errors=True)
