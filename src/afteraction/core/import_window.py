"""How an import's time window met the evidence: what each chosen channel held inside and
outside the window, and the warnings an import summary carries when the window missed it.

Lives here: `ChannelTally` (counts and the first and last message time of one channel),
`suggested_window` and `window_warnings` — the one rule of when a window "misses" a
channel, shared by the import summary and the preview. Does not live here: reading exports
(adapters) or counting while parsing (importers); both fill `ChannelTally`.

The rule (docs/import.md): Slack names its day files in the workspace's own time zone, so
a window taken from a file's name can miss what the file holds. When more than half of a
channel the user chose by name falls outside the window, or an import stores no message,
the summary says how many fell outside and suggests the window that holds the channels'
messages (first message to last, in UTC; the end is exclusive, so one second past the last).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(slots=True)
class ChannelTally:
    """One channel's messages as an import saw them: how many fell inside the window and
    outside it, and the earliest and latest message time of all of them (aware, UTC)."""

    label: str
    inside: int = 0
    outside: int = 0
    first: datetime | None = None
    last: datetime | None = None

    @property
    def total(self) -> int:
        return self.inside + self.outside

    def see(self, first: datetime, last: datetime, *, inside: int, outside: int) -> None:
        """Add `inside` + `outside` messages whose times run from `first` to `last`."""
        if inside + outside <= 0:
            return
        self.inside += inside
        self.outside += outside
        if self.first is None or first < self.first:
            self.first = first
        if self.last is None or last > self.last:
            self.last = last

    def merge(self, other: ChannelTally) -> None:
        """Add what another reader of the same channel saw."""
        if other.first is not None and other.last is not None:
            self.see(other.first, other.last, inside=other.inside, outside=other.outside)

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "inside": self.inside,
            "outside": self.outside,
            "first": utc_text(self.first),
            "last": utc_text(self.last),
        }


def utc_text(moment: datetime | None) -> str | None:
    """An aware time as ISO 8601 in UTC to the second (`2016-03-28T07:12:05+00:00`)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def suggested_window(tallies: Iterable[ChannelTally]) -> tuple[datetime, datetime] | None:
    """(since, until) holding every message the tallies saw: the first message's second,
    and one second past the last (the window's end is exclusive); None when they saw none."""
    tallies = list(tallies)
    firsts = [t.first for t in tallies if t.first is not None]
    lasts = [t.last for t in tallies if t.last is not None]
    if not firsts or not lasts:
        return None
    start = min(firsts).astimezone(UTC).replace(microsecond=0)
    end = max(lasts).astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
    return start, end


def _window_text(since: datetime | None, until: datetime | None) -> str:
    return f"{utc_text(since) or 'the beginning'} – {utc_text(until) or 'now'}"


def _hint(tallies: list[ChannelTally]) -> str:
    window = suggested_window(tallies)
    if window is None:
        return ""
    start, end = window
    last = max(t.last for t in tallies if t.last is not None)
    return (
        f"; they run from {utc_text(start)} to {utc_text(last)} (UTC): "
        f"the window from {utc_text(start)} until {utc_text(end)} would hold them"
    )


def missed(tally: ChannelTally) -> bool:
    """Whether a window left out most (more than half) of a channel's messages."""
    return tally.outside * 2 > tally.total


def window_warnings(
    tallies: Iterable[ChannelTally],
    *,
    named: Iterable[str],
    since: datetime | None,
    until: datetime | None,
    stored: int,
    present: int = 0,
    preview: bool = False,
) -> list[str]:
    """The warnings of an import (or of its `preview`: `stored` is then what the window
    holds): one per channel in `named` (labels of the channels the user chose) whose
    messages fall mostly outside the window, and one when nothing is stored, saying why."""
    tallies = list(tallies)
    nothing = "0 messages would be imported" if preview else "0 messages imported"
    wanted = set(named)
    window = _window_text(since, until)
    found: list[str] = []
    for tally in tallies:
        if tally.label in wanted and missed(tally):
            found.append(
                f"#{tally.label}: {tally.outside:,} of {tally.total:,} messages fall outside "
                f"the window {window}{_hint([tally])}"
            )
    if stored:
        return found
    inside = sum(t.inside for t in tallies)
    outside = sum(t.outside for t in tallies)
    if inside + outside == 0:
        where = f" in the window {window}" if since is not None or until is not None else ""
        found.append(f"{nothing}: no message of the chosen channels was found{where}")
    elif inside == 0:
        found.append(
            f"{nothing}: all {outside:,} messages of the chosen channels fall "
            f"outside the window {window}{_hint(tallies)}"
        )
    elif present:
        found.append(
            f"0 new messages imported: the {present:,} messages in the window were imported before"
        )
    else:
        found.append(f"{nothing} of {inside:,} in the window {window}")
    return found
