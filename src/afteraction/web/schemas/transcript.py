"""API schemas of an incident's transcript, read a window at a time
(`GET /api/v1/incidents/{key}/transcript`, `services.transcript_reads`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from afteraction.services.schemas.common import ReadModel, Timestamp
from afteraction.services.transcript_reads import TranscriptView
from afteraction.storage.transcript import Item


class TranscriptItemRead(ReadModel):
    kind: str = Field(description="message, page (a paging log entry), cue (a meeting "
                      "transcript's) or entry (a timeline entry)")  # fmt: skip
    id: int
    at: Timestamp
    text: str = Field(description="As written: Slack mrkdwn for a message")
    channel_id: int | None
    channel: str | None = Field(description="The channel's name, for a message")
    ts: str | None = Field(description="The Slack ts of a message")
    thread_ts: str | None
    author_person_id: int | None
    author: str
    subtype: str | None
    hidden: bool
    purged: bool = Field(description="Its text was removed by the retention policy")
    bot: bool
    reactions: list[dict[str, Any]]
    files: list[str]
    annotations: list[int] = Field(description="Ids of the annotations that mark it")
    replies: list[TranscriptItemRead] = Field(
        description="A thread's replies, under its parent (none when a filter is given: then "
        "every matching message is listed in time order)"
    )


class TranscriptCursor(ReadModel):
    after: Timestamp
    after_id: int


class ChannelRead(ReadModel):
    id: int
    name: str


class TranscriptPage(ReadModel):
    items: list[TranscriptItemRead]
    next: TranscriptCursor | None = Field(
        description="Pass as after and after_id for the next window; null at the end"
    )
    channels: list[ChannelRead] = Field(description="The incident's channels")


def transcript_page(view: TranscriptView) -> TranscriptPage:
    window = view.window
    names = dict(window.channels)

    def item(found: Item, marks: dict[int, list[Any]]) -> TranscriptItemRead:
        return TranscriptItemRead(
            kind=found.kind,
            id=found.id,
            at=found.at,
            text=found.text,
            channel_id=found.channel_id,
            channel=names.get(found.channel_id) if found.channel_id is not None else None,
            ts=found.ts,
            thread_ts=found.thread_ts,
            author_person_id=found.author_id,
            author=found.author_name,
            subtype=found.subtype,
            hidden=found.hidden,
            purged=found.purged,
            bot=found.is_bot,
            reactions=[dict(r) for r in found.reactions if isinstance(r, dict)],
            files=found.files,
            annotations=[a.id for a in marks.get(found.id, ())],
            replies=[item(r, view.marks) for r in found.replies],
        )

    def marks_of(found: Item) -> dict[int, list[Any]]:
        if found.kind == "message":
            return view.marks
        return view.cue_marks if found.kind == "cue" else {}

    nxt = window.next_cursor
    return TranscriptPage(
        items=[item(i, marks_of(i)) for i in window.items],
        next=None if nxt is None else TranscriptCursor(after=nxt[0], after_id=nxt[1]),
        channels=[ChannelRead(id=cid, name=name) for cid, name in window.channels],
    )
