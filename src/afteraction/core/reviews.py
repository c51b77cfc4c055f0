"""Learning review rules (method.md section 1): the review lifecycle, due dates per severity,
assignment warnings, calibration votes, the meeting agenda and the post-meeting survey.

Lives here: pure functions over plain values (ids, dates, strings). Must not live here: any
database access, rendering of HTML, or reading of interview content (calibration documents
name who was interviewed, never what they said).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from afteraction.core.errors import InvalidTransition, ValidationError

REVIEW_STATES: tuple[str, ...] = (
    "unassigned",
    "in progress",
    "calibration",
    "meeting",
    "in review",
    "published",
    "not required",
)
OPEN_REVIEW_STATES: frozenset[str] = frozenset(REVIEW_STATES[:5])
_FORWARD: Mapping[str, tuple[str, ...]] = {
    "unassigned": ("in progress", "not required"),
    "in progress": ("calibration", "meeting", "in review", "not required", "unassigned"),
    "calibration": ("meeting", "in progress", "not required"),
    "meeting": ("in review", "calibration", "in progress"),
    "in review": ("published", "in progress", "meeting"),
    "published": ("in review",),
    "not required": ("unassigned", "in progress"),
}
DEFAULT_OPEN_REVIEW_LIMIT = 3
MIN_THEMES = 2
MAX_THEMES = 5


def allowed_next(state: str) -> tuple[str, ...]:
    return _FORWARD.get(state, ())


def check_transition(current: str, target: str, *, reason: str = "") -> str:
    """`target` if the review may move there from `current`; "not required" needs a reason."""
    if target not in REVIEW_STATES:
        raise ValidationError(
            f"unknown review state {target!r}; known: {', '.join(REVIEW_STATES)}", field="state"
        )
    if target not in allowed_next(current):
        raise InvalidTransition(current, target, allowed_next(current))
    if target == "not required" and not reason.strip():
        raise ValidationError("say why no review is needed", field="reason")
    return target


# -- due dates ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueRule:
    """The meeting is due `days` after the incident ends, counted in calendar or business
    days (Monday to Friday); the report is due `report_days` calendar days after that."""

    days: int
    business: bool = False
    report_days: int = 7


DEFAULT_DUE_RULES: Mapping[str, DueRule] = {
    "SEV1": DueRule(3, business=False),
    "SEV2": DueRule(5, business=True),
}


def parse_due_rules(text: str) -> dict[str, DueRule]:
    """`"SEV1=3,SEV2=5b"` → rules (b marks business days); bad parts are a ValidationError."""
    out: dict[str, DueRule] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        severity, _, value = part.partition("=")
        value = value.strip().lower()
        business = value.endswith("b")
        digits = value.rstrip("b")
        if not severity.strip() or not digits.isdigit():
            raise ValidationError(
                f"due rule {part!r} is not like SEV1=3 or SEV2=5b", field="review_due_days"
            )
        out[severity.strip().upper()] = DueRule(int(digits), business=business)
    return out


def add_business_days(start: date, days: int) -> date:
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def due_dates(
    severity: str, ended: date, rules: Mapping[str, DueRule] = DEFAULT_DUE_RULES
) -> tuple[date | None, date | None]:
    """(meeting due, report due) for an incident of `severity` that ended on `ended`;
    (None, None) when the severity has no rule."""
    rule = rules.get(severity)
    if rule is None:
        return None, None
    if rule.business:
        meeting = add_business_days(ended, rule.days)
    else:
        meeting = ended + timedelta(days=rule.days)
    return meeting, meeting + timedelta(days=rule.report_days)


def is_overdue(state: str, meeting_due: date | None, report_due: date | None, today: date) -> bool:
    """A review is overdue when its next deadline has passed and it is not finished."""
    if state not in OPEN_REVIEW_STATES:
        return False
    before_meeting = state in ("unassigned", "in progress", "calibration", "meeting")
    deadline = meeting_due if before_meeting else report_due
    return deadline is not None and deadline < today


# -- assignment warnings -----------------------------------------------------------------


def managers_above(person_id: int, managers: Mapping[int, int | None]) -> list[int]:
    """The manager chain above `person_id` (nearest first); cycles stop the walk."""
    chain: list[int] = []
    current = managers.get(person_id)
    while current is not None and current not in chain and current != person_id:
        chain.append(current)
        current = managers.get(current)
    return chain


def assignment_warnings(
    investigator: int,
    responders: Mapping[int, str],
    managers: Mapping[int, int | None],
    open_reviews: int,
    *,
    limit: int = DEFAULT_OPEN_REVIEW_LIMIT,
    names: Mapping[int, str] | None = None,
) -> list[str]:
    """Why `investigator` may be a poor choice (method.md 1.1): they responded, they manage
    a responder (anywhere up the chain), or they already carry `limit` open reviews."""
    label = dict(names or {})
    warnings: list[str] = []
    if investigator in responders:
        warnings.append(
            f"{label.get(investigator, 'This person')} was a responder "
            f"({responders[investigator]}); an investigator who was not involved sees more."
        )
    for responder in sorted(responders):
        if responder != investigator and investigator in managers_above(responder, managers):
            warnings.append(
                f"{label.get(investigator, 'This person')} is in the management chain of "
                f"responder {label.get(responder, str(responder))}; interviewees may speak "
                "less freely."
            )
    if open_reviews >= limit:
        warnings.append(
            f"{label.get(investigator, 'This person')} already has {open_reviews} open "
            f"reviews (limit {limit})."
        )
    return warnings


# -- calibration -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalibrationInput:
    """What a calibration document is made of. `interviewees` are the lines
    `core.analysis.interviews.interviews_held` allows, never interview content."""

    incident: str
    title: str
    data_reviewed: Sequence[str]
    interviewees: Sequence[str]
    themes: Sequence[str]
    open_questions: Sequence[str]


def _bullets(items: Sequence[str], empty: str) -> list[str]:
    return [f"- {item}" for item in items] if items else [f"_{empty}_"]


def calibration_markdown(data: CalibrationInput) -> str:
    lines = [
        f"# Calibration: {data.incident} {data.title}",
        "",
        "Read this before the review meeting, then vote for the 2 to 5 themes you most want "
        "to discuss.",
        "",
        "## Data reviewed",
        *_bullets(data.data_reviewed, "no evidence imported yet"),
        "",
        "## Interviews held",
        *_bullets(data.interviewees, "no interviews recorded"),
        "",
        "## Emerging themes",
        *_bullets(data.themes, "no themes noted yet"),
        "",
        "## Open questions",
        *_bullets(data.open_questions, "no open questions noted"),
        "",
    ]
    return "\n".join(lines)


def check_vote(themes: Sequence[str], chosen: Sequence[str]) -> list[str]:
    """A voter's choice: between MIN_THEMES and MAX_THEMES distinct known themes (fewer when
    the document has fewer themes)."""
    picked = list(dict.fromkeys(chosen))
    unknown = [t for t in picked if t not in themes]
    if unknown:
        raise ValidationError(f"unknown theme {unknown[0]!r}", field="themes")
    low = min(MIN_THEMES, len(themes))
    if not low <= len(picked) <= MAX_THEMES:
        raise ValidationError(
            f"choose between {low} and {MAX_THEMES} themes (you chose {len(picked)})",
            field="themes",
        )
    return picked


def tally(themes: Sequence[str], votes: Iterable[str]) -> list[tuple[str, int]]:
    """Votes per theme, most voted first (ties keep the document's order)."""
    counts = dict.fromkeys(themes, 0)
    for theme in votes:
        if theme in counts:
            counts[theme] += 1
    order = {theme: i for i, theme in enumerate(themes)}
    return sorted(counts.items(), key=lambda item: (-item[1], order[item[0]]))


def chosen_themes(results: Sequence[tuple[str, int]], most: int = MAX_THEMES) -> list[str]:
    return [theme for theme, count in results[:most] if count > 0]


# -- meeting -----------------------------------------------------------------------------

GROUND_RULES: tuple[str, ...] = (
    "Blame-aware: notice the pull to blame, then move past it.",
    "No counterfactuals: talk about what happened, not what should have.",
    "Deep dives and fixes go to the parking lot.",
)


def meeting_agenda(
    incident: str, themes: Sequence[str], done: Sequence[str], next_steps: Sequence[str]
) -> str:
    """The agenda of method.md 1.6 as Markdown."""
    lines = [
        f"# Review meeting: {incident}",
        "",
        "## Ground rules",
        *[f"- {rule}" for rule in GROUND_RULES],
        "",
        "## Agenda",
        "1. Context: what the incident was and who took part.",
        "2. How the review was done: data reviewed, interviews held.",
        "3. The narrative, walked through together.",
        "4. Themes chosen in calibration:",
        *([f"   - {theme}" for theme in themes] or ["   - (no votes yet)"]),
        "5. What has been done already:",
        *([f"   - {item}" for item in done] or ["   - (nothing recorded yet)"]),
        "6. Next steps:",
        *([f"   - {item}" for item in next_steps] or ["   - (to be agreed)"]),
        "",
    ]
    return "\n".join(lines)


SURVEY_QUESTIONS: Mapping[str, str] = {
    "learned": "Did you learn something new about our systems or how we work?",
    "again": "Would you attend another review meeting like this one?",
    "useful": "What was most useful?",
    "change": "What would you change next time?",
}


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    learned: bool
    again: bool
    useful: str = ""
    change: str = ""


@dataclass(frozen=True, slots=True)
class SurveySummary:
    """Etsy's test: at least one person learned something and at least half would attend
    again."""

    responses: int
    learned: int
    again: int
    useful: tuple[str, ...]
    change: tuple[str, ...]

    @property
    def passes(self) -> bool:
        return self.responses > 0 and self.learned >= 1 and 2 * self.again >= self.responses

    @property
    def verdict(self) -> str:
        if not self.responses:
            return "no responses yet"
        return "passes Etsy's test" if self.passes else "does not pass Etsy's test"


def summarise_survey(answers: Iterable[SurveyAnswer]) -> SurveySummary:
    items = list(answers)
    return SurveySummary(
        responses=len(items),
        learned=sum(a.learned for a in items),
        again=sum(a.again for a in items),
        useful=tuple(a.useful for a in items if a.useful.strip()),
        change=tuple(a.change for a in items if a.change.strip()),
    )
