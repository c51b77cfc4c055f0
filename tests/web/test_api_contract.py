"""The typed API contract: every `/api/v1` route declares its response model (or, for a
body that is not JSON — a file, CSV, 204 — explicit `responses`), takes Pydantic request
bodies, and the OpenAPI document describes every response body. Walks the app's route
table, so a new route without a model fails here."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from afteraction.config import development_settings

NON_JSON = {"text/csv", "text/markdown", "text/html", "application/pdf"}


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    from afteraction.web.app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('contract') / 'unused.db'}"
    return create_app(development_settings(database_url=url, queue_url="memory:"))


def api_routes(app: FastAPI) -> list[Any]:
    routes = [
        route
        for route in iter_route_contexts(app.routes)
        if (route.path or "").startswith("/api/v1")
        and isinstance(route.original_route, APIRoute)
        and route.endpoint.__module__.startswith("afteraction.")
    ]
    assert len(routes) >= 91  # the route table was walked, not skipped
    return routes


def _declared_other_content(route: Any) -> bool:
    """A 204 or a non-JSON body, declared in `responses` for the route's status code."""
    answer = route.responses.get(route.status_code or 200) or route.responses.get(
        str(route.status_code or 200)
    )
    if answer is None:
        return False
    return route.status_code == 204 or bool(NON_JSON & set(answer.get("content", {})))


def _is_model(annotation: object) -> bool:
    return inspect.isclass(annotation) and issubclass(annotation, BaseModel)


def test_every_route_declares_its_response(api_app: FastAPI) -> None:
    """A Pydantic model, not a bare `dict` (FastAPI would take `-> dict[str, Any]` for one)."""
    missing = [
        f"{sorted(route.methods)} {route.path}"
        for route in api_routes(api_app)
        if not _is_model(route.response_model) and not _declared_other_content(route)
    ]
    assert missing == []


def test_every_json_body_is_a_pydantic_model(api_app: FastAPI) -> None:
    loose = []
    for route in api_routes(api_app):
        for param in route.dependant.body_params:
            annotation = param.field_info.annotation
            is_model = _is_model(annotation)
            is_form = type(param.field_info).__name__ in ("Form", "File")
            if not (is_model or is_form):
                loose.append(f"{sorted(route.methods)} {route.path}: {param.name}")
    assert loose == []


def test_openapi_describes_every_response_body(api_app: FastAPI) -> None:
    document = api_app.openapi()
    undescribed = []
    for path, operations in document["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in operations.items():
            ok = {
                code: answer
                for code, answer in operation["responses"].items()
                if code.startswith("2")
            }
            assert ok, f"{method} {path} declares no success response"
            for code, answer in ok.items():
                if code == "204":
                    continue
                content = answer.get("content", {})
                schema = content.get("application/json", {}).get("schema")
                if not (schema or NON_JSON & set(content)):
                    undescribed.append(f"{method.upper()} {path} {code}")
    assert undescribed == []


def test_every_write_describes_its_request_body(api_app: FastAPI) -> None:
    document = api_app.openapi()
    bodiless = [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        if path.startswith("/api/v1")
        for method, operation in operations.items()
        if method in ("post", "put", "patch") and "requestBody" not in operation
    ]
    assert bodiless == []


def test_an_undeclared_field_is_refused_not_sent() -> None:
    from afteraction.services.schemas import ReadModel

    class Shape(ReadModel):
        name: str

    with pytest.raises(ValueError, match="extra"):
        Shape.model_validate({"name": "x", "secret": "y"})
