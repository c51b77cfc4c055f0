"""The one record of a Slack message or channel event, as the Slack parser
(`adapters.slack_messages`) makes it from an export's day file or the Web API and as the
message sinks (`storage.message_sinks`) store it; the same record serves the live history
fetch and, later, live event capture.

It holds plain values only: the time is `micros`, the whole microseconds since 1970 (UTC)
that the `ts` digits say, and a sink turns it into the form its database stores; `at`
gives it as an aware datetime where one is needed. Building one costs little, because one
is built for every message of an export (a million of them): no datetime, no nested
object for the usual message. No I/O here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import attrgetter

from afteraction.core.evidence import MessageRecord, Reaction

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros_to_datetime(micros: int) -> datetime:
    """The aware UTC instant of whole microseconds since 1970. Raises OverflowError past
    the year 9999."""
    return EPOCH + timedelta(microseconds=micros)


def datetime_to_micros(moment: datetime) -> int:
    """Whole microseconds since 1970 of an aware datetime."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True, slots=True)
class SlackReaction:
    name: str
    count: int
    users: tuple[str, ...] = ()


@dataclass(slots=True)
class ParsedMessage:
    """One message or channel event, from an export day file or the Web API.

    `text` is the raw mrkdwn (export tokens redacted); `plain` is decoded once with
    mentions resolved to @names where known. `micros` is the time `ts` says (see the
    module docstring). `target_ts` is the message a `message_changed`/`message_deleted`
    record refers to.

    Treat it as read-only. It is not declared frozen because one is built per imported
    message and a frozen dataclass's `__init__` sets each of its 31 fields through
    `object.__setattr__`: ten times slower, a tenth of a whole import.
    """

    channel_id: str
    channel_name: str
    ts: str
    micros: int
    user_id: str | None
    text: str = ""
    plain: str = ""
    subtype: str | None = None
    bot_id: str | None = None
    username: str | None = None
    author_name: str | None = None
    thread_ts: str | None = None
    parent_user_id: str | None = None
    reply_count: int = 0
    edited_by: str | None = None
    edited_ts: str | None = None
    edited_at: datetime | None = None
    inviter: str | None = None
    reactions: tuple[SlackReaction, ...] = ()
    file_links: tuple[str, ...] = ()
    attachments_text: str = ""
    mentions: tuple[str, ...] = ()
    channel_mentions: tuple[str, ...] = ()
    broadcasts: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    topic: str | None = None
    purpose: str | None = None
    old_name: str | None = None
    name: str | None = None
    target_ts: str | None = None
    hidden: bool = False

    @property
    def at(self) -> datetime:
        """The time as an aware UTC datetime."""
        return micros_to_datetime(self.micros)

    @property
    def sort_key(self) -> tuple[int, int]:
        """(whole seconds, microseconds)."""
        return divmod(self.micros, 1_000_000)

    @property
    def is_bot(self) -> bool:
        return self.subtype == "bot_message" or self.bot_id is not None

    @property
    def is_thread_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_record(self, resolve_person: Callable[[str], str | None]) -> MessageRecord:
        """A `MessageRecord`; Slack ids the resolver does not know become `slack:<id>`."""

        def key(slack_id: str) -> str:
            return resolve_person(slack_id) or f"slack:{slack_id}"

        author = self.user_id or self.bot_id
        return MessageRecord(
            channel=self.channel_name or self.channel_id,
            ts=self.ts,
            at=self.at,
            author_key=key(author) if author else None,
            text=self.text,
            subtype=self.subtype,
            thread_ts=self.thread_ts,
            edited_at=self.edited_at,
            inviter_key=key(self.inviter) if self.inviter else None,
            mention_keys=tuple(key(m) for m in self.mentions),
            reactions=tuple(
                Reaction(r.name, r.count, tuple(key(u) for u in r.users)) for r in self.reactions
            ),
            file_links=self.file_links,
            is_bot=self.is_bot,
            hidden=self.hidden,
        )


# Fields kept in `extra` that only some channel events and bot posts have.
_RARE = (
    "edited_by",
    "bot_id",
    "username",
    "old_name",
    "name",
    "topic",
    "purpose",
    "target_ts",
)
_rare_of = attrgetter(*_RARE)


def extra_fields(m: ParsedMessage) -> dict[str, object] | None:
    """What a stored message keeps beside its columns (its `extra`), in this order, each
    only when set; None when there is nothing. It runs once per imported message: the
    rare fields are read in one step and looked at only when one of them is set."""
    found: dict[str, object] = {}
    if m.reply_count:
        found["reply_count"] = m.reply_count
    if m.parent_user_id:
        found["parent_user_id"] = m.parent_user_id
    rare = _rare_of(m)
    if any(rare):
        found.update((name, value) for name, value in zip(_RARE, rare, strict=True) if value)
    if m.channel_mentions:
        found["channel_mentions"] = list(m.channel_mentions)
    if m.broadcasts:
        found["broadcasts"] = list(m.broadcasts)
    if m.links:
        found["links"] = list(m.links)
    return found or None
