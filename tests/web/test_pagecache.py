"""Cached pages: rendered once per commit, never shown to another user, never stale after a
write, with the reader's own CSRF token and one-shot notices intact."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import incidents as repo
from afteraction.storage.db import writing
from afteraction.web.routes import pages_incident
from afteraction.web.session_cookie import SignedSessions
from tests.conftest import login, make_user
from tests.web.conftest import post_form


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the incident page was built (not served from the cache)."""
    built: list[int] = []
    original = pages_incident.build_page

    def counting(*args: object, **kwargs: object) -> object:
        built.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pages_incident, "build_page", counting)
    return built


@pytest.fixture
def ada(db: Session) -> None:
    """An investigator, ada@example.com, and one incident, INC-1."""
    make_user(db, "ada@example.com", "investigator")
    _incident(db)


def _incident(db: Session, title: str = "Checkout latency") -> None:
    with writing(db):
        repo.declare(db, SYSTEM, repo.IncidentInput(title=title, severity="SEV2"))


def test_a_page_is_rendered_once_until_a_commit(
    client: TestClient, db: Session, ada: None, renders: list[int]
) -> None:
    login(client, "ada@example.com")
    first = client.get("/incidents/INC-1")
    again = client.get("/incidents/INC-1")
    assert first.status_code == again.status_code == 200
    assert again.text == first.text and len(renders) == 1
    with writing(db):
        repo.update(db, SYSTEM, 1, {"title": "Checkout latency in eu-west"})
    after = client.get("/incidents/INC-1")
    assert "Checkout latency in eu-west" in after.text and len(renders) == 2


def test_the_query_string_is_part_of_the_page(
    client: TestClient, db: Session, ada: None, renders: list[int]
) -> None:
    login(client, "ada@example.com")
    client.get("/incidents/INC-1")
    client.get("/incidents/INC-1?tab=updates")
    assert len(renders) == 2


def test_a_page_is_never_served_to_another_user(
    app: object, db: Session, renders: list[int]
) -> None:
    make_user(db, "ada@example.com", "investigator")
    make_user(db, "bob@example.com", "viewer")
    _incident(db)
    with TestClient(app) as ada, TestClient(app) as bob:  # type: ignore[arg-type]
        login(ada, "ada@example.com")
        login(bob, "bob@example.com")
        seen_by_ada = ada.get("/incidents/INC-1").text
        seen_by_bob = bob.get("/incidents/INC-1").text
    assert len(renders) == 2
    assert "ada@example.com" in seen_by_ada and "ada@example.com" not in seen_by_bob


def test_each_session_gets_its_own_csrf_token(app: object, db: Session, ada: None) -> None:
    with TestClient(app) as laptop, TestClient(app) as phone:  # type: ignore[arg-type]
        login(laptop, "ada@example.com")
        login(phone, "ada@example.com")
        for client in (laptop, phone):
            page = client.get("/incidents/INC-1").text
            token = client.headers["X-CSRF-Token"]
            assert f'name="csrf-token" content="{token}"' in page
            assert "\x00" not in page
        assert laptop.headers["X-CSRF-Token"] != phone.headers["X-CSRF-Token"]
        # the cached page's forms work for the second session
        response = post_form(phone, "/incidents/INC-1/updates", {"body": "rolled back"})
        assert response.status_code == 303


def test_a_notice_is_shown_once_and_the_page_is_not_kept_with_it(
    client: TestClient, db: Session, ada: None
) -> None:
    login(client, "ada@example.com")
    client.get("/incidents/INC-1")  # cached without a notice
    response = post_form(client, "/incidents/INC-1/updates", {"body": "mitigated"})
    assert response.status_code == 303
    marker = '<p class="notice" role="status">Update posted.</p>'
    assert marker in client.get(response.headers["location"]).text
    again = client.get("/incidents/INC-1").text
    assert "mitigated" in again and marker not in again


def test_concurrent_misses_render_once(
    app: object, db: Session, ada: None, renders: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """More readers than pooled connections wait for one slow render, and all get the page:
    a waiting reader must not hold a connection the render needs."""
    counting = pages_incident.build_page

    def slow(*args: object, **kwargs: object) -> object:
        time.sleep(0.5)
        return counting(*args, **kwargs)

    monkeypatch.setattr(pages_incident, "build_page", slow)
    readers = 36  # more than the pool's 30 connections, fewer than the 40 worker threads
    with TestClient(app) as client:  # type: ignore[arg-type]
        login(client, "ada@example.com")
        # Nothing commits from here on. On PostgreSQL the change token is the cluster's
        # snapshot, which any transaction anywhere in the cluster moves (an autoanalyze, say):
        # each move is a correct re-render, not what this test is about. Hold it still.
        detector = client.app.state.page_cache.detector  # type: ignore[attr-defined]
        held = detector.token()
        monkeypatch.setattr(detector, "token", lambda: held)
        results: list[int] = []
        go = threading.Barrier(readers)

        def read() -> None:
            go.wait()
            results.append(client.get("/incidents/INC-1").status_code)

        threads = [threading.Thread(target=read) for _ in range(readers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == [200] * readers
    assert len(renders) == 1


def test_an_error_page_is_not_kept(client: TestClient, db: Session, renders: list[int]) -> None:
    make_user(db, "ada@example.com", "investigator")
    login(client, "ada@example.com")
    assert client.get("/incidents/INC-1").status_code == 404
    _incident(db)
    assert client.get("/incidents/INC-1").status_code == 200


def test_pages_are_rendered_every_time_with_the_cache_off(
    settings: object, db: Session, ada: None, renders: list[int]
) -> None:
    from afteraction.web.app import create_app

    off = settings.model_copy(update={"read_cache": False})  # type: ignore[attr-defined]
    with TestClient(create_app(off)) as client:
        login(client, "ada@example.com")
        client.get("/incidents/INC-1")
        client.get("/incidents/INC-1")
    assert len(renders) == 2


def test_a_hit_is_sent_before_the_framework_opens_the_database(
    app: object, db: Session, ada: None, renders: list[int]
) -> None:
    with TestClient(app) as client:  # type: ignore[arg-type]
        login(client, "ada@example.com")
        first = client.get("/incidents/INC-1").text

        def no_database() -> None:
            raise AssertionError("a cached page opened a database session")

        state = client.app.state  # type: ignore[attr-defined]
        opened, state.session_factory = state.session_factory, no_database
        try:
            assert client.get("/incidents/INC-1").text == first
        finally:
            state.session_factory = opened
    assert len(renders) == 1


def test_a_session_ended_elsewhere_is_not_served_the_cached_page(
    app: object, db: Session, ada: None
) -> None:
    with TestClient(app) as laptop, TestClient(app) as phone:  # type: ignore[arg-type]
        login(laptop, "ada@example.com")
        login(phone, "ada@example.com")
        assert laptop.get("/incidents/INC-1").status_code == 200  # cached for ada
        ended = post_form(phone, "/account/sessions/end-all", {})
        assert ended.status_code == 303
        again = laptop.get("/incidents/INC-1", follow_redirects=False)
        assert again.status_code in (302, 303, 401) and "Checkout latency" not in again.text


def test_a_hit_carries_the_headers_a_rendered_page_does(
    client: TestClient, db: Session, ada: None, renders: list[int]
) -> None:
    """A hit is sent before the session and security middlewares: it adds their headers."""
    login(client, "ada@example.com")
    rendered = client.get("/incidents/INC-1")
    hit = client.get("/incidents/INC-1")
    assert len(renders) == 1 and hit.text == rendered.text
    ignored = {"date", "server", "set-cookie", "content-length"}
    assert {k: v for k, v in hit.headers.items() if k not in ignored} == {
        k: v for k, v in rendered.headers.items() if k not in ignored
    }
    assert hit.headers["cache-control"] == "no-store" and hit.headers["vary"] == "Cookie"


def test_the_page_cache_reads_only_a_valid_cookie_of_plain_values() -> None:
    """What sign-in puts in the session; any other session (a single sign-on's pending
    state, for one) or a cookie that fails the check is left to the app."""
    sessions = SignedSessions("secret", 60)
    plain = sessions.signer.sign(b"eyJjc3JmIjogIngifQ==")  # {"csrf": "x"}
    nested = sessions.signer.sign(b"eyJzdGF0ZSI6IHsiYSI6IDF9fQ==")  # {"state": {"a": 1}}
    assert sessions.read({"headers": [(b"cookie", b"afteraction_session=" + plain)]}) == {
        "csrf": "x"
    }
    assert sessions.read({"headers": [(b"cookie", b"afteraction_session=" + nested)]}) is None
    assert sessions.read({"headers": [(b"cookie", b"afteraction_session=" + plain[:-2])]}) is None
    assert sessions.read({"headers": []}) is None
