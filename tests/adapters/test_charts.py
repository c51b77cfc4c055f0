"""Report diagrams: the specs built from plain values and the cache of rendered SVGs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from afteraction.adapters import charts

T0 = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record what reaches the renderer instead of running vl-convert."""
    calls: list[dict[str, Any]] = []

    def fake(spec: dict[str, Any]) -> str:
        calls.append(spec)
        return f"<svg>{len(calls)}</svg>"

    monkeypatch.setattr(charts, "_draw", fake)
    monkeypatch.setattr(charts, "_rendered", type(charts._rendered)())
    return calls


def test_same_spec_is_drawn_once(drawn: list[dict[str, Any]]) -> None:
    events = [charts.ChartEvent(T0, "milestone", "started")]
    first = charts.timeline_svg(events)
    assert charts.timeline_svg(list(events)) == first == "<svg>1</svg>"
    assert len(drawn) == 1
    assert drawn[0]["data"]["values"] == [
        {"at": T0.isoformat(), "lane": "milestone", "label": "started"}
    ]


def test_changed_data_is_drawn_again(drawn: list[dict[str, Any]]) -> None:
    assert charts.participation_svg([("Ada", 3)]) == "<svg>1</svg>"
    assert charts.participation_svg([("Ada", 4)]) == "<svg>2</svg>"
    assert charts.participation_svg([("Ada", 3)]) == "<svg>1</svg>"
    assert len(drawn) == 2


def test_cache_keeps_only_the_latest(drawn: list[dict[str, Any]]) -> None:
    for n in range(charts.CACHE_SIZE + 1):
        charts.participation_svg([("Ada", n + 1)])
    assert len(charts._rendered) == charts.CACHE_SIZE
    charts.participation_svg([("Ada", 1)])  # the oldest was dropped: drawn again
    assert len(drawn) == charts.CACHE_SIZE + 2


def test_spec_that_is_not_plain_json_is_not_cached(drawn: list[dict[str, Any]]) -> None:
    spec = {"data": {"values": [{"at": T0}]}}
    charts.render_svg(spec)
    charts.render_svg(spec)
    assert len(drawn) == 2
    assert not charts._rendered


def test_nothing_to_draw_gives_no_svg(drawn: list[dict[str, Any]]) -> None:
    assert charts.timeline_svg([]) == ""
    assert charts.participation_svg([]) == ""
    assert not drawn


def test_timeline_thins_events_evenly() -> None:
    events = [
        charts.ChartEvent(T0 + timedelta(minutes=i), "page", f"page {i}")
        for i in range(charts.MAX_EVENTS * 2)
    ]
    values = charts.timeline_spec(events)["data"]["values"]
    assert len(values) == charts.MAX_EVENTS
    assert values[1]["label"] == "page 2"


def test_real_render_is_an_svg() -> None:
    pytest.importorskip("vl_convert")
    svg = charts.participation_svg([("Ada", 3), ("Grace", 5)])
    assert svg.lstrip().startswith("<svg") and "Grace" in svg
    assert charts.participation_svg([("Ada", 3), ("Grace", 5)]) == svg
