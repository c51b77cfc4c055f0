"""The two definitions every view of the people in an incident shares: *a page* and *first
involved*. The People tab, the on-call load page, the report's facts and the API all count
pages with `pages_from_log` and date a person's first involvement with `first_involved`.

- **A page** is a run of PagerDuty `notify` log entries to one person for one PagerDuty
  incident, merged while within `MERGE_WINDOW` (5 minutes) of the run's first entry: push,
  SMS and phone for the same alert are one page. A re-notification after that is another
  page. (method.md section 2, on-call load; section 4, "paged".)
- **First involved** is the earliest moment the evidence shows the person in the incident:
  a page to them, being added to or joining the channel, an @-mention of them, their first
  message, the first time they spoke in the incident's call (a transcript cue, which is an
  involvement as a message is), a role they took, or another action of theirs
  (acknowledging or escalating a page, a channel event such as a topic change). Reactions
  alone are not involvement. Whether they were on call, and whether it was their off hours,
  are judged at this moment (method.md section 4).

Must not live here: reading the evidence (storage) or the rest of the people analysis
(`people.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from afteraction.core.errors import ValidationError
from afteraction.core.evidence import PageRecord

NOTIFY_KIND = "notify"
MERGE_WINDOW = timedelta(minutes=5)
"""Notifications to one person for one PagerDuty incident this close to the first of a
run are the same page."""


@dataclass(frozen=True, slots=True)
class Page:
    """One page: `at` is its first notification, `notifications` how many were merged."""

    person_key: str
    incident_external_id: str
    at: datetime
    notifications: int = 1


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError("at must be a timezone-aware datetime", field="at")
    return value


def pages_from_log(
    entries: Iterable[PageRecord], *, merge_window: timedelta = MERGE_WINDOW
) -> list[Page]:
    """The pages in PagerDuty log entries (see the module docstring), by time then person;
    entries of other kinds and entries to nobody are not pages."""
    notes = sorted(
        (e for e in entries if e.kind == NOTIFY_KIND and e.person_key),
        key=lambda e: (e.person_key or "", e.incident_external_id, _aware(e.at)),
    )
    pages: list[Page] = []
    for entry in notes:
        assert entry.person_key is not None
        last = pages[-1] if pages else None
        if (
            last is not None
            and (last.person_key, last.incident_external_id)
            == (entry.person_key, entry.incident_external_id)
            and entry.at - last.at < merge_window
        ):
            pages[-1] = Page(
                last.person_key, last.incident_external_id, last.at, last.notifications + 1
            )
        else:
            pages.append(Page(entry.person_key, entry.incident_external_id, entry.at))
    return sorted(pages, key=lambda p: (p.at, p.person_key))


@dataclass(frozen=True, slots=True)
class Signals:
    """The first moment of each kind of evidence that a person was in an incident (None:
    not seen)."""

    paged: datetime | None = None
    joined: datetime | None = None
    mentioned: datetime | None = None
    first_message: datetime | None = None
    other: datetime | None = None
    """A role taken, an action on a page, a channel event."""
    spoke: datetime | None = None
    """Their first cue in the incident's call transcript."""


def first_involved(signals: Signals) -> datetime | None:
    """When the person was first involved (see the module docstring), or None."""
    present = [
        moment
        for moment in (
            signals.paged, signals.joined, signals.mentioned, signals.first_message,
            signals.other, signals.spoke,
        )
        if moment is not None
    ]  # fmt: skip
    return min(present, default=None)
