"""Count and duration claims: "paged twice", "five responders", "for 40 minutes", compared
with the people analysis and the milestone durations."""

from __future__ import annotations

import re
from datetime import timedelta

from afteraction.core.analysis.claims.model import (
    _HEDGE,
    _NUM,
    _WORDS,
    WINDOW,
    ClaimFinding,
    Evidence,
    _hedged,
    _sentence,
    number,
)

# -- count claims ------------------------------------------------------------------------

_NOUN_COUNTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern, re.I))
    for key, pattern in (
        ("people_paged", rf"\bpaged\s+{_NUM}\s+(?:people|engineers|responders|persons)\b"),
        ("people_paged", rf"\b{_NUM}\s+(?:people|engineers|responders)\s+(?:were|got)\s+paged\b"),
        ("pages", rf"\b{_NUM}\s+pages\s+(?:were sent|went out|in total)\b"),
        ("responders", rf"\b{_NUM}\s+responders\b(?!\s+(?:of|from|in)\b)"),
        ("people", rf"\b{_NUM}\s+people\s+(?:took part|were involved|were in the incident)\b"),
        ("teams", rf"\b{_NUM}\s+teams\s+(?:were\s+)?(?:involved|took part)\b"),
        ("teams", rf"\binvolved\s+{_NUM}\s+teams\b"),
    )
)
_COUNT_NOUNS = {
    "people_paged": "people paged",
    "pages": "pages",
    "responders": "responders",
    "people": "people who took part",
    "teams": "teams involved",
}
_PERSON_PAGED = re.compile(
    rf"\bpaged\s+(?:{_NUM}\s+times\b|(?P<w>once|twice|thrice)\b)"
    rf"|\b(?:received|got|had)\s+(?P<n2>\d{{1,3}}|[a-z]+)\s+pages\b",
    re.I,
)


def _written_like(value: int, written: str) -> str:
    """`value` written the way the claim wrote its number: a word or digits."""
    if written.isdigit() or value > 20:
        return str(value)
    word = _WORDS[value]
    return word.capitalize() if written[:1].isupper() else word


def _count_findings(text: str, masked: str, evidence: Evidence) -> list[ClaimFinding]:
    out: list[ClaimFinding] = []
    taken: list[tuple[int, int]] = []
    for key, pattern in _NOUN_COUNTS:
        figure = evidence.counts.get(key)
        if figure is None or not isinstance(figure.value, int):
            continue
        for match in pattern.finditer(masked):
            claimed = number(match.group("n"))
            overlaps = any(a < match.end() and match.start() < b for a, b in taken)
            if claimed is None or overlaps or match.group("n").lower() in ("a", "an"):
                continue
            taken.append((match.start(), match.end()))
            if _hedged(masked, match.start("n")) or claimed == figure.value:
                continue
            said = text[match.start() : match.end()]
            n0, n1 = match.start("n") - match.start(), match.end("n") - match.start()
            fixed = said[:n0] + _written_like(figure.value, said[n0:n1]) + said[n1:]
            out.append(
                ClaimFinding(
                    kind="count",
                    text=said,
                    message=f"The evidence gives {figure.value} {_COUNT_NOUNS[key]}, "
                    f"not {match.group('n')}.",
                    evidence=figure.text,
                    link=figure.link,
                    suggestion=f"Say {fixed!r}.",
                    start=match.start(),
                    end=match.end(),
                    replacement=fixed,
                )
            )
    return out


def _person_pages(
    text: str, masked: str, evidence: Evidence, names: re.Pattern[str] | None
) -> list[ClaimFinding]:
    if names is None:
        return []
    pages = {p.name: p for p in evidence.participants}
    out: list[ClaimFinding] = []
    for match in _PERSON_PAGED.finditer(masked):
        word = match.group("w") or match.group("n") or match.group("n2")
        claimed = number(word)
        begin, _end = _sentence(masked, match.start())
        named = [m.group(0) for m in names.finditer(masked, begin, match.start())]
        who = pages.get(named[-1]) if named else None
        if claimed is None or who is None or _hedged(masked, match.start()):
            continue
        if claimed == who.pages:
            continue
        said = text[match.start() : match.end()]
        if match.group("n2"):
            fixed = f"{said.split()[0]} {_written_like(who.pages, word)} pages"
        else:
            fixed = "paged " + {1: "once", 2: "twice"}.get(who.pages, f"{who.pages} times")
        out.append(
            ClaimFinding(
                kind="count",
                text=said,
                message=f"The people analysis counts {who.pages} page(s) to {who.name} in "
                f"this incident, not {word}.",
                evidence=f"{who.name}: {who.pages} page(s) in the incident (a page: "
                "notifications for one alert within 5 minutes count once)",
                link=who.link or evidence.people_link,
                suggestion=f"Say {fixed!r}.",
                start=match.start(),
                end=match.end(),
                replacement=fixed if who.pages else None,
            )
        )
    return out


# -- duration claims ---------------------------------------------------------------------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(
    rf"\b(?P<lead>for|lasted|took|after|within|in)\s+(?:(?P<hedge>{_HEDGE})\s+)?"
    rf"(?:(?P<half>half an hour)|{_NUM}\s+(?P<unit>seconds?|secs?|minutes?|mins?|hours?|hrs?|"
    r"days?)\b)",
    re.I,
)
_RELATIVE_AFTER = re.compile(
    r"\s+(?:after|before|until|since|later|earlier|into|of|past|ago|per|each|every|from|"
    r"between|a day|a week)\b",
    re.I,
)
_TOPICS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"\bdetect\w*|\bnoticed\b", re.I), ("time_to_detect",)),
    (
        re.compile(r"\backnowledg\w*", re.I),
        ("time_to_acknowledge", "time_to_acknowledge_from_detect"),
    ),
    (re.compile(r"\bmitigat\w*|\brecover\w*|\brestored\b", re.I), ("time_to_mitigate",)),
    (re.compile(r"\bresol\w*", re.I), ("time_to_resolve",)),
    (
        re.compile(
            r"\bimpact\w*|\boutage\b|\bdowntime\b|\bunavailable\b|\b(?:were|was) down\b|"
            r"\bfail(?:ed|ing)\b",
            re.I,
        ),
        ("impact", "time_to_mitigate"),
    ),
)
_AT_MOST = {"under", "less than", "fewer than", "at most", "up to", "just under"}
_AT_LEAST = {"over", "more than", "at least", "just over"}


def _seconds_of(match: re.Match[str]) -> tuple[float, int] | None:
    """(claimed seconds, the unit's seconds)."""
    if match.group("half"):
        return 1800.0, 60
    value = number(match.group("n"))
    if value is None:
        return None
    unit = _UNITS[match.group("unit")[0].lower()]
    return value * unit, unit


def _agrees(claimed: float, unit: int, actual: float, lead: str, hedge: str) -> bool:
    tolerance = max(WINDOW.total_seconds(), unit / 2 if unit >= 3600 else 0, 0.1 * actual)
    if hedge and hedge not in _AT_MOST | _AT_LEAST:
        tolerance = max(tolerance, 0.25 * actual)
    if hedge in _AT_MOST or lead == "within":
        return actual <= claimed + tolerance
    if hedge in _AT_LEAST:
        return actual >= claimed - tolerance
    return abs(actual - claimed) <= tolerance


def _spoken(seconds: float, unit: int) -> str:
    if unit >= 3600 and seconds >= 3600:
        hours = round(seconds / 3600)
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _duration_findings(text: str, masked: str, evidence: Evidence) -> list[ClaimFinding]:
    out: list[ClaimFinding] = []
    for match in _DURATION.finditer(masked):
        amount = _seconds_of(match)
        if amount is None or _RELATIVE_AFTER.match(masked, match.end()):
            continue
        begin, end = _sentence(masked, match.start())
        sentence = masked[begin:end]
        keys = [k for pattern, ks in _TOPICS if pattern.search(sentence) for k in ks]
        figures = [f for k in dict.fromkeys(keys) for f in evidence.durations.get(k, ())]
        if not figures:
            continue
        lead, hedge = match.group("lead").lower(), (match.group("hedge") or "").lower()
        claimed, unit = amount
        actuals = [f.value.total_seconds() for f in figures if isinstance(f.value, timedelta)]
        if any(_agrees(claimed, unit, a, lead, hedge) for a in actuals):
            continue
        said = text[match.start() : match.end()]
        first = figures[0]
        value = actuals[0]
        fixed = f"{match.group('lead')} {_spoken(value, unit)}"
        single = len({round(a) for a in actuals}) == 1 and not hedge
        out.append(
            ClaimFinding(
                kind="duration",
                text=said,
                message="The milestones give "
                + "; ".join(f.text for f in figures)
                + f", not {said[len(match.group('lead')) + 1 :]}.",
                evidence="; ".join(f.text for f in figures),
                link=first.link,
                suggestion=f"Say {fixed!r}, or name which stretch of time this is."
                if single
                else "Check the duration against the milestones, or name which stretch it is.",
                start=match.start(),
                end=match.end(),
                replacement=fixed if single else None,
            )
        )
    return out
