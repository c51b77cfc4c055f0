"""The incident list and the site-wide rules: login required, filters, sorting, pagination,
CSRF refusal and escaping of hostile text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import incidents as repo
from afteraction.storage.db import writing
from tests.web.conftest import declare, post_form, soup

PAGES = [
    "/incidents",
    "/incidents/new",
    "/incidents/INC-1",
    "/incidents/INC-1/edit",
    "/action-items",
    "/problems",
    "/problems/x",
    "/services",
    "/teams",
    "/people",
    "/people/1",
    "/account",
    "/admin/users",
]


def _bulk(db: Session, count: int) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    with writing(db):
        for n in range(count):
            data = repo.IncidentInput(
                title=f"Incident number {n}",
                severity=("SEV1", "SEV2", "SEV3")[n % 3],
                type="gameday" if n % 5 == 0 else "default",
                milestones={"started": base + timedelta(days=n)},
            )
            repo.declare(db, SYSTEM, data)


@pytest.mark.parametrize("path", [*PAGES, "/"])
def test_anonymous_is_sent_to_login(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_anonymous_post_is_sent_to_login(client: TestClient, admin) -> None:
    client.cookies.clear()
    response = client.post(
        "/incidents/new", data={"title": "x", "severity": "SEV2"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_list_shows_rows_badges_and_duration_labels(admin: TestClient) -> None:
    declare(admin, started="2026-01-01T10:00")
    post_form(admin, "/incidents/INC-1/status", {"status": "resolved"})
    page = soup(admin.get("/incidents"))
    row = page.select_one("table.list tbody tr")
    assert row is not None
    assert row.select_one("td.id a")["href"] == "/incidents/INC-1"
    assert row.select_one(".badge.sev-sev2").text == "SEV2"
    assert row.select_one(".badge.status-resolved").text == "resolved"
    header = page.select("table.list thead th")[-1].text
    assert "resolved − started" in header
    assert "1 incident" in page.select_one(".count").text


def test_filters_combine(admin: TestClient, db: Session) -> None:
    _bulk(db, 12)
    page = soup(admin.get("/incidents", params={"severity": "SEV1", "type": "gameday"}))
    ids = [a.text for a in page.select("td.id a")]
    # SEV1 are n % 3 == 0, gameday n % 5 == 0 → n in {0} and 15+ → only INC-1 among 12
    assert ids == ["INC-1"]
    text = soup(admin.get("/incidents", params={"q": "number 11"}))
    assert [a.text for a in text.select("td.id a")] == ["INC-12"]
    dated = soup(
        admin.get("/incidents", params={"started_from": "2026-01-03", "started_to": "2026-01-04"})
    )
    assert sorted(a.text for a in dated.select("td.id a")) == ["INC-3", "INC-4"]


def test_bad_filter_values_get_a_message_not_a_500(admin: TestClient, db: Session) -> None:
    _bulk(db, 2)
    response = admin.get("/incidents", params={"started_from": "yesterday", "sort": "nope"})
    assert response.status_code == 422
    page = soup(response)
    assert "2026-01-31" in page.select_one("#err-started_from").text
    assert page.select_one("#started_from")["aria-invalid"] == "true"
    assert "unknown sort" in page.select_one("#err-sort").text
    assert len(page.select("td.id")) == 2  # the rest of the list still shows


def test_sorting_and_pagination(admin: TestClient, db: Session) -> None:
    _bulk(db, 120)
    first = soup(admin.get("/incidents"))
    assert first.select_one("td.id a").text == "INC-120"
    assert "Showing 1–50 of 120" in first.select_one(".count").text
    assert "Page 1 of 3" in first.select_one(".pager").text
    next_link = first.select_one('.pager a[rel="next"]')["href"]
    second = soup(admin.get(next_link))
    assert second.select_one("td.id a").text == "INC-70"
    oldest = soup(admin.get("/incidents", params={"sort": "started"}))
    assert oldest.select_one("td.id a").text == "INC-1"
    header = oldest.find("th", attrs={"aria-sort": "ascending"})
    assert header is not None and "Started" in header.text
    assert "sort=-started" in header.a["href"]
    last = soup(admin.get("/incidents", params={"page": "3", "severity": "SEV1"}))
    assert "past the end: 40 incidents match" in last.select_one(".count").text


def test_pagination_keeps_filters(admin: TestClient, db: Session) -> None:
    _bulk(db, 160)
    page = soup(admin.get("/incidents", params={"severity": "SEV2"}))
    href = page.select_one('.pager a[rel="next"]')["href"]
    assert "severity=SEV2" in href and "page=2" in href


def test_form_without_csrf_is_refused(admin: TestClient) -> None:
    admin.headers.pop("X-CSRF-Token")
    response = admin.post(
        "/incidents/new", data={"title": "sneaky", "severity": "SEV2"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "CSRF" in soup(response).select_one("[role=alert]").text
    wrong = admin.post(
        "/incidents/new",
        data={"title": "sneaky", "severity": "SEV2", "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert wrong.status_code == 403
    assert "sneaky" not in admin.get("/incidents").text


def test_every_form_carries_the_csrf_token(admin: TestClient, directory_rows) -> None:
    declare(admin)
    token = admin.headers["X-CSRF-Token"]
    for path in ["/incidents/INC-1", "/incidents/new", "/problems", "/account", "/admin/users"]:
        forms = soup(admin.get(path)).select('form[method="post"]')
        assert forms, path
        for form in forms:
            assert form.select_one('input[name="csrf_token"]')["value"] == token, path


def test_script_in_title_and_summary_is_escaped(admin: TestClient) -> None:
    evil = '<script>alert("x")</script>'
    declare(admin, title=f"Boom {evil}", summary=f"**bold** {evil} [a](javascript:alert(1))")
    for path in ["/incidents", "/incidents/INC-1"]:
        html = admin.get(path).text
        assert evil not in html
        assert "&lt;script&gt;" in html
    page = soup(admin.get("/incidents/INC-1"))
    prose = page.select_one(".prose")
    assert prose.find("strong").text == "bold"
    assert prose.find("script") is None
    assert all("javascript" not in (a.get("href") or "") for a in prose.find_all("a"))


def test_unknown_incident_is_a_404_page(admin: TestClient) -> None:
    for path in ["/incidents/INC-999", "/incidents/nonsense", "/incidents/INC-999/edit"]:
        response = admin.get(path)
        assert response.status_code == 404, path
        assert "not found" in soup(response).select_one("[role=alert]").text
    missing = post_form(admin, "/incidents/INC-999/updates", {"body": "hello"})
    assert missing.status_code == 404
