"""Report exports shared by the pages, the API and the CLI: Markdown, standalone HTML (inline
CSS and SVG diagrams, no script, no external resource) and PDF (WeasyPrint over that HTML).

Every export starts from `services.reports.readable`, so it respects the incident's
visibility and shows what the caller may read; the body is the report text, whose facts come
from the analysis without interview content. Markdown is rendered by `render_markdown`
(raw HTML off, nh3-sanitised); the diagrams are SVG made by vl-convert from plain values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.adapters import charts
from afteraction.adapters.markdown import render_markdown
from afteraction.adapters.pdf import html_to_pdf
from afteraction.core import report_rules as rules
from afteraction.core.access import Actor
from afteraction.core.errors import ValidationError
from afteraction.services import incidents as incidents_repo
from afteraction.services import reports
from afteraction.storage.analysis_tables import TimelineEntry
from afteraction.storage.evidence_tables import Page
from afteraction.storage.tables import Incident

FORMATS = ("md", "html", "pdf")
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
_H2 = re.compile(r"<h2>(.*?)</h2>", re.DOTALL)

CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#1f2933;max-width:46rem;
margin:2rem auto;padding:0 1rem;line-height:1.5;font-size:11pt}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:1.6rem;
border-bottom:1px solid #d9dee3;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border:1px solid #d9dee3;
padding:.25rem .4rem;text-align:left;vertical-align:top}
blockquote{border-left:3px solid #9aa5b1;margin-left:0;padding-left:.8rem;color:#3e4c59}
code,pre{font-family:"DejaVu Sans Mono",monospace;font-size:.9em}pre{white-space:pre-wrap}
.meta{color:#52606d;font-size:.9em}figure{margin:1rem 0;page-break-inside:avoid}
figure svg{max-width:100%;height:auto}figcaption{font-size:.85em;color:#52606d}
@page{size:A4;margin:18mm 16mm;@bottom-right{content:counter(page) " / " counter(pages);
font-size:9pt;color:#52606d}}
"""


@dataclass(frozen=True, slots=True)
class Diagrams:
    timeline: str = ""
    participation: str = ""


def chart_data(
    session: Session, incident: Incident
) -> tuple[list[charts.ChartEvent], list[tuple[str, int]]]:
    """Timeline events (milestones, accepted key events, pages, people joining) and messages
    per person, from the incident, its analysis and its evidence."""
    events = [
        charts.ChartEvent(at, "milestone", name)
        for name, at in incidents_repo.milestones_of(incident).items()
        if at is not None
    ]
    for at, text in session.execute(
        select(TimelineEntry.at, TimelineEntry.text).where(
            TimelineEntry.incident_id == incident.id, TimelineEntry.status == "accepted"
        )
    ):
        events.append(charts.ChartEvent(at, "key event", text))
    for at, summary in session.execute(
        select(Page.at, Page.summary).where(Page.incident_id == incident.id).limit(2000)
    ):
        events.append(charts.ChartEvent(at, "page", summary))
    counts: list[tuple[str, int]] = []
    analysis = reports.people_analysis(session, incident)
    if analysis is not None:
        for person in analysis.people:
            if person.first_seen is not None:
                events.append(charts.ChartEvent(person.first_seen, "joined", person.name))
            if person.messages:
                counts.append((person.name, person.messages))
    return events, counts


def diagrams(session: Session, incident: Incident) -> Diagrams:
    events, counts = chart_data(session, incident)
    return Diagrams(charts.timeline_svg(events), charts.participation_svg(counts))


def with_anchors(html: str, body: str) -> Markup:
    """Give each level-2 heading the id its comments attach to."""
    anchors = iter(rules.sections(body))

    def add(match: re.Match[str]) -> str:
        slug = next(anchors, None)
        if slug is None:
            return match.group(0)
        return f'<h2 id="{slug[0]}">{match.group(1)}</h2>'

    return Markup(_H2.sub(add, html))


def body_html(body: str) -> Markup:
    return with_anchors(str(render_markdown(body)), body)


def to_markdown(readable: reports.Readable) -> str:
    incident, version = readable.incident, readable.version
    state = "draft" if readable.is_draft_view else readable.report.state
    header = (
        f"<!-- {incident.public_id} report, version {version.number} ({state}), exported "
        f"{_now()} -->\n\n"
    )
    return header + readable.body.rstrip() + "\n"


def to_html(readable: reports.Readable, drawn: Diagrams) -> str:
    incident, version = readable.incident, readable.version
    state = "draft" if readable.is_draft_view else readable.report.state
    figures = ""
    if drawn.timeline:
        figures += f"<figure>{drawn.timeline}<figcaption>Timeline: milestones, key events, "
        figures += "pages and people joining (UTC).</figcaption></figure>"
    if drawn.participation:
        figures += f"<figure>{drawn.participation}<figcaption>Participation: messages per "
        figures += "person in the incident channels.</figcaption></figure>"
    diagrams_html = f"<h2>Diagrams</h2>{figures}" if figures else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(incident.public_id)} {escape(incident.title)}</title>"
        f"<style>{CSS}</style></head><body>"
        f'<p class="meta">{escape(incident.public_id)} · {escape(incident.severity)} · '
        f"report version {version.number} ({escape(state)}) · exported {_now()}</p>"
        f"{body_html(readable.body)}{diagrams_html}</body></html>"
    )


def _now() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def export(session: Session, actor: Actor, key: str | int, fmt: str) -> tuple[bytes, str, str]:
    """(content, media type, file name) of the report in `fmt` (md, html or pdf)."""
    if fmt not in FORMATS:
        raise ValidationError(f"format must be one of {', '.join(FORMATS)}", field="format")
    readable = reports.readable(session, actor, key)
    name = f"{readable.incident.public_id}-report-v{readable.version.number}.{fmt}"
    if fmt == "md":
        return to_markdown(readable).encode(), MEDIA_TYPES[fmt], name
    html = to_html(readable, diagrams(session, readable.incident))
    if fmt == "html":
        return html.encode(), MEDIA_TYPES[fmt], name
    return html_to_pdf(html), MEDIA_TYPES[fmt], name
