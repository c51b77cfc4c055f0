"""Claims in a report checked against the evidence: the statements of fact a draft makes
(a time, a count, a duration, a person named) read out of its prose and compared with what
the product computed from the evidence, which the caller passes in as plain values
(`Evidence`).

- **time**: "at 02:14 UTC", "at 21:40 CEST", "from 20:31", "2026-10-20 21:18 UTC". Holds
  when an event on the timeline (an accepted entry, a suggested event, a milestone, a page, a
  role taken, a status update, whatever the analysis annotates or a note cites) lies within
  `WINDOW` (two minutes) of it. A zone word maps to its zone (`core.times.zone_word`); a
  time without one is read in `Evidence.zone` (UTC, the zone reports are written in). A
  time without a date may fall on any day the evidence spans.
- **count**: "paged twice", "five responders", "seven teams were involved", "paged three
  people": compared with the people analysis (pages per person, responders, people, teams).
- **duration**: "for 40 minutes", "took 12 minutes to acknowledge": compared with the
  milestone durations the sentence speaks of (impact, detection, acknowledgement,
  mitigation, resolution); one the sentence does not tie to a milestone is no claim.
- **person**: a full name from the directory of someone who took no part in the incident.

Precision comes first: a claim the rules cannot place (a hedged number, "around 22:00", a
time "in Singapore", an ambiguous zone such as IST, a duration "after the rollback") is not a
finding. Quoted text, code and block quotes are evidence, never claims. Pure: no storage.

Where: the values and shared reading helpers in `model`, time claims in `_time`, counts and
durations in `_counts`, names and the driver `check_claims` in `check`. Callers import from
this package.
"""

from __future__ import annotations

from afteraction.core.analysis.claims.check import check_claims
from afteraction.core.analysis.claims.model import (
    KINDS,
    WINDOW,
    ClaimFinding,
    Evidence,
    Figure,
    Participant,
)

__all__ = [
    "KINDS",
    "WINDOW",
    "ClaimFinding",
    "Evidence",
    "Figure",
    "Participant",
    "check_claims",
]
