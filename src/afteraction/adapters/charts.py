"""Report diagrams as SVG: the incident timeline chart (milestones, key events, pages, people
joining) and the participation chart (messages per person), written as Vega-Lite
specifications and rendered by vl-convert.

Lives here: building the specs from plain values and rendering them. Must not live here:
database access or interview content. The specs are plain dictionaries (Vega-Lite JSON)
rather than Altair objects: importing Altair costs half a second per process and adds
nothing for two fixed charts. The SVG is produced by vl-convert's own renderer, so it is
static (no script) and safe to inline in HTML and PDF.

Rendering costs about 100 ms a chart while the specs are cheap to build, so the last
`CACHE_SIZE` SVGs are kept in process memory keyed by a digest of their spec: the same
values always give the same SVG, and a chart whose data changed (a new key event, a renamed
person) has a new spec and is drawn afresh.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

LANES = ("milestone", "key event", "page", "joined")
MAX_EVENTS = 400
MAX_PEOPLE = 30
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
CACHE_SIZE = 32

_rendered: OrderedDict[bytes, str] = OrderedDict()
_rendered_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ChartEvent:
    at: datetime
    lane: str
    label: str


def _config() -> dict[str, Any]:
    return {
        "font": FONT,
        "axis": {"labelFontSize": 10, "titleFontSize": 11},
        "legend": {"labelFontSize": 10, "titleFontSize": 11},
        "view": {"stroke": None},
    }


def timeline_spec(events: Sequence[ChartEvent], *, width: int = 640) -> dict[str, Any]:
    """Events on a time axis, one lane per kind; at most MAX_EVENTS (evenly thinned)."""
    chosen = list(events)
    if len(chosen) > MAX_EVENTS:
        step = len(chosen) / MAX_EVENTS
        chosen = [chosen[int(i * step)] for i in range(MAX_EVENTS)]
    values = [
        {"at": e.at.isoformat(), "lane": e.lane, "label": e.label[:80]}
        for e in sorted(chosen, key=lambda e: e.at)
    ]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": width,
        "height": 40 * len(LANES),
        "data": {"values": values},
        "mark": {"type": "point", "filled": True, "size": 70},
        "encoding": {
            "x": {
                "field": "at",
                "type": "temporal",
                "title": "time (UTC)",
                "axis": {"format": "%b %d %H:%M", "labelAngle": -30},
            },
            "y": {"field": "lane", "type": "nominal", "title": None, "sort": list(LANES)},
            "color": {
                "field": "lane",
                "type": "nominal",
                "legend": None,
                "scale": {
                    "domain": list(LANES),
                    "range": ["#b42318", "#1d4ed8", "#b45309", "#047857"],
                },
            },
            "shape": {"field": "lane", "type": "nominal", "legend": None},
            "tooltip": [{"field": "label"}, {"field": "at", "type": "temporal"}],
        },
        "config": _config(),
    }


def participation_spec(counts: Sequence[tuple[str, int]], *, width: int = 520) -> dict[str, Any]:
    """Messages per person, most active first (at most MAX_PEOPLE bars)."""
    rows = sorted(counts, key=lambda c: (-c[1], c[0]))[:MAX_PEOPLE]
    values = [{"person": name, "messages": n} for name, n in rows]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": width,
        "height": {"step": 18},
        "data": {"values": values},
        "mark": {"type": "bar", "color": "#1d4ed8"},
        "encoding": {
            "y": {"field": "person", "type": "nominal", "sort": "-x", "title": None},
            "x": {"field": "messages", "type": "quantitative", "title": "messages"},
        },
        "config": _config(),
    }


def render_svg(spec: dict[str, Any]) -> str:
    """The SVG of a Vega-Lite `spec`, from the cache when the same spec was drawn lately."""
    try:
        text = json.dumps(spec, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return _draw(spec)  # not plain JSON: let vl-convert judge it, uncached
    key = hashlib.sha256(text.encode()).digest()
    with _rendered_lock:
        svg = _rendered.get(key)
        if svg is not None:
            _rendered.move_to_end(key)
            return svg
    svg = _draw(spec)
    with _rendered_lock:
        _rendered[key] = svg
        while len(_rendered) > CACHE_SIZE:
            _rendered.popitem(last=False)
    return svg


def _draw(spec: dict[str, Any]) -> str:
    import vl_convert

    svg: str = vl_convert.vegalite_to_svg(spec)
    return svg


def timeline_svg(events: Sequence[ChartEvent]) -> str:
    return render_svg(timeline_spec(events)) if events else ""


def participation_svg(counts: Sequence[tuple[str, int]]) -> str:
    return render_svg(participation_spec(counts)) if counts else ""
