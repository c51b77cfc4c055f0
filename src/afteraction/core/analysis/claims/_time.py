"""Time claims: "at 02:14 UTC", "from 20:31", "2026-10-20 21:18 UTC", each placed in its zone
and compared with the events on the timeline."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from afteraction.core import times
from afteraction.core.analysis.claims.model import (
    SUGGEST_WITHIN,
    WINDOW,
    ClaimFinding,
    Evidence,
    _hedged,
    _sentence,
)
from afteraction.core.timeline import TimelineItem

_CLOCK = (
    r"(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?"
    r"(?:\s?(?P<ampm>[AaPp]\.?[Mm]\.?)(?![\w]))?"
)
_ZONE = (
    r"(?:[ \t]*\(?(?P<zone>(?:UTC|GMT)[+-]\d{1,2}(?::?\d{2})?|[+-]\d{2}:?\d{2}|"
    r"[A-Z][a-z]+/[A-Za-z_]+(?:/[A-Za-z_]+)?|[A-Z]{1,5})\b\)?)?"
)
_DATED = re.compile(rf"\b(?P<date>\d{{4}}-\d{{2}}-\d{{2}})[ T]{_CLOCK}(?!\d){_ZONE}")
_PREP = re.compile(rf"\b(?:[Aa]t|[Ff]rom|[Tt]o|[Uu]ntil|[Tt]ill)\s+(?P<t>{_CLOCK}(?!\d){_ZONE})")
_MONTH_NAMES = (
    "january february march april may june july august september october november december"
).split()
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DAY_MONTH = re.compile(
    rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MONTH})(?:,?\s+(?P<y>\d{{4}}))?\b"
    rf"|\b(?P<mon2>{_MONTH})\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y2>\d{{4}}))?",
    re.I,
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = re.compile(r"\b(" + "|".join(_WEEKDAYS) + r")\b", re.I)
_RELATIVE_DAY = re.compile(
    r"\b(?:next|following|previous|prior)\s+(?:day|morning|afternoon|evening|night|week)\b"
    r"|\b(?:yesterday|tomorrow|a day later|days? later|weeks? later)\b",
    re.I,
)
_PLACE_AFTER = re.compile(
    r"\s*(?:in\s+[A-Z]|local\b|(?:her|his|their|my|our|your)\s+time\b|or so\b|-?ish\b)"
)


@dataclass(frozen=True, slots=True)
class _Time:
    start: int
    end: int
    day: date | None
    clock: time
    zone: tzinfo
    zone_text: str
    seconds: bool
    ampm: bool = False
    weekday: int | None = None
    dated: bool = False
    """The span holds a date (`2026-10-20 21:18`), so a replacement writes one too."""


def _month_day(match: re.Match[str], year: int) -> date | None:
    month = (match.group("mon") or match.group("mon2")).lower()[:3]
    number = next(i for i, name in enumerate(_MONTH_NAMES, 1) if name.startswith(month))
    day = int(match.group("d") or match.group("d2"))
    try:
        return date(int(match.group("y") or match.group("y2") or year), number, day)
    except ValueError:
        return None


def _day_words(masked: str, claim: _Time, year: int | None) -> _Time | None:
    """The claim with the day its sentence names ("on 20 October", "Tuesday"): the mention
    nearest before the time, else the first after it. None when the sentence places it on
    a day the check cannot tell ("the next morning") or names an impossible date."""
    if claim.day is not None:
        return claim
    begin, end = _sentence(masked, claim.start)
    sentence = masked[begin:end]
    if _RELATIVE_DAY.search(sentence):
        return None
    at = claim.start - begin
    dates = list(_DAY_MONTH.finditer(sentence))
    if dates and year is not None:
        before = [m for m in dates if m.end() <= at]
        chosen = before[-1] if before else dates[0]
        day = _month_day(chosen, year)
        return None if day is None else replace(claim, day=day)
    weekdays = list(_WEEKDAY.finditer(sentence))
    if weekdays:
        before = [m for m in weekdays if m.end() <= at]
        name = (before[-1] if before else weekdays[0]).group(1).lower()
        return replace(claim, weekday=_WEEKDAYS.index(name))
    return claim


def _time_claims(masked: str, zone: tzinfo, year: int | None = None) -> list[_Time]:
    """The time claims of the masked text; `year` is the one a date without a year is in
    (the year of the incident's first event)."""
    found: list[_Time] = []
    seen: set[int] = set()
    for match in [*_DATED.finditer(masked), *_PREP.finditer(masked)]:
        begin = match.start("date") if match.re is _DATED else match.start("t")
        if begin in seen or (match.re is _DATED and _hedged(masked, begin)):
            continue
        claim = _read_time(masked, match, begin, zone)
        claim = claim and _day_words(masked, claim, year)
        if claim is not None:
            seen.add(begin)
            found.append(claim)
    return sorted(found, key=lambda c: c.start)


def _read_time(masked: str, match: re.Match[str], begin: int, zone: tzinfo) -> _Time | None:
    hour, minute = int(match.group("h")), int(match.group("m"))
    ampm = (match.group("ampm") or "").lower().replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    end = match.end()
    zone_text = match.group("zone") or ""
    chosen = zone
    if zone_text:
        named = times.zone_word(zone_text)
        if zone_text.upper() in times.AMBIGUOUS_ZONES:
            return None
        if named is None:  # a word that is no zone: the time ends before it
            zone_text, end = "", match.end("s") if match.group("s") else match.end("m")
            if match.group("ampm"):
                end = match.end("ampm")
        else:
            chosen = named
            end = match.end("zone") + (1 if masked[match.end("zone") : end].startswith(")") else 0)
    if _PLACE_AFTER.match(masked, end):
        return None
    day = date.fromisoformat(match.group("date")) if match.re is _DATED else None
    second = int(match.group("s") or 0)
    clock = time(hour, minute, second)
    return _Time(
        begin,
        end,
        day,
        clock,
        chosen,
        zone_text,
        bool(match.group("s")),
        bool(ampm),
        dated=match.re is _DATED,
    )


def _candidates(claim: _Time, events: tuple[TimelineItem, ...]) -> list[datetime]:
    if claim.day is not None:
        return [datetime.combine(claim.day, claim.clock, tzinfo=claim.zone).astimezone(UTC)]
    first = min(e.at for e in events).astimezone(claim.zone).date() - timedelta(days=1)
    last = max(e.at for e in events).astimezone(claim.zone).date() + timedelta(days=1)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    if claim.weekday is not None:
        days = [d for d in days if d.weekday() == claim.weekday]
    return [datetime.combine(d, claim.clock, tzinfo=claim.zone).astimezone(UTC) for d in days]


def _window(claim: _Time) -> tuple[timedelta, timedelta]:
    """How far before and after the claimed moment an event may lie: a time to the minute
    covers the whole minute."""
    return (WINDOW, WINDOW) if claim.seconds else (WINDOW, WINDOW + timedelta(seconds=59))


def _check_time(
    text: str, claim: _Time, evidence: Evidence, ats: list[datetime]
) -> ClaimFinding | None:
    """`ats` are the events' times, sorted."""
    events = evidence.events
    moments = _candidates(claim, events)
    if not moments:  # a weekday the evidence does not span: not placed
        return None
    before, after = _window(claim)
    if any(
        bisect.bisect_right(ats, m + after) > bisect.bisect_left(ats, m - before) for m in moments
    ):
        return None
    gap, nearest = min(((abs(e.at - m), e) for m in moments for e in events), key=lambda x: x[0])
    said = text[claim.start : claim.end]
    local = nearest.at.astimezone(claim.zone)
    clock = local.strftime("%H:%M:%S" if claim.seconds else "%H:%M")
    if claim.ampm:
        hour = local.hour % 12 or 12
        clock = f"{hour}{clock[2:]} {'pm' if local.hour >= 12 else 'am'}"
    written = f"{local:%Y-%m-%d} {clock}" if claim.dated else clock
    replacement = f"{written} {claim.zone_text}".strip() if gap <= SUGGEST_WITHIN else None
    zone_note = "" if claim.zone_text else f" (read in {evidence.zone}: no zone was written)"
    return ClaimFinding(
        kind="time",
        text=said,
        message=f"No event on the timeline within two minutes of {said}{zone_note}.",
        evidence=f"Nearest event: {times.display(nearest.at)}: {nearest.text}",
        link=nearest.link,
        suggestion=(
            f"Check the time; the nearest event is {written} {claim.zone_text}".rstrip()
            + f" ({_minutes(gap)} away)."
        ),
        start=claim.start,
        end=claim.end,
        replacement=replacement,
    )


def _minutes(gap: timedelta) -> str:
    total = round(gap.total_seconds() / 60)
    if total < 120:
        return f"{total} min"
    return f"{total // 60} h {total % 60:02d} min"
