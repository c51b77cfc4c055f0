"""The flagship's raw evidence moved in time, so a demo built for a later day keeps its
flagship as recent as the story tells it.

Lives here: the day a demo started now is built for (`demo_day`: the story date's weekday,
the latest one on or before today, so "a Tuesday afternoon" stays a Tuesday), and
`shifted_copy`, which copies `evidence/flagship/` with every date moved by whole days: ISO
dates and times in any file (PagerDuty, roster, chat text), Slack epoch timestamps (`ts`,
`thread_ts` and the like) and the Slack day files' names. Times of day do not change. Does
not live here: importing the copy (`demo.flagship_evidence`).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from afteraction.demo.story import StoryError, directory

ISO = re.compile(r"\b(\d{4}-\d{2}-\d{2})(?=T\d{2}:\d{2}|[^\d-]|$)")
"""A calendar date, alone or as the date of a date-time (the time is kept)."""
EPOCH = re.compile(r"(?<![\w.])(1[5-9]\d{8})(\.\d{1,6})?(?![\w.])")
"""A Slack timestamp: seconds since 1970, from 2017 to 2033, with optional micros."""
SLACK_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
TEXT_SUFFIXES = {".json", ".csv", ".vtt", ".txt", ".md"}


def demo_day(today: date) -> date:
    """The day a demo started on `today` is built for: the story date moved by whole weeks
    to the last day on or before `today` (the story date itself when `today` is earlier)."""
    story = directory().story_date
    weeks = max(0, (today - story).days // 7)
    return story + timedelta(weeks=weeks)


def shift_text(text: str, shift: timedelta, *, epochs: bool) -> str:
    """`text` with every ISO date (and, when `epochs`, every Slack timestamp) moved."""
    if shift.seconds or shift.microseconds:
        raise StoryError(f"evidence moves by whole days, not {shift}")
    if not shift:
        return text
    moved = ISO.sub(lambda m: (date.fromisoformat(m.group(1)) + shift).isoformat(), text)
    if epochs:
        seconds = int(shift.total_seconds())
        moved = EPOCH.sub(lambda m: f"{int(m.group(1)) + seconds}{m.group(2) or ''}", moved)
    return moved


def shift_ts(ts: str, shift: timedelta) -> str:
    """A Slack timestamp moved by `shift`, its micros kept as written."""
    return str(Decimal(ts) + int(shift.total_seconds()))


def shifted_copy(source: Path, target: Path, shift: timedelta) -> Path:
    """Copy the evidence folder `source` into `target` with its dates moved by `shift`;
    returns `target`."""
    for path in sorted(source.rglob("*")):
        if path.is_dir():
            continue
        relative = path.relative_to(source)
        name = relative.name
        slack = "slack" in relative.parts
        if slack and SLACK_DAY.match(name):
            day = date.fromisoformat(name.removesuffix(".json")) + shift
            name = f"{day.isoformat()}.json"
        out = target / relative.parent / name
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix in TEXT_SUFFIXES:
            text = path.read_text(encoding="utf-8")
            out.write_text(shift_text(text, shift, epochs=slack), encoding="utf-8")
        else:
            out.write_bytes(path.read_bytes())
    return target
