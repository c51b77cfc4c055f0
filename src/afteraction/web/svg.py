"""Server-side SVG charts for the analysis workspace: the people swimlane chart (one lane
per person: arrival, pages, messages, reactions-only and observer marks, on/off call).

Hand-built SVG strings with every text escaped; no JavaScript, prints as it shows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from html import escape

from afteraction.core import times
from afteraction.core.analysis.people import IncidentContext, PeopleAnalysis
from afteraction.core.evidence import EvidenceBundle

LANE = 22
LEFT = 180
WIDTH = 900
MAX_MARKS = 400


def _x(at: datetime, start: datetime, span: float) -> float:
    offset = (at - start).total_seconds()
    return LEFT + max(0.0, min(1.0, offset / span)) * (WIDTH - LEFT - 10)


def swimlanes(bundle: EvidenceBundle, context: IncidentContext, analysis: PeopleAnalysis) -> str:
    """An SVG swimlane chart; empty string when nobody appears."""
    people = analysis.people
    if not people:
        return ""
    start, end = context.start, context.end
    span = max((end - start).total_seconds(), 60.0)
    said: dict[str, list[datetime]] = defaultdict(list)
    for message in bundle.messages:
        if message.author_key and not message.hidden and message.subtype is None:
            said[message.author_key].append(message.at)
    paged: dict[str, list[datetime]] = defaultdict(list)
    for page in bundle.pages:
        if page.person_key and page.kind == "notify" and start <= page.at <= end:
            paged[page.person_key].append(page.at)
    height = LANE * len(people) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="swimlanes" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-label="Swimlanes: when each person was paged, arrived and wrote">',
        f'<text x="{LEFT}" y="{height - 8}" class="axis">{escape(times.display(start))}</text>',
        f'<text x="{WIDTH - 10}" y="{height - 8}" class="axis" text-anchor="end">'
        f"{escape(times.display(end))}</text>",
    ]
    for row, person in enumerate(people):
        y = 20 + row * LANE
        lane_class = "off-call" if person.on_call_at_arrival is False else "lane"
        parts.append(
            f'<rect x="{LEFT}" y="{y - 8}" width="{WIDTH - LEFT - 10}" height="16" '
            f'class="{lane_class}"/>'
        )
        label = person.name + (" (observer)" if person.is_observer else "")
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end" class="name">'
            f"{escape(label[:28])}</text>"
        )
        if person.first_seen is not None:
            x = _x(person.first_seen, start, span)
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y}" r="5" '
                f'class="arrival arrival-{escape(person.arrival)}">'
                f"<title>{escape(person.name)} arrived ({escape(person.arrival)}) at "
                f"{person.first_seen:%H:%M} UTC</title></circle>"
            )
        for at in paged.get(person.person_key, [])[:MAX_MARKS]:
            x = _x(at, start, span)
            parts.append(
                f'<path d="M{x:.1f} {y - 7} l4 7 l-8 0 z" class="page">'
                f"<title>paged {at:%H:%M} UTC</title></path>"
            )
        for at in said.get(person.person_key, [])[:MAX_MARKS]:
            parts.append(
                f'<rect x="{_x(at, start, span):.1f}" y="{y - 5}" width="1.5" height="10" '
                'class="msg"/>'
            )
    parts.append("</svg>")
    return "".join(parts)
