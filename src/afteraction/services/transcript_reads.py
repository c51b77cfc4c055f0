"""Reading an incident's transcript, one window at a time: its messages (threads folded
under their parent), paging log entries, meeting cues and timeline entries in time order,
filtered and marked with the annotations that cover them. The Transcript tab
(`/incidents/{key}/transcript`) and `GET /api/v1/incidents/{key}/transcript` read it here,
so the same filters give the same items on both.

Rules, here once: the incident must be visible to the caller; a tag or the "questions only"
filter narrows the window to the messages their annotations name (a range by its first and
last message); a time-range annotation (made on a cue, or over a stretch) marks every item
inside its range. Lives elsewhere: the queries (`storage.transcript`), annotations
(`services.analysis`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from afteraction.core.access import Actor
from afteraction.services import analysis as work
from afteraction.services import incidents as repo
from afteraction.storage import transcript as tx
from afteraction.storage.analysis_tables import Annotation
from afteraction.storage.tables import Incident

WINDOW = tx.WINDOW
MAX_WINDOW = tx.MAX_WINDOW


@dataclass(frozen=True, slots=True)
class TranscriptQuery:
    """What to read: filters (combined with AND) and where to start (`cursor`, the
    `(at, id)` a previous window gave as its next; else `start`, a time)."""

    tag: str = ""
    questions: bool = False
    person_id: int | None = None
    channel_ids: Sequence[int] = ()
    text: str = ""
    start: datetime | None = None
    cursor: tuple[datetime, int] | None = None
    limit: int = WINDOW


@dataclass(slots=True)
class TranscriptView:
    incident: Incident
    window: tx.Window
    marks: dict[int, list[Annotation]]  # message id → the annotations covering it
    cue_marks: dict[int, list[Annotation]]  # cue id → the time-range annotations covering it


def read_transcript(
    session: Session, actor: Actor, key: str | int, query: TranscriptQuery
) -> TranscriptView:
    """One window of incident `key`'s transcript for `actor` (NotFound when not visible)."""
    incident = repo.get_incident(session, actor, key)
    annotations = work.list_annotations(session, incident.id)
    message_ids = None
    if query.tag or query.questions:
        chosen = [
            a
            for a in annotations
            if (not query.tag or a.tag == query.tag) and (not query.questions or a.is_question)
        ]
        message_ids = [i for a in chosen for i in (a.message_id, a.end_message_id) if i is not None]
    filters = tx.Filters(
        channel_ids=query.channel_ids,
        query=query.text[:200],
        person_id=query.person_id,
        message_ids=message_ids,
        start=query.start,
    )
    window = tx.read_window(
        session, incident.id, cursor=query.cursor, limit=query.limit, filters=filters
    )
    at_of = {i.id: i.at for i in window.items if i.kind == "message"}
    at_of |= {r.id: r.at for i in window.items for r in i.replies}
    timed = [a for a in annotations if a.message_id is None]
    cue_at = {i.id: i.at for i in window.items if i.kind == "cue"}
    return TranscriptView(
        incident,
        window,
        work.annotated_message_ids(annotations, at_of),
        work.annotated_message_ids(timed, cue_at),
    )


def authors(session: Session, incident: Incident) -> list[tuple[int, str]]:
    """(person id, name) of those who wrote in the incident's channels: the person filter."""
    return tx.authors_of(session, incident.id)


def channels(session: Session, incident: Incident) -> list[tuple[int, str]]:
    """(channel id, name) of the incident's channels: the channel filter."""
    return tx.channels_of(session, incident.id)
