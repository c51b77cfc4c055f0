"""A moment on an incident's timeline, the one shape shared by the report rules (the Timeline
section a report is prefilled with, the evidence its contributing factors cite) and the
claim check (the events a time written in a report is compared with).

Pure: plain values, no storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """What happened at `at`: `text` says it (a claim finding quotes it), `kind` is where it
    comes from (an entry's kind, "milestone", "page", "message", ...), and `link`, when set,
    points at it in the product."""

    at: datetime
    text: str
    kind: str = ""
    link: str = ""
