"""Incident report rules: the selectable templates (method.md 1.7), prefilling a template from
plain facts gathered by storage, report states, version diffs, section anchors, and the
readership arithmetic (dedupe windows, heartbeat credit, medians, "was it learned from?").

Lives here: pure functions over plain values. Must not live here: database access, HTML
rendering, and anything from confidential interviews except what `interviews_held` allows
(how many, which roles, names only with recorded consent) and quotes the investigator
marked deliberately (`ReportFacts.quotes`).
"""

from __future__ import annotations

import difflib
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from afteraction.core import times
from afteraction.core.errors import InvalidTransition, ValidationError
from afteraction.core.timeline import TimelineItem

REPORT_STATES: tuple[str, ...] = ("draft", "in review", "published")
_NEXT: Mapping[str, tuple[str, ...]] = {
    # published only from review: a draft goes to review first, a published report back to
    # review to publish a new version
    "draft": ("in review",),
    "in review": ("draft", "published"),
    "published": ("in review",),
}
MAX_BODY = 400_000
"""Largest report body accepted, in characters (a long report is about 60,000)."""


def next_report_states(current: str) -> tuple[str, ...]:
    """The states a report in `current` may move to."""
    return _NEXT.get(current, ())


def check_report_transition(current: str, target: str) -> str:
    if target not in REPORT_STATES:
        raise ValidationError(f"unknown report state {target!r}", field="state")
    if target not in _NEXT[current]:
        raise InvalidTransition(current, target, _NEXT[current])
    return target


def check_body(body: str) -> str:
    body = body.replace("\r\n", "\n").replace("\x00", "")
    if len(body) > MAX_BODY:
        raise ValidationError(
            f"the report is {len(body):,} characters; the limit is {MAX_BODY:,}", field="body"
        )
    return body


# -- facts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Responder:
    """`pages` and `first_involved` are the people analysis's (`core.analysis.involvement`:
    one definition of a page and of first involvement); None when not known."""

    name: str
    roles: tuple[str, ...] = ()
    team: str = ""
    minutes: int = 0
    arrival: str = ""
    pages: int | None = None
    first_involved: datetime | None = None


@dataclass(frozen=True, slots=True)
class Factor:
    """A contributing factor of the analysis and the moments it cites as its evidence, in
    time order (each `text` says where, who and, quoted, what)."""

    text: str
    evidence: tuple[TimelineItem, ...] = ()


@dataclass(frozen=True, slots=True)
class FollowUp:
    title: str
    kind: str
    owner: str = ""
    due: str = ""
    status: str = "open"
    url: str = ""


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """Everything a template can be prefilled with; storage gathers it from the incident and
    the analysis. Interview content never appears here: `interviewees` holds the lines
    `core.analysis.interviews.interviews_held` allows (how many, which roles, names only
    with recorded consent), and `quotes` the passages an investigator quoted deliberately.
    The evidence `contributors` cite is the incident's own (messages, pages, call cues,
    timeline entries), never an interview."""

    incident: str
    title: str
    severity: str = ""
    summary: str = ""
    customer_impact: str = ""
    investigators: tuple[str, ...] = ()
    responders: tuple[Responder, ...] = ()
    first_commander: str = ""
    last_commander: str = ""
    most_time: str = ""
    teams: tuple[str, ...] = ()
    interviewees: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()
    narrative: str = ""
    trigger: str = ""
    themes: tuple[str, ...] = ()
    open_questions: tuple[str, ...] = ()
    contributors: tuple[Factor, ...] = ()
    risks: tuple[str, ...] = ()
    mitigators: tuple[str, ...] = ()
    difficulties: tuple[str, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    references: tuple[tuple[str, str], ...] = ()
    timeline: tuple[TimelineItem, ...] = ()
    milestones: tuple[tuple[str, datetime | None, str], ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Template:
    id: str
    name: str
    description: str
    sections: tuple[str, ...]


TEMPLATES: Mapping[str, Template] = {
    t.id: t
    for t in (
        Template(
            "learning-review",
            "Learning review (default)",
            "The sections of a learning review: people, narrative, themes, contributors, "
            "risks, mitigators, difficulties, follow-ups, timeline.",
            (
                "Event",
                "Investigators",
                "Responders",
                "Interviews held",
                "Summary",
                "Narrative",
                "Impact",
                "Trigger",
                "Key takeaways, themes and open questions",
                "Contributors and enablers",
                "Risks",
                "Mitigators",
                "Difficulties during handling",
                "Follow-up items",
                "Resources and references",
                "Milestones",
                "Timeline",
            ),
        ),
        Template(
            "google-sre",
            "Google SRE book example",
            "Summary, impact, root causes, trigger, resolution, detection, action items, "
            "lessons learned, timeline.",
            (
                "Summary",
                "Impact",
                "Root causes",
                "Trigger",
                "Resolution",
                "Detection",
                "Action items",
                "Lessons learned",
                "Timeline",
            ),
        ),
        Template(
            "atlassian",
            "Atlassian",
            "Leadup, fault, impact, detection, response, recovery, timeline.",
            ("Leadup", "Fault", "Impact", "Detection", "Response", "Recovery", "Timeline"),
        ),
    )
}
DEFAULT_TEMPLATE = "learning-review"
TODO = "_To write._"


def check_template(template: str) -> Template:
    found = TEMPLATES.get(template)
    if found is None:
        raise ValidationError(
            f"unknown template {template!r}; known: {', '.join(TEMPLATES)}", field="template"
        )
    return found


def _list(items: Iterable[str]) -> str:
    lines = [f"- {item}" for item in items if item.strip()]
    return "\n".join(lines) if lines else TODO


def _clock(at: datetime | None) -> str:
    return times.display(at, missing="not recorded")


def _responders(facts: ReportFacts) -> str:
    lines = []
    if facts.first_commander:
        lines.append(f"- First commander: {facts.first_commander}")
    if facts.last_commander:
        lines.append(f"- Last commander: {facts.last_commander}")
    if facts.most_time:
        lines.append(f"- Spent the most time: {facts.most_time}")
    if facts.teams:
        lines.append(f"- Teams involved: {', '.join(facts.teams)}")
    if facts.responders:
        lines += ["", "| Person | Roles | Team | How they joined |", "|---|---|---|---|"]
        for r in facts.responders:
            lines.append(
                f"| {_cell(r.name)} | {_cell(', '.join(r.roles)) or '—'} | "
                f"{_cell(r.team) or '—'} | {_cell(r.arrival) or '—'} |"
            )
    return "\n".join(lines) if lines else TODO


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


CITED_SHOWN = 8
"""Moments listed on a factor's evidence line; the rest are counted."""


def _factors(facts: ReportFacts) -> str:
    """Each contributing factor, with an evidence line (time and source of what it cites)."""
    lines = []
    for factor in facts.contributors:
        if not factor.text.strip():
            continue
        lines.append(f"- {factor.text}")
        cited = [f"{_clock(e.at)}, {e.text}" for e in factor.evidence[:CITED_SHOWN]]
        more = len(factor.evidence) - CITED_SHOWN
        if more > 0:
            cited.append(f"and {more} more cited in the analysis")
        if cited:
            lines.append("  - Evidence: " + "; ".join(cited))
    return "\n".join(lines) if lines else TODO


def _follow_ups(facts: ReportFacts, kinds: Sequence[str] = ()) -> str:
    items = [f for f in facts.follow_ups if not kinds or f.kind in kinds]
    if not items:
        return TODO
    lines = ["| Item | Kind | Owner | Due | Status |", "|---|---|---|---|---|"]
    for item in items:
        title = f"[{_cell(item.title)}]({item.url})" if item.url else _cell(item.title)
        lines.append(
            f"| {title} | {item.kind} | {_cell(item.owner) or '—'} | {item.due or '—'} | "
            f"{item.status} |"
        )
    return "\n".join(lines)


def _timeline(facts: ReportFacts) -> str:
    if not facts.timeline:
        return TODO
    return "\n".join(f"- **{_clock(t.at)}** {t.text}" for t in facts.timeline)


def _milestones(facts: ReportFacts) -> str:
    if not facts.milestones:
        return TODO
    return "\n".join(
        f"- **{name}**: {_clock(at)} ({definition})" for name, at, definition in facts.milestones
    )


def _interviews(facts: ReportFacts) -> str:
    text = _list(facts.interviewees)
    if facts.quotes:
        text += "\n\n" + "\n\n".join(f"> {q}" for q in facts.quotes)
    return text


def _sections(facts: ReportFacts) -> dict[str, str]:
    themes = _list(facts.themes)
    if facts.open_questions:
        themes += "\n\nOpen questions:\n\n" + _list(facts.open_questions)
    references = _list(f"[{_cell(t or u)}]({u})" for t, u in facts.references)
    return {
        "Event": f"{facts.incident} ({facts.severity}): {facts.title}",
        "Investigators": _list(facts.investigators),
        "Responders": _responders(facts),
        "Interviews held": _interviews(facts),
        "Summary": facts.summary or TODO,
        "Narrative": facts.narrative or TODO,
        "Impact": facts.customer_impact or TODO,
        "Trigger": facts.trigger or TODO,
        "Key takeaways, themes and open questions": themes,
        "Contributors and enablers": _factors(facts),
        "Root causes": _factors(facts),
        "Risks": _list(facts.risks),
        "Mitigators": _list(facts.mitigators),
        "Difficulties during handling": _list(facts.difficulties),
        "Follow-up items": _follow_ups(facts),
        "Action items": _follow_ups(facts),
        "Recovery": _follow_ups(facts, ("recovery",)),
        "Resources and references": references,
        "Milestones": _milestones(facts),
        "Timeline": _timeline(facts),
        "Detection": _milestone_line(facts, "detected"),
        "Resolution": _milestone_line(facts, "resolved"),
        "Lessons learned": "### What went well\n\n"
        + _list(facts.mitigators)
        + "\n\n### What went wrong\n\n"
        + _list(facts.difficulties)
        + "\n\n### Where we got lucky\n\n"
        + TODO,
        "Response": _responders(facts),
        "Leadup": facts.narrative or TODO,
        "Fault": facts.trigger or TODO,
    }


def _milestone_line(facts: ReportFacts, name: str) -> str:
    for milestone, at, definition in facts.milestones:
        if milestone == name:
            return f"{name.capitalize()} at {_clock(at)} ({definition})."
    return TODO


def prefill(template: str, facts: ReportFacts) -> str:
    """The Markdown body of a new report from `template`, filled from `facts`."""
    chosen = check_template(template)
    content = _sections(facts)
    parts = [f"# {facts.incident}: {facts.title}", ""]
    for section in chosen.sections:
        parts += [f"## {section}", "", content.get(section, TODO), ""]
    return "\n".join(parts)


# -- publishing --------------------------------------------------------------------------


def _sections_of(body: str) -> list[tuple[str | None, list[str]]]:
    """(heading or None for the text before the first `##`, its lines), in order."""
    out: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in body.splitlines():
        heading = _HEADING.match(line)
        if heading and heading.group(1) == "##":
            out.append((heading.group(2), []))
        else:
            out[-1][1].append(line)
    return out


def _unfilled(lines: Sequence[str]) -> bool:
    return all(not line.strip() or line.strip() == TODO for line in lines)


def unfilled_sections(body: str) -> list[str]:
    """Sections (`## ...`) with nothing in them but the template's hint or blank lines."""
    return [name for name, lines in _sections_of(body) if name is not None and _unfilled(lines)]


def without_hints(body: str) -> str:
    """The body as readers get it: sections with nothing but the template's hint are left
    out, and a hint line left anywhere else is dropped. The hints are for writers only."""
    kept: list[str] = []
    for name, lines in _sections_of(body):
        if name is not None and _unfilled(lines):
            continue
        if name is not None:
            kept.append(f"## {name}")
        kept += [line for line in lines if line.strip() != TODO]
    return "\n".join(kept).strip("\n") + ("\n" if body.endswith("\n") else "")


@dataclass(frozen=True, slots=True)
class PublishCheck:
    """What publishing would leave as it is: open language findings, open claim findings
    (claims that disagree with the evidence) and unfilled sections. Any of them needs the
    publisher's confirmation; `clean_required` (an organisation setting) refuses publishing
    while any finding, language or claim, is open, confirmed or not."""

    open_findings: int
    unfilled: tuple[str, ...]
    clean_required: bool = False
    open_claims: int = 0

    @property
    def refused(self) -> str | None:
        if self.clean_required and (self.open_findings or self.open_claims):
            return (
                f"{self._open()} are open, and this organisation publishes only reports with "
                "none open: fix or dismiss them first"
            )
        return None

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.open_findings or self.open_claims or self.unfilled)

    def _open(self) -> str:
        parts = []
        if self.open_findings:
            parts.append(f"{self.open_findings} language finding(s)")
        if self.open_claims:
            parts.append(f"{self.open_claims} claim finding(s)")
        return " and ".join(parts)

    def summary(self) -> str:
        parts = []
        if self.open_findings:
            parts.append(f"{self.open_findings} language finding(s) are open")
        if self.open_claims:
            parts.append(f"{self.open_claims} claim(s) disagree with the evidence")
        if self.unfilled:
            parts.append("unfilled sections (left out for readers): " + ", ".join(self.unfilled))
        return "; ".join(parts)


# -- versions and sections ---------------------------------------------------------------


def diff(old: str, new: str, *, old_label: str = "before", new_label: str = "after") -> str:
    """A unified diff between two bodies (empty when they are equal)."""
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), old_label, new_label, lineterm="", n=2
    )
    return "\n".join(lines)


_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:80] or "section"


def sections(body: str) -> list[tuple[str, str]]:
    """(anchor, title) of every level-2 heading: the places comments attach to."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for match in _HEADING.finditer(body):
        if len(match.group(1)) != 2:
            continue
        slug = base = slugify(match.group(2))
        n = 2
        while slug in seen:
            slug, n = f"{base}-{n}", n + 1
        seen.add(slug)
        out.append((slug, match.group(2)))
    return out


# -- readership --------------------------------------------------------------------------

READ_WINDOW = timedelta(minutes=30)
"""Opens of the same report by the same person within this window count as one read."""
HEARTBEAT_SECONDS = 15
"""How often the reading page reports activity while the tab is visible."""
MAX_CREDIT = 20
"""Seconds credited per heartbeat at most, however late it arrives."""
MIN_BEAT_GAP = 5
"""Heartbeats closer than this to the previous one earn nothing (reload and replay storms)."""


def same_read(last_seen: datetime | None, now: datetime) -> bool:
    return last_seen is not None and now - last_seen < READ_WINDOW


def heartbeat_credit(last_beat: datetime | None, now: datetime) -> int:
    """Seconds of active reading one heartbeat adds: the gap since the last one, capped;
    nothing when beats come too fast."""
    if last_beat is None:
        return 0
    gap = (now - last_beat).total_seconds()
    if gap < MIN_BEAT_GAP:
        return 0
    return int(min(gap, MAX_CREDIT))


def median(values: Iterable[float]) -> float | None:
    items = list(values)
    return statistics.median(items) if items else None


@dataclass(frozen=True, slots=True)
class LearningRow:
    """One incident on the "was it learned from?" page. Definitions in LEARNING_DEFINITIONS."""

    incident: str
    title: str
    days_to_publish: float | None
    readers: int
    teams_read: int
    teams_involved: int
    attendance: int
    survey: str
    items_done: int
    items_total: int

    @property
    def team_share(self) -> float | None:
        return self.teams_read / self.teams_involved if self.teams_involved else None

    @property
    def follow_through(self) -> float | None:
        return self.items_done / self.items_total if self.items_total else None


LEARNING_DEFINITIONS: Mapping[str, str] = {
    "days to publish": "first publication of the report − incident resolved (or started), in days",
    "readers": "distinct people who opened the published report",
    "teams that read it": "involved teams (the incident's teams and its responders' teams) "
    "with at least one member who opened the report, over all involved teams",
    "attendance": "people marked present at the review meeting",
    "survey": "Etsy's test: at least one attendee learned something new and at least half "
    "would attend again",
    "action items done": "action items marked done over all action items of the incident "
    "(items marked won't do count as not done)",
    "reading time": "active seconds with the report visible, from heartbeats every "
    f"{HEARTBEAT_SECONDS} s, each capped at {MAX_CREDIT} s; medians, never means",
}


def days_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 86400, 1)
