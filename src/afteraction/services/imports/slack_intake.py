"""What a Slack import does with a channel's parsed messages before a sink stores them:
which are new, which are later edits of stored ones, how many were already present, the
channel's topic and purpose events, and the references their links name.

Lives here: `MessageIntake`. It runs wherever messages are read: `SlackWriter` (the export
in this process, live history) and the parser processes (`slack_parallel`). Does not live
here: parsing (`adapters.slack_messages`), rows and columns (`storage.message_sinks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from afteraction.adapters.references import ReferenceCounter
from afteraction.core.slack_record import ParsedMessage


class MessageIntake:
    """One import's messages, a channel at a time (`existing` is set for each channel: ts
    -> edit time of the messages it already holds); for the whole import, the latest topic
    and purpose event of each channel (by Slack id) and the references."""

    def __init__(self, references: ReferenceCounter | None) -> None:
        self.references = references
        self.existing: dict[str, datetime | None] = {}
        self.changes: list[ParsedMessage] = []  # later edits of stored messages
        self.present = 0  # messages seen again without a later edit
        self.events: dict[str, dict[str, tuple[datetime, str]]] = {}

    def take(self, messages: Sequence[ParsedMessage]) -> list[ParsedMessage]:
        """The new messages among these of the current channel, in order. A message seen
        before is a change when its edit is later than the one known, else one more
        already present. Speed: a batch none of whose ts is known (the usual day file of
        a fresh channel) is taken whole."""
        existing = self.existing
        stamps = {m.ts: m.edited_at for m in messages}
        new: list[ParsedMessage]
        if len(stamps) == len(messages) and existing.keys().isdisjoint(stamps):
            existing.update(stamps)
            new = messages if isinstance(messages, list) else list(messages)
        else:
            new = []
            for m in messages:
                ts = m.ts
                if ts not in existing:
                    existing[ts] = m.edited_at
                    new.append(m)
                    continue
                known = existing[ts]
                if m.edited_at is not None and (known is None or m.edited_at > known):
                    self.changes.append(m)
                    existing[ts] = m.edited_at
                else:
                    self.present += 1
        references = self.references
        for m in new:
            if m.topic is not None or m.purpose is not None:
                self._channel_event(m)
            if m.links and references is not None:
                references.add(" ".join(m.links), at=m.at)
        return new

    def hand_over(self) -> tuple[list[ParsedMessage], int]:
        """The changes and the count already present so far, and start again."""
        handed = self.changes, self.present
        self.changes, self.present = [], 0
        return handed

    def _channel_event(self, m: ParsedMessage) -> None:
        events = self.events.setdefault(m.channel_id, {})
        at = m.at
        for name, value in (("topic", m.topic), ("purpose", m.purpose)):
            # the latest by time wins: exports run oldest first, the Web API newest first
            if value is not None and (name not in events or at >= events[name][0]):
                events[name] = (at, value)
