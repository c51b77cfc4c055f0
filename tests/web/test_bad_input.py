"""Bad input is a 4xx naming the field, never a 500: generated from the app's route table, so a
new route is covered the day it is added. As an admin (who passes every access check and so
reaches the parsing), each route with an id gets an id past the database's integer range, each
JSON body gets a form, broken JSON, NaN and a wrong content type, and each form gets JSON and
malformed dates and numbers in every field the pages parse."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response

import afteraction.web.routes as routes_package

HUGE = "12345678901234567890"  # 20 digits: past 2**63-1, where SQLite refuses to bind
BAD_DATE = "2026-13-45T99:99"
ROUTES_DIR = Path(routes_package.__file__).parent
FORM_FIELD = re.compile(r"\.(moment|day|integer|zone)\(\"([a-z_]+)\"")


def form_fields() -> dict[str, str]:
    """Every field the page handlers parse as a time, day, zone or number, with a bad value."""
    fields: dict[str, str] = {}
    for module in ROUTES_DIR.glob("*.py"):
        for kind, name in FORM_FIELD.findall(module.read_text()):
            fields[name] = HUGE if kind == "integer" else BAD_DATE
    return fields


def int_params(route: Any, where: str) -> list[str]:
    params = route.dependant.path_params if where == "path" else route.dependant.query_params
    return [p.name for p in params if "int" in str(p.field_info.annotation)]


def fill(route: Any, key: str, huge: str | None = None) -> str:
    """The route's path with `key` for an incident and an unused id for every id, except `huge`."""
    path = route.path_format
    for param in route.dependant.path_params:
        if param.name == huge:
            value = HUGE
        elif param.name == "key":
            value = key
        elif "int" in str(param.field_info.annotation):
            value = "999999"
        else:
            value = "x"
        path = path.replace("{" + param.name + "}", value)
    return path


def write_methods(route: Any) -> list[str]:
    return sorted(route.methods & {"POST", "PUT", "PATCH", "DELETE"})


def send(client: TestClient, method: str, url: str, **kwargs: Any) -> Response:
    return client.request(method, url, follow_redirects=False, **kwargs)


def app_routes(app: Any) -> list[Any]:
    """The application's routes with their mount prefixes (FastAPI's route contexts)."""
    return [
        route
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        and route.endpoint.__module__.startswith("afteraction.")
    ]


@pytest.fixture
def setup(admin: TestClient) -> tuple[TestClient, str]:
    created = admin.post("/api/v1/incidents", json={"title": "Checkout down", "severity": "SEV2"})
    assert created.status_code == 201, created.text
    return admin, created.json()["id"]


def refused(response: Response, name: str | None = None) -> None:
    """A 4xx (or a redirect back to a form); a 422 from the API names the field (a
    repeated query parameter's value by its position too: `channel.0`)."""
    assert response.status_code < 500, response.text
    if name and response.status_code == 422 and "json" in response.headers["content-type"]:
        fields = [p["field"] for p in response.json()["error"]["details"]["problems"]]
        assert any(f == name or f.startswith(f"{name}.") for f in fields), response.text


def test_ids_past_the_integer_range_are_refused_naming_the_parameter(app, setup) -> None:
    client, key = setup
    seen = 0
    for route in app_routes(app):
        for name in int_params(route, "path"):
            for method in sorted(route.methods - {"HEAD"}):
                response = send(client, method, fill(route, key, huge=name))
                assert response.status_code == 422, (method, route.path, response.text)
                refused(response, name)
                seen += 1
        for name in int_params(route, "query"):
            for method in sorted(route.methods - {"HEAD"}):
                response = send(client, method, fill(route, key), params={name: HUGE})
                assert response.status_code == 422, (method, route.path, name, response.text)
                refused(response, name)
                seen += 1
    assert seen >= 40  # the table has that many id parameters: the walk found them


def test_json_bodies_refuse_forms_broken_json_nan_and_other_content_types(app, setup) -> None:
    client, key = setup
    seen = 0
    for route in app_routes(app):
        if route.body_field is None or not route.path.startswith("/api/"):
            continue
        for method in write_methods(route):
            url = fill(route, key)
            refused(send(client, method, url, data={"title": "x", "due": BAD_DATE}))
            refused(send(client, method, url, content=b'{"title": ', headers=json_type()))
            refused(send(client, method, url, content=b'{"x": NaN}', headers=json_type()))
            refused(send(client, method, url, content=b"title=x", headers={"content-type": "a/b"}))
            refused(send(client, method, url, content=b"[" * 5000 + b"]" * 5000))
            seen += 1
    assert seen >= 20


def test_forms_refuse_json_and_malformed_dates_and_numbers(app, setup) -> None:
    client, key = setup
    bad = form_fields()
    assert {"at", "due", "person_id", "start"} <= set(bad)
    token = client.headers["X-CSRF-Token"]
    seen = 0
    for route in app_routes(app):
        if route.path.startswith("/api/") or not write_methods(route):
            continue
        if route.path in ("/logout", "/login") or route.path.endswith("end-all"):
            continue  # these end the admin's session, which the walk needs
        for method in write_methods(route):
            url = fill(route, key)
            refused(send(client, method, url, json={"csrf_token": token, "title": "x"}))
            refused(send(client, method, url, data={"csrf_token": token, **bad}))
            seen += 1
    assert seen >= 30


def json_type() -> dict[str, str]:
    return {"content-type": "application/json"}


def test_counts_that_are_not_utf8_csv_are_refused_naming_the_file(setup) -> None:
    client, _key = setup
    url = "/api/v1/slos/1/counts"
    as_body = client.post(url, content=b"at,good\x92,total\n", headers={"content-type": "text/csv"})
    files = {"file": ("counts.csv", b"\x92\x93", "text/csv")}
    as_upload = client.post(url, files=files)
    for response in (as_body, as_upload):
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"]["field"] == "file"
        assert "not UTF-8" in response.json()["error"]["message"]


def test_text_holding_nul_is_refused_naming_the_field(admin: TestClient) -> None:
    """PostgreSQL cannot store a NUL character; the request model refuses it on both."""
    body = {"title": "Checkout\x00down", "severity": "SEV2"}
    response = admin.post("/api/v1/incidents", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field"] == "title"


@pytest.mark.parametrize("key", [HUGE, "³", "INC-" + HUGE])
def test_incident_keys_that_are_no_number_are_not_found(app, setup, key: str) -> None:
    client, _key = setup
    seen = 0
    for route in app_routes(app):
        if "key" not in [p.name for p in route.dependant.path_params]:
            continue
        for method in sorted(route.methods - {"HEAD"}):
            response = send(client, method, fill(route, key))
            assert response.status_code < 500, (method, route.path, response.text)
            seen += 1
    assert seen >= 40
