"""The claim check's values and shared reading helpers: `Figure`, `Participant`, `Evidence`
(what the caller computed; its events are `core.timeline.TimelineItem`s), `ClaimFinding`,
the masking of quoted evidence and code, written numbers, hedges and sentence bounds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, timedelta, tzinfo

from afteraction.core.timeline import TimelineItem

WINDOW = timedelta(minutes=2)
"""A time claim holds when an event lies this close to it."""
SUGGEST_WITHIN = timedelta(minutes=60)
"""A wrong time is offered a replacement (the nearest event's) only this close to it."""
KINDS = ("time", "count", "duration", "person")


@dataclass(frozen=True, slots=True)
class Figure:
    """A number the product computed: `value` is a count (int) or a duration."""

    value: int | timedelta
    text: str
    link: str = ""


@dataclass(frozen=True, slots=True)
class Participant:
    name: str
    pages: int = 0
    link: str = ""


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a report's claims are checked against. `counts` keys: responders, people,
    teams, people_paged, pages; `durations` keys: the milestone metric ids
    (`time_to_detect`, …) and `impact`. `on_record` are names the incident's record holds
    besides the participants (investigators, interviewees, action item owners): naming them
    is not a claim that they took part, so they are never person findings."""

    events: tuple[TimelineItem, ...] = ()
    participants: tuple[Participant, ...] = ()
    on_record: frozenset[str] = frozenset()
    directory: tuple[str, ...] = ()
    counts: Mapping[str, Figure] = field(default_factory=dict)
    durations: Mapping[str, tuple[Figure, ...]] = field(default_factory=dict)
    zone: tzinfo = UTC
    people_link: str = ""


@dataclass(frozen=True, slots=True)
class ClaimFinding:
    """A claim that disagrees with the evidence. `line`/`column` are 1-based (`end_column`
    exclusive, on `end_line`); `start`/`end` index the text; `evidence` quotes what the
    product computed and `link` points at it; `replacement`, when set, is text that can
    replace the span."""

    kind: str
    text: str
    message: str
    evidence: str
    link: str
    suggestion: str
    start: int
    end: int
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    replacement: str | None = None
    fingerprint: str = ""
    category: str = "claim"


# -- masking: quoted evidence and code are not claims ------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_QUOTED = re.compile(r"(`+)[^`]*?\1|\"[^\"\n]{0,400}\"|“[^”]{0,600}”|\]\([^)\s]*\)|https?://\S+")


def _blank(s: str) -> str:
    return re.sub(r"[^\n]", " ", s)


def mask(text: str) -> str:
    """`text` (same length) with code, block quotes, quoted text and URLs blanked."""
    out: list[str] = []
    fence: str | None = None
    for line in text.splitlines(keepends=True):
        opener = _FENCE.match(line)
        if fence is not None or opener:
            if fence is None and opener:
                fence = opener.group(1)[0] * 3
            elif fence is not None and line.strip().startswith(fence):
                fence = None
            out.append(_blank(line))
        elif line.lstrip(" ").startswith(">"):
            out.append(_blank(line))
        else:
            out.append(line)
    return _QUOTED.sub(lambda m: _blank(m.group(0)), "".join(out))


# -- numbers -----------------------------------------------------------------------------

_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()
NUMBER_WORDS: dict[str, int] = {w: i for i, w in enumerate(_WORDS)} | {
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90,
    "a": 1, "an": 1, "once": 1, "twice": 2, "thrice": 3,
}  # fmt: skip
_NUM = r"(?P<n>\d{1,4}+(?:\.\d+)?+|[A-Za-z]++)"
"""A number in a pattern: digits or any word, which `number()` reads (faster than an
alternation of every number word at each word boundary)."""
_HEDGE = (
    r"(?:about|around|roughly|nearly|almost|approximately|approx\.?|circa|some|over|under|"
    r"more than|less than|fewer than|at least|at most|up to|just over|just under|~)"
)


def number(word: str) -> float | None:
    """A written number: digits, a number word, "once"/"twice"; None otherwise."""
    word = word.lower()
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word]
    try:
        return float(word)
    except ValueError:
        return None


# -- sentences and spans -----------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?;](?=\s|$)|\n")


def _sentence(masked: str, pos: int) -> tuple[int, int]:
    starts = [m.end() for m in _SENTENCE_END.finditer(masked, 0, pos)]
    start = starts[-1] if starts else 0
    end_match = _SENTENCE_END.search(masked, pos)
    return start, end_match.start() if end_match else len(masked)


def _hedged(masked: str, pos: int) -> bool:
    return bool(re.search(_HEDGE + r"\s*$", masked[max(0, pos - 20) : pos], re.I))
