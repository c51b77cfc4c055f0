"""Declaring, editing and running an incident through its forms: validation messages with
values kept, milestone order and override, status buttons, edit conflicts, roles, updates,
action items and references."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from afteraction.storage.tables import Incident, MilestoneEdit
from tests.web.conftest import declare, post_form, soup


def _count(db: Session) -> int:
    db.rollback()
    return int(db.scalar(select(func.count()).select_from(Incident)) or 0)


def test_declare_form_lists_severities_with_descriptions(admin: TestClient) -> None:
    page = soup(admin.get("/incidents/new"))
    options = page.select("#severity option")
    assert [o["value"] for o in options] == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert "Critical" in options[0].text
    assert page.select_one("#time_zone option[selected]")["value"] == "UTC"
    assert page.select_one('input[name="started"]')["type"] == "datetime-local"
    assert page.select_one('input[name="allow_out_of_order"]')["type"] == "checkbox"


def test_declare_valid(admin: TestClient, directory_rows, db: Session) -> None:
    url = declare(
        admin,
        title="Search down",
        severity="SEV1",
        services=["checkout", "search"],
        teams=["payments"],
        tags="db, Latency",
        private="on",
        summary="Queries time out",
        customer_impact="Nobody could search",
        started="2026-03-01T09:30",
        detected="2026-03-01T09:40",
        time_zone="America/New_York",
    )
    assert url == "/incidents/INC-1"
    page = soup(admin.get(url))
    assert "Declared INC-1" in page.select_one(".notice").text
    assert page.select_one("h1").text.strip().endswith("Search down")
    assert page.select_one(".badge.private") is not None
    facts = page.select_one(".facts").text
    assert "Checkout" in facts and "Search" in facts and "Payments" in facts
    assert "latency" in facts
    started = page.find("th", string="Started").find_next("td").text
    assert "2026-03-01 14:30 UTC" in started  # 09:30 in New York (EST) is 14:30 UTC
    assert "Nobody could search" in page.select_one(".prose").text


def test_declare_invalid_keeps_values_and_names_the_field(
    admin: TestClient, directory_rows, db: Session
) -> None:
    cases = [
        ({"title": ""}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"severity": "SEV9"}, "severity"),
        ({"type": "party"}, "type"),
        ({"services": ["nope"]}, "services"),
        ({"started": "yesterday"}, "started"),
        ({"started": "2026-01-01T10:00", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"summary": "s" * 20_001}, "summary"),
        ({"problem": "unknown-problem"}, "problem"),
    ]
    for change, field in cases:
        data = {"title": "Kept title", "severity": "SEV2", "tags": "kept, tags"} | change
        response = post_form(admin, "/incidents/new", data)
        assert response.status_code == 422, (change, response.status_code)
        page = soup(response)
        assert page.select_one(f"#err-{field}") is not None, (field, response.text[:500])
        if field != "title":
            assert page.select_one("#title")["value"] == "Kept title"
        assert page.select_one("#tags")["value"] == "kept, tags"
    assert _count(db) == 0


def test_non_utc_offset_in_value_is_honoured(admin: TestClient) -> None:
    declare(admin, started="2026-01-01T10:00+05:30", time_zone="UTC")
    page = soup(admin.get("/incidents/INC-1"))
    assert "2026-01-01 04:30 UTC" in page.find("th", string="Started").find_next("td").text


def test_out_of_order_milestones_need_the_override(admin: TestClient, db: Session) -> None:
    data = {
        "title": "Time travel",
        "severity": "SEV3",
        "started": "2026-01-02T10:00",
        "resolved": "2026-01-01T10:00",
    }
    refused = post_form(admin, "/incidents/new", data)
    assert refused.status_code == 422
    page = soup(refused)
    assert "resolved" in page.select_one("#err-milestones").text
    assert page.select_one("#ms-resolved")["value"] == "2026-01-01T10:00"
    assert _count(db) == 0
    accepted = post_form(admin, "/incidents/new", data | {"allow_out_of_order": "on"})
    assert accepted.status_code == 303
    shown = soup(admin.get(accepted.headers["location"]))
    assert "out of order" in shown.select_one(".notice").text
    warning = shown.select_one("#milestones .warning")
    assert warning is not None and "resolved" in warning.text


def test_edit_milestones_form_override_and_history(admin: TestClient, db: Session) -> None:
    declare(admin, started="2026-01-01T09:00")
    ok = post_form(
        admin,
        "/incidents/INC-1/milestones",
        {"detected": "2026-01-01T10:15", "time_zone": "+01:00", "reason": "from the pager"},
    )
    assert ok.status_code == 303
    page = soup(admin.get("/incidents/INC-1"))
    assert "2026-01-01 09:15 UTC" in page.find("th", string="Detected").find_next("td").text
    assert "time to detect (detected − started)" in page.select_one("table.durations").text
    assert "15m 00s" in page.select_one("table.durations").text
    bad = post_form(admin, "/incidents/INC-1/milestones", {"resolved": "2025-12-31T00:00"})
    assert bad.status_code == 422
    form_page = soup(bad)
    assert "resolved" in form_page.select_one("#err-ms-milestones").text
    assert form_page.select_one("#ms-resolved")["value"] == "2025-12-31T00:00"
    forced = post_form(
        admin,
        "/incidents/INC-1/milestones",
        {"resolved": "2025-12-31T00:00", "allow_out_of_order": "on"},
    )
    assert forced.status_code == 303
    shown = soup(admin.get("/incidents/INC-1"))
    assert shown.select_one("#milestones .warning") is not None
    db.rollback()
    edits = db.scalars(select(MilestoneEdit.milestone)).all()
    assert "detected" in edits and "resolved" in edits
    assert "from the pager" in shown.select_one("details.history").text


def test_every_duration_names_its_start_and_end(admin: TestClient) -> None:
    declare(admin)
    rows = soup(admin.get("/incidents/INC-1")).select("table.durations th")
    assert rows
    for row in rows:
        assert "−" in row.text and "(" in row.text, row.text


def test_status_buttons_follow_the_lifecycle(admin: TestClient) -> None:
    declare(admin, started="2026-01-01T09:00")
    page = soup(admin.get("/incidents/INC-1"))
    offered = [b["value"] for b in page.select('#status button[name="status"]')]
    assert offered == [
        "investigating",
        "identified",
        "monitoring",
        "resolved",
        "declined",
        "merged",
    ]
    moved = post_form(
        admin,
        "/incidents/INC-1/status",
        {"status": "investigating", "note": "looking at the database"},
    )
    assert moved.status_code == 303
    page = soup(admin.get("/incidents/INC-1"))
    assert page.select_one(".meta .badge.status-investigating") is not None
    assert page.find("th", string="Acknowledged").find_next("td").time is not None
    assert "looking at the database" in page.select_one("#updates").text
    assert "triage → investigating" in page.select_one("#activity").text
    refused = post_form(admin, "/incidents/INC-1/status", {"status": "closed"})
    assert refused.status_code == 422
    assert "allowed next statuses" in soup(refused).select_one("#err-status-status").text


def test_status_with_explicit_time_sets_that_milestone(admin: TestClient) -> None:
    declare(admin, started="2026-01-01T09:00")
    post_form(
        admin,
        "/incidents/INC-1/status",
        {"status": "resolved", "at": "2026-01-01T12:00", "time_zone": "Europe/Paris"},
    )
    page = soup(admin.get("/incidents/INC-1"))
    assert "2026-01-01 11:00 UTC" in page.find("th", string="Resolved").find_next("td").text
    durations = page.select_one("table.durations").text
    assert "time to resolve (resolved − started)" in durations and "2h 00m" in durations


def test_edit_form_saves_and_detects_conflicts(admin: TestClient, directory_rows) -> None:
    declare(admin, title="Old title")
    form = soup(admin.get("/incidents/INC-1/edit"))
    version = form.select_one('input[name="version"]')["value"]
    assert form.select_one("#title")["value"] == "Old title"
    saved = post_form(
        admin,
        "/incidents/INC-1/edit",
        {"title": "New title", "severity": "SEV1", "version": version, "services": ["search"]},
    )
    assert saved.status_code == 303
    assert "New title" in admin.get("/incidents/INC-1").text
    stale = post_form(
        admin,
        "/incidents/INC-1/edit",
        {"title": "My stale edit", "severity": "SEV2", "version": version},
    )
    assert stale.status_code == 409
    page = soup(stale)
    assert "changed by someone else" in page.select_one(".conflict").text
    assert page.select_one("#title")["value"] == "My stale edit"
    assert page.select_one('input[name="version"]')["value"] != version
    assert "My stale edit" not in admin.get("/incidents/INC-1").text
    invalid = post_form(
        admin, "/incidents/INC-1/edit", {"title": "", "severity": "SEV2", "version": "x"}
    )
    assert invalid.status_code == 422


def test_roles_assign_replace_and_end(admin: TestClient, directory_rows) -> None:
    declare(admin)
    ada, bob = directory_rows["ada"], directory_rows["bob"]
    assert post_form(admin, "/incidents/INC-1/roles", {"role": "commander", "person_id": ada})
    post_form(admin, "/incidents/INC-1/roles", {"role": "commander", "person_id": bob})
    page = soup(admin.get("/incidents/INC-1"))
    current = page.select_one("ul.roles").text
    assert "Bob Ross" in current and "Ada Lovelace" not in current
    assert "Ada Lovelace" in page.select_one("ul.roles.past").text
    end_action = page.select_one("ul.roles form")["action"]
    assert post_form(admin, end_action, {}).status_code == 303
    assert "Bob Ross" in soup(admin.get("/incidents/INC-1")).select_one("ul.roles.past").text
    missing = post_form(admin, "/incidents/INC-1/roles", {"role": "scribe", "person_id": ""})
    assert missing.status_code == 422
    assert soup(missing).select_one("#err-role-person_id") is not None
    wrong = post_form(admin, "/incidents/INC-1/roles", {"role": "scribe", "person_id": "abc"})
    assert "whole number" in soup(wrong).select_one("#err-role-person_id").text
    unknown = post_form(admin, "/incidents/INC-1/roles", {"role": "scribe", "person_id": "999"})
    assert unknown.status_code == 422


def test_updates_action_items_and_references(admin: TestClient, directory_rows) -> None:
    declare(admin)
    assert post_form(admin, "/incidents/INC-1/updates", {"body": "Rolled back"}).status_code == 303
    empty = post_form(admin, "/incidents/INC-1/updates", {"body": "  "})
    assert empty.status_code == 422 and soup(empty).select_one("#err-update-body")
    item = {
        "title": "Add a canary",
        "kind": "prevention",
        "owner_id": directory_rows["ada"],
        "due": "2020-01-01",
        "url": "https://tracker.example.com/1",
    }
    assert post_form(admin, "/incidents/INC-1/action-items", item).status_code == 303
    bad_due = post_form(admin, "/incidents/INC-1/action-items", item | {"due": "soon"})
    assert bad_due.status_code == 422
    assert soup(bad_due).select_one("#item-title")["value"] == "Add a canary"
    bad_url = post_form(admin, "/incidents/INC-1/action-items", item | {"url": "ftp://x"})
    assert soup(bad_url).select_one("#err-item-url") is not None
    page = soup(admin.get("/incidents/INC-1"))
    assert "Rolled back" in page.select_one("#updates").text
    row = page.select_one("#action_items tr.overdue")
    assert row is not None and "Add a canary" in row.text
    status_action = row.select_one("form")["action"]
    assert post_form(admin, status_action, {"status": "done"}).status_code == 303
    assert soup(admin.get("/incidents/INC-1")).select_one("#action_items tr.overdue") is None
    ref = {"url": "https://github.com/o/r/pull/1", "kind": "github pr", "title": "The fix"}
    assert post_form(admin, "/incidents/INC-1/references", ref).status_code == 303
    link = soup(admin.get("/incidents/INC-1")).select_one(".refs a")
    assert link["href"] == ref["url"] and link.text == "The fix"
    bad_ref = post_form(admin, "/incidents/INC-1/references", ref | {"url": "javascript:x"})
    assert bad_ref.status_code == 422


def test_feed_lists_the_audit_log(admin: TestClient) -> None:
    declare(admin)
    post_form(admin, "/incidents/INC-1/updates", {"body": "hello"})
    feed = soup(admin.get("/incidents/INC-1")).select("#activity li")
    assert "posted an update" in feed[0].text
    assert "declared the incident" in feed[-1].text
    assert "admin@example.com" in feed[-1].text
