"""The window warnings of a Slack import: after its messages are written, say when the window
left out most of a channel the user named, or when nothing was stored, with the window that
would hold the messages (rule: `core.import_window`).

Lives here: `add_window_warnings`, and `messages_in_window` (the window of live history).
What the warnings need was counted while the messages were read (`ChannelTally`, filled by
`SlackExport.folder_days_parsed`, in this process or a parser process, or by
`messages_in_window`);
only day files the import skipped for being days away from the window are read here, and
only for the channels the warnings are about.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime

from afteraction.adapters.slack_export import SlackExport, in_window
from afteraction.adapters.slack_preview import tally_skipped_days
from afteraction.adapters.slack_records import ParsedMessage, SlackChannel
from afteraction.core.import_window import ChannelTally, window_warnings
from afteraction.services.imports.sources import ImportSummary


def named_channels(
    chosen: Sequence[tuple[str, SlackChannel]], wanted: Collection[str]
) -> list[tuple[str, SlackChannel]]:
    """The chosen (folder, channel) pairs the user named (by folder, id or name)."""
    names = set(wanted)
    return [(f, c) for f, c in chosen if names and {f, c.id, c.name} & names]


def add_window_warnings(
    summary: ImportSummary,
    tallies: Mapping[str, ChannelTally],
    *,
    export: SlackExport | None,
    chosen: Sequence[tuple[str, SlackChannel]],
    wanted: Collection[str],
    window: tuple[datetime | None, datetime | None],
) -> None:
    """Append the window warnings to `summary` from what the import counted (`tallies`, by
    Slack channel id); with an `export`, first count the day files it skipped of the
    named channels (of every chosen channel when nothing was stored)."""
    since, until = window
    stored = summary.counts.get("messages", 0)
    named = named_channels(chosen, wanted)
    counted = dict(tallies)
    for _, channel in chosen:
        counted.setdefault(channel.id, ChannelTally(channel.name or channel.id))
    if export is not None and (since is not None or until is not None):
        for folder, channel in named if stored else chosen:
            tally_skipped_days(export, folder, since, until, counted[channel.id])
    summary.warnings.extend(
        window_warnings(
            counted.values(),
            named=[counted[c.id].label for _, c in named],
            since=since,
            until=until,
            stored=stored,
            present=summary.counts.get("messages already present", 0),
        )
    )


def messages_in_window(
    messages: Iterable[ParsedMessage],
    since: datetime | None,
    until: datetime | None,
    tally: ChannelTally,
) -> Iterator[ParsedMessage]:
    """The messages in the window (`since` <= at < `until`); `tally` counts them and those
    outside."""
    for message in messages:
        inside = in_window(message.at, since, until)
        tally.see(message.at, message.at, inside=int(inside), outside=int(not inside))
        if inside:
            yield message
