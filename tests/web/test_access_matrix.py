"""The role × route × object matrix: every route of the app (API and pages, every method),
every principal (anonymous, and each role with a session and with an API token), and every
incident a route can name (public, public with an interview, private with an interview).
The expected outcome of each request comes from the one rule table in `access_rules.py`;
a route without a rule fails by name. Writes carry a body that passes the request model,
so a refusal must come before validation (a denied caller gets 403/404, never 422).

Reads run first, then writes, each on rows made for it (see `fill`), so a delete or a
revoked token never changes what the next request finds. All mismatches are collected and
reported as one table."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from afteraction.config import development_settings
from afteraction.storage import db as storage_db
from afteraction.storage.db import writing
from tests.conftest import _empty
from tests.web import access_world as w
from tests.web.access_rules import KNOWN, RULES, Expect, expect

pytestmark = pytest.mark.slow

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
SIGNS_OUT = frozenset({"/logout", "/account/sessions/end-all"})
"""Where a redirect to the login page is the success, and sessions must be opened again."""
UPLOADS = frozenset(
    {"/api/v1/imports", "/api/v1/slos/{slo_id}/counts", "/imports", "/slos/{slo_id}/counts"}
)
NOT_ACCESS = frozenset({"suggestion"})
"""Rows a body names (not the path): their 404 comes after the access checks passed."""
STATIC_PREFIXES = ("/static",)


@dataclass(slots=True)
class Matrix:
    app: Any
    db: Session
    world: w.World
    clients: dict[str, TestClient]


@pytest.fixture(scope="module")
def matrix(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Matrix]:
    from afteraction.web.app import create_app

    tmp = tmp_path_factory.mktemp("matrix")
    settings = development_settings(
        database_url=database_url,
        environment="test",
        queue_url="memory:",
        uploads_dir=tmp / "uploads",
    )
    app = create_app(settings)
    db = storage_db.make_session_factory(engine)()
    try:
        world = w.seed(db, tmp)
        world.principals = w.principals(world)
        with TestClient(app):  # runs the lifespan once for every client below
            clients = {p.name: w.client_for(app, world, p) for p in world.principals}
            yield Matrix(app, db, world, clients)
    finally:
        db.close()
        _empty(engine)


# -- the route table -----------------------------------------------------------------------


def app_routes(app: Any) -> list[tuple[str, Any]]:
    """("METHOD path", route) for every method of every route, HEAD aside."""
    found = []
    for route in iter_route_contexts(app.routes):
        methods = getattr(route, "methods", None)
        if not methods or route.path.startswith(STATIC_PREFIXES):
            continue
        for method in sorted(methods - {"HEAD"}):
            found.append((f"{method} {route.path}", route))
    return found


def objects_for(path: str, world: w.World) -> list[w.IncidentObject | None]:
    """The incidents a route can name: all of them when its path names an incident (or a row
    of one), none otherwise."""
    if "{source_id}" in path:  # unattached, and attached to each incident
        return [None, *world.incidents]
    names_incident = "/incidents/{key}" in path or "{item_id}" in path
    return list(world.incidents) if names_incident else [None]


# -- filling paths and bodies ------------------------------------------------------------


INCIDENT_ROWS = {
    "role_id": w.make_role,
    "impact_id": w.make_impact,
    "item_id": w.make_item,
    "entry_id": w.make_entry,
    "annotation_id": w.make_annotation,
}


def fill(
    m: Matrix, method: str, path: str, principal: w.Principal, obj: w.IncidentObject | None
) -> str:
    """The path with real ids: seeded rows for reads, rows made for this request for writes."""
    world, db = m.world, m.db
    fresh = method not in SAFE
    own = principal.user_id or world.users["viewer"]
    values: dict[str, str] = {}
    for name in re.findall(r"{(\w+)}", path):
        if not fresh or name == "job_id":  # recording a job commits on its own
            values[name] = str(_value(db, world, name, path, obj, fresh, own))
            continue
        with writing(db):
            values[name] = str(_value(db, world, name, path, obj, fresh, own))
    return path.format(**values)


def _value(
    db: Session,
    world: w.World,
    name: str,
    path: str,
    obj: w.IncidentObject | None,
    fresh: bool,
    own: int,
) -> object:
    target = obj or world.incidents[0]
    if name == "key" and "/problems/" in path:
        return w.make_problem(db, world) if fresh else "failover"
    if name == "key":
        return target.key
    if name in INCIDENT_ROWS:
        return INCIDENT_ROWS[name](db, world, target) if fresh else target.ids[name]
    if name == "interview_id":
        # an incident without an interview is asked for another incident's interview
        other = next(i for i in world.incidents if i.interview_id is not None)
        return target.interview_id or other.interview_id
    if name in ("doc_id", "meeting_id", "comment_id"):
        return target.ids[name]
    if name == "decision":
        return "accept"
    if name == "person_id":
        return w.make_person(db, world) if fresh else world.people["sue"]
    if name == "ref":
        maker = w.make_team if "/teams/" in path else w.make_service
        return maker(db, world) if fresh else ("payments" if "/teams/" in path else "checkout")
    if name == "user_id":
        return w.make_user(db, world)
    if name == "token_id":
        return w.make_token(db, own)
    if name == "session_id":
        return w.make_session(db, own)
    if name == "subscription_id":
        return w.make_subscription(db, own)
    if name == "job_id":
        return w.make_job(db, world) if fresh else world.ids["job_id"]
    if name == "source_id":
        return w.make_source(db, world, obj) if fresh else world.ids["source_id"]
    if name == "slo_id":
        return w.make_slo(db, world) if fresh else world.ids["slo_id"]
    if name == "sla_id":
        return w.make_sla(db, world) if fresh else world.ids["sla_id"]
    raise AssertionError(f"no value for path parameter {name!r} of {path}")


SOON = "2026-10-20T09:30:00+00:00"
JSON_FIELDS: dict[str, Any] = {
    "reason": "Matrix probe",
    "title": "Matrix probe",
    "name": "Matrix probe",
    "severity": "SEV3",
    "status": "mitigated",
    "body": "Checked the pool",
    "role": "scribe",
    "start": SOON,
    "url": "https://example.com/matrix",
    "passage": "Rolling back",
    "kind": "theme",
    "text": "A note",
    "slug": "matrix",
    "label": "Matrix",
    "milestone": "mitigated",
    "milestones": {"mitigated": SOON},
    "team": "payments",
    "service": "checkout",
    "objective": 0.995,
    "within_seconds": 3600,
    "password": "a much longer password 1",
    "start_at": SOON,
    "end_at": "2026-10-20T09:40:00+00:00",
    "key": "suggestion",
    # reports are drafts or published in the world: "draft" moves none of them
    "state": "draft",
}


def json_body(route: Any, world: w.World, unique: int) -> dict[str, Any] | None:
    """A body the route's request model accepts: required fields from JSON_FIELDS (ids point
    at the spare person), plus a unique email/slug/name where the model has one."""
    if route.body_field is None:
        return None
    model = route.body_field.field_info.annotation
    fields = getattr(model, "model_fields", {})
    body: dict[str, Any] = {}
    for name, info in fields.items():
        if name.endswith("person_id") or name == "owner_id":
            if info.is_required():
                body[name] = world.people["pat"]
        elif name == "email":
            body[name] = f"matrix-{unique}@example.com"
        elif name in ("slug", "key") and not info.is_required():
            continue
        elif name in ("name", "title") and info.is_required():
            body[name] = f"Matrix probe {unique}"
        elif info.is_required():
            body[name] = JSON_FIELDS[name]
    if "role" in fields and "users" in route.path:
        body["role"] = "viewer"
    if "kind" in fields and "action-items" in route.path:
        body["kind"] = "prevention"
    return body


FORM_FIELD = re.compile(r"form\.(text|moment|day|integer|flag|many|csv)\(\s*\"([a-z_]+)\"")
FORM_VALUES: dict[str, str] = {
    "title": "Matrix probe",
    "name": "Matrix probe",
    "severity": "SEV3",
    "status": "mitigated",
    "body": "Checked the pool",
    "role": "scribe",
    "time_zone": "UTC",
    "at": "2026-10-20T09:30",
    "start": "2026-10-20T09:30",
    "end": "2026-10-20T09:40",
    "scheduled_at": "2026-10-21T09:30",
    "held_at": "2026-10-21T09:30",
    "recording_start": "2026-10-20T09:00",
    "url": "https://example.com/matrix",
    "kind": "theme",
    "text": "A note",
    "milestone": "mitigated",
    "team": "payments",
    "service": "checkout",
    "state": "in review",
    "action": "notes",
    "notes": "More notes",
    "passage": "Rolling back",
    "section": "summary",
    "emoji": "👍",
    "themes": "Pool limits were invisible",
    "objective": "99.5",
    "window_days": "30",
    "within_minutes": "60",
    "measured_from": "started",
    "learned": "yes",
    "again": "yes",
    "template": "default",
    "reason": "matrix",
    "decision": "accept",
    "vtt": w.VTT,
    "fingerprint": "x",
}


def form_body(route: Any, world: w.World, unique: int) -> dict[str, Any]:
    """The fields the page handler reads (found in its source), with plausible values."""
    source = inspect.getsource(route.endpoint)
    body: dict[str, Any] = {}
    for kind, name in FORM_FIELD.findall(source):
        if kind == "day":
            body[name] = "2026-10-21" if name.startswith("end") else "2026-10-20"
        elif name in ("person_id", "owner_id"):
            body[name] = str(world.people["pat"])
        elif name == "email":
            body[name] = f"matrix-{unique}@example.com"
        elif name in ("name", "title"):
            body[name] = f"Matrix probe {unique}"
        elif name in FORM_VALUES:
            body[name] = FORM_VALUES[name]
    if route.path.endswith("/milestones"):
        body["mitigated"] = "2026-10-20T09:30"
    if route.path.endswith("/issue"):  # open a tracker issue (a link has its own route)
        body = {"system": "jira", "next": "/action-items"}
    if route.path.endswith("/timeline/suggestions"):
        body["key"] = "no-such-suggestion"
    if "/admin/users" in route.path:
        body |= {"role": "viewer", "password": "a much longer password 1", "active": "yes"}
    return body


def send(
    m: Matrix,
    key: str,
    route: Any,
    principal: w.Principal,
    obj: w.IncidentObject | None,
    unique: int,
) -> Response:
    method, path = key.split(" ", 1)
    client = m.clients[principal.name]
    url = fill(m, method, path, principal, obj)
    if method in SAFE:
        return client.request(method, url, follow_redirects=False)
    if path in UPLOADS:
        return client.request(
            method, url, files=_upload(path), data=_upload_fields(m, path), follow_redirects=False
        )
    if path.startswith("/api/"):
        body = json_body(route, m.world, unique)
        return client.request(method, url, json=body, follow_redirects=False)
    return client.request(
        method, url, data=form_body(route, m.world, unique), follow_redirects=False
    )


def _upload(path: str) -> dict[str, tuple[str, bytes, str]]:
    if "counts" in path:
        return {
            "file": ("counts.csv", b"at,good,total\n2026-10-20T09:00:00+00:00,99,100\n", "text/csv")
        }
    return {"file": ("meeting.vtt", w.VTT.encode(), "text/vtt")}


def _upload_fields(m: Matrix, path: str) -> dict[str, str]:
    if "counts" in path:
        return {}
    return {
        "kind": "transcript",
        "incident": m.world.incidents[0].key,
        "recording_start": w.T0.isoformat(),
    }


# -- judging answers -----------------------------------------------------------------------


def observed(path: str, response: Response) -> str:
    """What the answer amounts to: login, 403, 404, 5xx or allowed."""
    status = response.status_code
    location = response.headers.get("location", "")
    redirected = status in (302, 303, 307)
    if status == 401 or (redirected and location.startswith("/login?next=")):
        return "login"
    if redirected and location == "/login" and path not in SIGNS_OUT:
        return "login"
    if status == 404 and said(response).startswith(tuple(f"{kind} " for kind in NOT_ACCESS)):
        return "allowed"
    if status in (403, 404):
        return str(status)
    if status >= 500:
        return "5xx"
    return "allowed"


def matches(outcome: str, wanted: Expect) -> bool:
    return outcome == "allowed" if wanted.allowed else outcome in wanted.refusals


def known(route: str, obj: w.IncidentObject | None, outcome: str) -> bool:
    """A deviation another change is fixing (see KNOWN in access_rules)."""
    wanted = KNOWN.get((route, obj.name if obj else None))
    return wanted is not None and outcome == wanted


@dataclass(frozen=True, slots=True)
class Cell:
    route: str
    principal: str
    incident: str
    wanted: str
    got: str


def run(m: Matrix, routes: list[tuple[str, Any]], *, writes: bool) -> tuple[int, list[Cell]]:
    sent, wrong = 0, []
    for key, route in routes:
        method, path = key.split(" ", 1)
        if (method not in SAFE) != writes:
            continue
        for obj in objects_for(path, m.world):
            for principal in m.world.principals:
                sent += 1
                wanted = expect(key, principal, obj)
                response = send(m, key, route, principal, obj, sent)
                outcome = observed(path, response)
                if not matches(outcome, wanted) and not known(key, obj, outcome):
                    detail = f"{outcome} {response.status_code} {said(response)!r}"
                    wrong.append(
                        Cell(key, principal.name, obj.name if obj else "-", str(wanted), detail)
                    )
                if path in SIGNS_OUT:
                    _stay_signed_in(m)
    return sent, wrong


def _stay_signed_in(m: Matrix) -> None:
    """Sign back in whoever a write signed out (logout; signing out everywhere also ends the
    sessions of the same user's other client)."""
    for principal in m.world.principals:
        if principal.via == "session" and m.clients[principal.name].get("/api/v1/me").is_error:
            m.clients[principal.name] = w.client_for(m.app, m.world, principal)


def said(response: Response) -> str:
    """The gist of an answer: the error message, the page's alert or title, or the target."""
    if "location" in response.headers:
        return f"-> {response.headers['location']}"[:120]
    text = response.text
    if "json" in response.headers.get("content-type", ""):
        error = response.json().get("error") if text.startswith("{") else None
        return str(error["message"] if isinstance(error, dict) else text)[:120]
    for marker in ('role="alert">', "<title>"):
        if marker in text:
            return text.split(marker, 1)[1].split("<", 1)[0].strip()[:120]
    return text[:80]


def table(cells: list[Cell]) -> str:
    lines = [f"{'route':58} {'principal':26} {'incident':18} {'wanted':8} got"]
    lines += [f"{c.route:58} {c.principal:26} {c.incident:18} {c.wanted:8} {c.got}" for c in cells]
    return "\n".join(lines)


# -- the tests -----------------------------------------------------------------------------


def test_every_route_has_a_rule(matrix: Matrix) -> None:
    keys = [key for key, _route in app_routes(matrix.app)]
    missing = [f"add a rule for {key}" for key in keys if key not in RULES]
    stale = [f"remove the rule for {key} (no such route)" for key in RULES if key not in keys]
    assert not missing and not stale, "\n".join(missing + stale)


def test_reads_follow_the_rules(matrix: Matrix) -> None:
    sent, wrong = run(matrix, app_routes(matrix.app), writes=False)
    assert sent > 1500, sent
    assert not wrong, f"{len(wrong)} of {sent} reads disagree with the rules:\n{table(wrong)}"


def test_writes_follow_the_rules_and_refuse_before_validating(matrix: Matrix) -> None:
    sent, wrong = run(matrix, app_routes(matrix.app), writes=True)
    assert sent > 1500, sent
    assert not wrong, f"{len(wrong)} of {sent} writes disagree with the rules:\n{table(wrong)}"
