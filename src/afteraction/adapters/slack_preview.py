"""What a Slack export holds before it is imported: for each chosen channel, how many
messages each of its day files holds, how many fall on each UTC day, and how many fall in a
window — counted from each message's `ts` without parsing the rest of it.

Lives here: `preview_channels` (the preview `afteraction import slack --dry-run` and the
`/imports` page show, through `importers.slack_preview`) and `tally_skipped_days` (what
the day files an import skipped for its window hold, for the window warnings). Does not
live here: the warning rule (`core.import_window`), the incident's window (importers).

A message counts here as the import would keep it: an object with a plausible `ts`
(`MessageParser.parse_ts`), not a duplicate of one in its own or the day before's file.
Day files are named in the workspace's time zone (formats.md §1.1), which is why both the
files' own days and the UTC days are shown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from afteraction.adapters.slack_export import SlackExport, in_window
from afteraction.adapters.slack_records import SlackChannel
from afteraction.core.import_window import ChannelTally, utc_text
from afteraction.core.slack_record import micros_to_datetime


@dataclass(slots=True)
class DayCount:
    """One day's messages: `day` is `YYYY-MM-DD` (a file's name, or a UTC date)."""

    day: str
    messages: int
    in_window: int

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day, "messages": self.messages, "in_window": self.in_window}


@dataclass(slots=True)
class ChannelPreview:
    """One chosen channel of an export, counted."""

    id: str
    name: str
    kind: str
    folder: str
    tally: ChannelTally
    day_files: list[DayCount] = field(default_factory=list)
    utc_days: list[DayCount] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "folder": self.folder,
            "messages": self.tally.total,
            "in_window": self.tally.inside,
            "first": utc_text(self.tally.first),
            "last": utc_text(self.tally.last),
            "day_files": [d.as_dict() for d in self.day_files],
            "utc_days": [d.as_dict() for d in self.utc_days],
        }


def preview_channels(
    export: SlackExport,
    chosen: Iterable[tuple[str, SlackChannel]],
    since: datetime | None,
    until: datetime | None,
) -> list[ChannelPreview]:
    """Every day file of the chosen (folder, channel) pairs counted (see the module
    docstring); warnings about unreadable items go to the export's log."""
    found: list[ChannelPreview] = []
    for folder, channel in chosen:
        label = channel.name or channel.id
        preview = ChannelPreview(channel.id, label, channel.kind, folder, ChannelTally(label))
        utc: Counter[str] = Counter()
        utc_inside: Counter[str] = Counter()
        rels = [f"{folder}/{name}" for name in export.days_of(folder)]
        for rel, times in _day_times(export, rels):
            inside = [at for at in times if in_window(at, since, until)]
            preview.day_files.append(DayCount(rel.rsplit("/", 1)[1][:10], len(times), len(inside)))
            if times:
                preview.tally.see(
                    min(times), max(times), inside=len(inside), outside=len(times) - len(inside)
                )
            utc.update(at.date().isoformat() for at in times)
            utc_inside.update(at.date().isoformat() for at in inside)
        preview.utc_days = [DayCount(day, utc[day], utc_inside[day]) for day in sorted(utc)]
        found.append(preview)
    return found


def tally_skipped_days(
    export: SlackExport,
    folder: str,
    since: datetime | None,
    until: datetime | None,
    tally: ChannelTally,
) -> None:
    """Add to `tally` the messages of the day files an import of `folder` skipped because
    their names lie days away from the window (`SlackExport.skipped_days`): read once here,
    as the preview counts them, for the window warnings."""
    for _rel, times in _day_times(export, export.skipped_days(folder, since, until)):
        if times:
            inside = sum(1 for at in times if in_window(at, since, until))
            tally.see(min(times), max(times), inside=inside, outside=len(times) - inside)


def _day_times(export: SlackExport, rels: list[str]) -> Iterable[tuple[str, list[datetime]]]:
    """(rel, times of the messages the import would keep) of each day file, in order.
    Problems of a file (bad JSON...) raise as they would in the import; an unreadable item
    is only not counted (the import lists it)."""
    parser = export.message_parser()
    parser.warn = _ignore
    previous: set[str] = set()
    for rel in rels:
        seen: set[str] = set()
        times: list[datetime] = []
        for item in export.day_items(rel, _ignore):
            if not isinstance(item, dict):
                continue
            parsed = parser.parse_ts(item.get("ts"), rel)
            if parsed is None or parsed[0] in seen or parsed[0] in previous:
                continue
            seen.add(parsed[0])
            times.append(micros_to_datetime(parsed[1]))
        previous = seen
        yield rel, times


def _ignore(_where: str, _reason: str) -> None:
    """A preview lists no warnings: the import lists them."""
