"""The import form shows only the chosen kind's fields: chosen by a GET without JavaScript
(fields of other kinds are hidden and disabled, so never sent), a transcript's recording
start defaulting to the incident's start, and a real Zoom recording imported through it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import incidents as repo
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import TranscriptCue
from tests.services.imports._helpers import shared_fixture
from tests.web.conftest import soup

STARTED = datetime(2026, 10, 20, 20, 25, tzinfo=UTC)


def _incident(db: Session) -> str:
    with writing(db):
        created, _ = repo.declare(
            db,
            SYSTEM,
            repo.IncidentInput(title="payments", severity="SEV1", milestones={"started": STARTED}),
        )
    return created.public_id


def _shown(tag: Tag) -> bool:
    """Whether a form control is shown and sent: no hidden or disabled ancestor."""
    return not any(
        p.has_attr("hidden") or (p.name == "fieldset" and p.has_attr("disabled"))
        for p in [tag, *tag.parents]
        if isinstance(p, Tag)
    )


def _form(page: BeautifulSoup) -> Tag:
    form = page.select_one("#import-form")
    assert form is not None
    return form


def _fields(page: BeautifulSoup) -> set[str]:
    form = _form(page)
    return {
        str(i["name"])
        for i in form.select("input[name], select[name]")
        if _shown(i) and i.get("type") != "hidden"
    }


def _shown_text(page: BeautifulSoup) -> str:
    form = _form(page)
    return " ".join(
        t for t in form.find_all(string=True) if isinstance(t.parent, Tag) and _shown(t.parent)
    )


def test_each_kind_shows_only_its_own_fields(admin: TestClient, db: Session) -> None:
    slack = soup(admin.get("/imports"))
    assert _form(slack).select_one("input[name=kind]")["value"] == "slack"
    assert _fields(slack) == {"file", "incident", "channels", "since", "until"}
    assert slack.select_one("#import-kinds a[aria-current]").get_text() == "slack"
    assert _fields(soup(admin.get("/imports?kind=roster"))) == {"file"}
    assert _fields(soup(admin.get("/imports?kind=oncall"))) == {"file", "since", "until"}

    incident = _incident(db)
    page = soup(admin.get(f"/imports?kind=transcript&incident={incident}"))
    assert _form(page).select_one("input[name=kind]")["value"] == "transcript"
    assert _fields(page) == {"file", "incident", "recording_start"}
    assert page.select_one("#incident")["value"] == incident
    assert page.select_one("#recording_start")["value"] == STARTED.isoformat()
    text = _shown_text(page).lower()
    assert "slack" not in text and "channel" not in text and "recording started" in text
    assert page.select_one('#import-kinds a[data-kind="slack"]')["href"] == (
        f"/imports?kind=slack&incident={incident}"
    )


def test_an_unknown_kind_or_incident_is_refused_clearly(admin: TestClient) -> None:
    unknown = admin.get("/imports?kind=fax")
    assert unknown.status_code == 422 and "unknown kind" in unknown.text
    missing = admin.get("/imports?kind=transcript&incident=INC-999")
    assert missing.status_code == 422 and "INC-999" in missing.text


def test_a_real_zoom_recording_through_the_form_starts_at_the_incident(
    admin: TestClient, db: Session
) -> None:
    incident = _incident(db)
    vtt = shared_fixture("vtt/cip_test_transcript/small_transcript.vtt")
    posted = admin.post(
        "/imports",
        data={
            "csrf_token": str(admin.headers["X-CSRF-Token"]),
            "kind": "transcript",
            "incident": incident,
            "channels": "ignored-for-a-transcript",
            "since": "not a time, and not read for a transcript",
        },
        files={"file": (vtt.name, vtt.read_bytes(), "text/vtt")},
        headers={"X-CSRF-Token": ""},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    assert "complete" in admin.get(posted.headers["location"]).text
    first = db.scalar(select(TranscriptCue).order_by(TranscriptCue.seq))
    assert first is not None and first.speaker == "Ashlee Kupor (SL)"
    assert first.at == STARTED + timedelta(seconds=0.51)
    transcript = soup(admin.get(f"/incidents/{incident}/transcript"))
    cue = transcript.select_one(f"#c{first.id}")
    assert cue is not None and "Let's do that" in cue.get_text()


def test_a_given_recording_start_wins_and_is_checked(admin: TestClient, db: Session) -> None:
    incident = _incident(db)
    body = "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\n<v Ada Lovelace>hello</v>\n"

    def send(start: str):  # type: ignore[no-untyped-def]
        return admin.post(
            "/imports",
            data={
                "csrf_token": str(admin.headers["X-CSRF-Token"]),
                "kind": "transcript",
                "incident": incident,
                "recording_start": start,
            },
            files={"file": ("call.vtt", body.encode(), "text/vtt")},
            headers={"X-CSRF-Token": ""},
            follow_redirects=False,
        )

    bad = send("yesterday")
    assert bad.status_code == 422
    assert soup(bad).select_one("#recording_start")["aria-invalid"] == "true"
    assert soup(bad).select_one("#import-form input[name=kind]")["value"] == "transcript"
    assert send("2026-10-29T16:00:00+00:00").status_code == 303
    at = db.scalar(select(TranscriptCue.at))
    assert at == datetime(2026, 10, 29, 16, 0, 1, tzinfo=UTC)
