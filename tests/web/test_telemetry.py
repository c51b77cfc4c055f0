"""FastAPI's OpenTelemetry support follows `AFTERACTION_OPENTELEMETRY`: off by default, when
no request looks for the process's providers; on, requests report to them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace

from afteraction.config import Settings
from afteraction.web.app import create_app


@pytest.mark.parametrize("enabled", [False, True])
def test_requests_look_for_providers_only_when_telemetry_is_on(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    looked: list[object] = []
    real = trace.get_tracer_provider

    def counted() -> trace.TracerProvider:
        looked.append(1)
        return real()

    monkeypatch.setattr(trace, "get_tracer_provider", counted)
    app = create_app(settings.model_copy(update={"opentelemetry": enabled}))
    with TestClient(app) as client:
        looked.clear()
        assert client.get("/healthz").status_code == 200
    assert bool(looked) is enabled
