"""The interview canary: unique strings in an interview's notes, transcript and interviewee
name (and the activity entries that tell it exists), on a public and on a private incident,
must reach no principal who may not see the interview — through any GET route of the app
(the list is generated from the route table), any export (report Markdown, HTML and PDF;
CSV), any notification or any error body, with a session or an API token.

The interviewee's name is a directory entry, and directory pages list every person; so the
name may appear in a response only as often as the name of their twin (a person created
the same way and never interviewed) appears in it, or, for a route about the interviewee
(`{person_id}`), in the same route about the twin.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.adapters.transcripts import parse_vtt
from afteraction.core.access import SYSTEM, Actor
from afteraction.services import (
    directory,
    incident_roles,
    report_publishing,
    reports,
    reviews,
    users,
)
from afteraction.services import incidents as repo
from afteraction.services import interviews as iv
from afteraction.storage.analysis_tables import InterviewCue
from afteraction.storage.db import writing
from afteraction.storage.review_tables import UserNotification
from afteraction.storage.tables import User
from tests.conftest import login, make_user

TOKEN = "q8d1f"
"""The word every canary shares: what the search routes are asked for."""
NOTES = f"notes-canary-{TOKEN}"
CUE = f"cue-canary-{TOKEN}"
NAME = f"Zara Canaryname-{TOKEN}"
TWIN = f"Zara Twinname-{TOKEN}"
SECRETS = (NOTES, CUE)
TRACES = ("interview.planned", "interview.updated", "interview.transcript_attached")
"""Activity feed entries that would tell of an interview's existence."""
VTT = f"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v {NAME}>{CUE} I restarted the pool\n"
HELD = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)

UNFILLED = {
    "/api/v1/imports/{job_id}": "import jobs carry a file's counts, never interview material",
    "/imports/jobs/{job_id}": "import jobs carry a file's counts, never interview material",
    "/imports/jobs/{job_id}/status": "import jobs carry a file's counts, never interview material",
    "/api/v1/problems/{key}": "problems link incidents, never interviews",
    "/problems/{key}": "problems link incidents, never interviews",
    "/problems/{key}/edit": "problems link incidents, never interviews",
    "/api/v1/slas/{sla_id}": "service levels count incidents, never interviews",
    "/api/v1/slas/{sla_id}/breaches": "service levels count incidents, never interviews",
    "/api/v1/slos/{slo_id}": "service levels count incidents, never interviews",
}
"""Routes whose path parameters this world cannot fill, each with why no interview
material can reach it. A new route with an unknown parameter fails `urls_of`."""

FORMATS = {
    "/incidents/{key}/report/export": ("md", "html", "pdf"),
}
"""Export formats per route; any other route with a `format` query parameter is asked for
JSON and CSV."""


@dataclass
class World:
    incidents: list[str]
    interviews: list[int]
    interviewee: int
    twin: int
    emails: dict[str, str]
    user_ids: dict[str, int]
    tokens: dict[str, str] = field(default_factory=dict)

    def values(self, path: str, name: str) -> list[str] | None:
        """The real values of path parameter `name` on `path`, None when unknown."""
        if name == "key" and path.startswith(("/incidents/", "/api/v1/incidents/")):
            return self.incidents
        if name == "interview_id":
            return [str(i) for i in self.interviews]
        if name == "person_id":
            return [str(self.interviewee)]
        if name == "ref" and "/teams/" in path:
            return ["payments"]
        if name == "ref" and "/services/" in path:
            return ["checkout"]
        return None


def _person(db: Session, name: str, email: str) -> int:
    return directory.create_person(db, SYSTEM, directory.PersonInput(name=name, email=email)).id


def _actor(db: Session, user_id: int) -> Actor:
    user = db.get(User, user_id)
    assert user is not None
    return users.actor_for(user)


@pytest.fixture
def world(db: Session) -> World:
    with writing(db):
        directory.create_team(db, SYSTEM, name="Payments")
        directory.create_service(db, SYSTEM, name="Checkout", team_slug="payments")
        interviewee = _person(db, NAME, "zara@example.com")
        twin = _person(db, TWIN, "zara.twin@example.com")
        ivy = _person(db, "Ivy Investigator", "ivy@example.com")
        rae = _person(db, "Rae Responder", "rae@example.com")
        otto = _person(db, "Otto Elsewhere", "otto@example.com")
        numbers = []
        for private in (False, True):
            incident, _ = repo.declare(
                db,
                SYSTEM,
                repo.IncidentInput(
                    title="Checkout timeouts", severity="SEV2", private=private,
                    services=["checkout"],
                ),
            )  # fmt: skip
            for role, person in (("investigator", ivy), ("responder", rae)):
                incident_roles.assign_role(
                    db, SYSTEM, incident.number, role=role, person_id=person, start=HELD
                )
            numbers.append(incident.number)
    emails = {
        "investigator on the incident": "ivy@example.com",
        "viewer": "viewer@example.com",
        "responder on the incident": "rae@example.com",
        "investigator off the incident": "otto@example.com",
        "admin": "admin@example.com",
    }
    roles = {
        "investigator on the incident": ("investigator", ivy),
        "viewer": ("viewer", None),
        "responder on the incident": ("responder", rae),
        "investigator off the incident": ("investigator", otto),
        "admin": ("admin", None),
    }
    user_ids = {
        who: make_user(db, emails[who], role, person_id=person)
        for who, (role, person) in roles.items()
    }
    inv = _actor(db, user_ids["investigator on the incident"])
    made = []
    with writing(db):
        for number in numbers:
            row = iv.plan_interview(
                db, inv, number, person_id=interviewee, questions=[f"{NOTES} question"]
            )
            iv.update_interview(
                db, inv, number, row.id, held_at=HELD, consent=False, notes=NOTES,
                recording_url=f"https://rec.example/{NOTES}",
            )  # fmt: skip
            iv.attach_transcript(db, inv, number, row.id, parse_vtt(VTT))
            made.append(row.id)
            reviews.assign_investigator(db, SYSTEM, number, ivy)
            document = reviews.generate_calibration(db, inv, number)
            reviews.share_calibration(db, inv, document.id)
            reports.create_report(db, inv, number)
            report_publishing.change_state(db, inv, number, "in review")
            report_publishing.change_state(db, inv, number, "published", confirmed=True)
        tokens = {
            who: users.issue_token(db, SYSTEM, user_id=user_id, name="canary").secret
            for who, user_id in user_ids.items()
        }
    incidents = [f"INC-{n}" for n in numbers]
    return World(incidents, made, interviewee, twin, emails, user_ids, tokens)


def get_routes(app: Any) -> list[APIRoute]:
    return [
        route
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute) and "GET" in route.methods
    ]


def urls_of(app: Any, world: World, *, api_only: bool = False) -> Iterator[tuple[str, str]]:
    """(url, twin's url) for every GET route with its path parameters filled with the
    world's real ids, once per export format and with `q` set to the canaries' shared word.
    The twin's url names the twin where the url names the interviewee."""
    for route in get_routes(app):
        path = route.path
        if api_only and not path.startswith("/api/"):
            continue
        names = [p.name for p in route.dependant.path_params]
        if path in UNFILLED:
            continue
        choices = [world.values(path, name) for name in names]
        unknown = [n for n, c in zip(names, choices, strict=True) if c is None]
        assert not unknown, f"{path}: fill {unknown} or list the route in UNFILLED with a reason"
        queries = {p.name for p in route.dependant.query_params}
        suffixes = [""]
        if "format" in queries:
            suffixes = [f"format={f}" for f in FORMATS.get(path, ("json", "csv"))]
        if "q" in queries:
            suffixes = [f"q={TOKEN}" + (f"&{s}" if s else "") for s in suffixes]
        for values in product(*(c or [] for c in choices)):
            url = twin = path
            for name, value in zip(names, values, strict=True):
                url = url.replace("{" + name + "}", value)
                other = str(world.twin) if name == "person_id" else value
                twin = twin.replace("{" + name + "}", other)
            for suffix in suffixes:
                yield (f"{url}?{suffix}", f"{twin}?{suffix}") if suffix else (url, twin)


def text_of(response: Response, tmp_path: Path) -> str:
    """The response as text; a PDF through pdftotext when installed (its streams are
    compressed, so the raw bytes would hide a leak)."""
    if response.headers.get("content-type", "").startswith("application/pdf"):
        if shutil.which("pdftotext") is None:
            pytest.skip("needs pdftotext (Debian poppler-utils) to read the PDF export")
        pdf = tmp_path / "export.pdf"
        pdf.write_bytes(response.content)
        done = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True)
        return done.stdout.decode()
    return response.content.decode("utf-8", errors="replace")


def leaks(body: str, twin_body: str | None = None) -> list[str]:
    """The canaries `body` shows; the name when it shows it more often than `twin_body`
    (by default the same body) shows the twin's."""
    found = [s for s in (*SECRETS, *TRACES) if s in body]
    if body.count(NAME) > (body if twin_body is None else twin_body).count(TWIN):
        found.append(NAME)
    return found


def as_principal(client: TestClient, world: World, who: str, how: str) -> None:
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    client.headers.pop("Authorization", None)
    if how == "session":
        login(client, world.emails[who])
    elif how == "token":
        client.headers["Authorization"] = f"Bearer {world.tokens[who]}"


PRINCIPALS = [
    (who, how)
    for who in (
        "viewer",
        "responder on the incident",
        "investigator off the incident",
        "admin",
    )
    for how in ("session", "token")
] + [("anonymous", "none")]


def sweep(app: Any, client: TestClient, world: World, how: str, tmp_path: Path) -> list[str]:
    """Every filled GET route as the client's principal: what leaked, and any 5xx."""
    found: list[str] = []
    seen = 0
    for url, twin in urls_of(app, world, api_only=how == "token"):
        response = client.get(url, follow_redirects=False)
        seen += 1
        if response.status_code >= 500:
            found.append(f"{url}: status {response.status_code}")
        body = text_of(response, tmp_path)
        if twin != url:
            other = client.get(twin, follow_redirects=False)
            leaked = leaks(body, text_of(other, tmp_path))
        else:
            leaked = leaks(body)
        if leaked:
            found.append(f"{url} ({response.status_code}): {leaked}")
    assert seen > (25 if how == "token" else 60), seen
    return found


def test_no_route_export_notification_or_error_shows_the_canary(
    app: Any, client: TestClient, db: Session, world: World, tmp_path: Path
) -> None:
    """One world, every principal who may not see the interviews (one test, so the world
    and its published reports are built once)."""
    found: list[str] = []
    for who, how in PRINCIPALS:
        as_principal(client, world, who, how)
        found += [f"{who} ({how}): {f}" for f in sweep(app, client, world, how, tmp_path)]
        if how == "none":
            continue
        mine = UserNotification.user_id == world.user_ids[who]
        sent = db.execute(select(UserNotification.subject, UserNotification.body).where(mine))
        found += [f"{who}: notification {row[0]!r}" for row in sent if leaks(" ".join(row))]
    assert not found, found


def test_the_canary_is_there_for_the_investigator_on_the_incident(
    client: TestClient, world: World
) -> None:
    """The check above can fail: the canaries are in the interview, and its reader sees them."""
    as_principal(client, world, "investigator on the incident", "session")
    for key in world.incidents:
        body = client.get(f"/api/v1/incidents/{key}/interviews").text
        assert all(s in body for s in SECRETS) and body.count(NAME) > body.count(TWIN)
        page = client.get(f"/incidents/{key}/interviews").text
        assert all(s in page for s in SECRETS)
        feed = client.get(f"/api/v1/incidents/{key}/activity").json()["items"]
        assert {"interview.planned", "interview.transcript_attached"} <= {i["action"] for i in feed}


@pytest.mark.parametrize("how", ["session", "token"])
def test_a_responder_cannot_remove_interview_material_or_learn_of_it_by_error(
    client: TestClient, db: Session, world: World, how: str
) -> None:
    as_principal(client, world, "responder on the incident", how)
    cues = db.scalars(select(InterviewCue.id)).all()
    assert cues
    listed = client.get("/api/v1/sources")
    assert listed.status_code == 200 and listed.json()["items"] == []
    for candidate in {*cues, *world.interviews}:
        response = client.delete(f"/api/v1/sources/{candidate}")
        assert response.status_code == 404, response.text
    db.expire_all()
    assert db.scalars(select(InterviewCue.id)).all() == cues
    refused = client.delete(f"/api/v1/people/{world.interviewee}")
    assert refused.status_code == 409
    assert "interview" not in refused.text and not [s for s in SECRETS if s in refused.text]
    assert "records you may not see" in refused.text
