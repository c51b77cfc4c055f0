"""Writes of the retention policy and of a person's erasure: set-based updates that remove
text and personal fields while keeping rows, so counts, times and links stay as they were.

Lives here: the updates and the counts of what they would touch. Does not live here: who
may run them, when, or what is audited (`services.privacy`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, func, or_, select, update
from sqlalchemy.orm import Session

from afteraction.storage.analysis_tables import Interview, InterviewCue
from afteraction.storage.evidence_tables import Message, TranscriptCue
from afteraction.storage.tables import AuditLog, Identity, Person

# ---- retention ----------------------------------------------------------------------


def _expired_messages(cutoff: datetime) -> ColumnElement[bool]:
    return (Message.at < cutoff) & Message.purged_at.is_(None)


def _interview_time() -> Any:
    return func.coalesce(Interview.held_at, Interview.scheduled_at, Interview.created_at)


def _expired_interviews(cutoff: datetime) -> Any:
    return select(Interview.id).where(_interview_time() < cutoff)


def _expired_cues(cutoff: datetime) -> ColumnElement[bool]:
    expired = InterviewCue.interview_id.in_(_expired_interviews(cutoff))
    return expired & InterviewCue.purged_at.is_(None)


def count_expired_messages(session: Session, cutoff: datetime) -> int:
    return session.scalar(select(func.count()).where(_expired_messages(cutoff))) or 0


def count_expired_recordings(session: Session, cutoff: datetime) -> tuple[int, int]:
    """(interviews with a recording link or cues to remove, cues) older than `cutoff`."""
    cues = session.scalar(select(func.count()).where(_expired_cues(cutoff))) or 0
    interviews = (
        session.scalar(
            select(func.count()).where(
                Interview.id.in_(_expired_interviews(cutoff)),
                or_(
                    Interview.recording_url != "",
                    Interview.id.in_(
                        select(InterviewCue.interview_id).where(_expired_cues(cutoff))
                    ),
                ),
            )
        )
        or 0
    )
    return interviews, cues


def purge_messages(session: Session, cutoff: datetime, now: datetime) -> int:
    """Remove the text, attachments and file names of messages written before `cutoff`;
    the row keeps its time, channel, author, mentions and reactions."""
    result = session.execute(
        update(Message)
        .where(_expired_messages(cutoff))
        .values(text_raw=None, text_plain="", files=None, extra=None, purged_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def purge_recordings(session: Session, cutoff: datetime, now: datetime) -> tuple[int, int]:
    """Remove the cue text and the recording link of interviews held before `cutoff`."""
    interviews, _ = count_expired_recordings(session, cutoff)
    cues = session.execute(
        update(InterviewCue)
        .where(_expired_cues(cutoff))
        .values(text="", purged_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Interview)
        .where(Interview.id.in_(_expired_interviews(cutoff)), Interview.recording_url != "")
        .values(recording_url="")
        .execution_options(synchronize_session=False)
    )
    return interviews, int(getattr(cues, "rowcount", 0) or 0)


# ---- erasure ------------------------------------------------------------------------


def names_of(session: Session, person: Person) -> list[str]:
    """Every name this person is known by here, longest first: their name and the display
    names of their identities in other systems."""
    names = {person.name.strip()}
    names.update(
        n.strip()
        for n in session.scalars(
            select(Identity.display_name).where(Identity.person_id == person.id)
        )
    )
    return sorted((n for n in names if len(n) >= 2), key=len, reverse=True)


def name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """Whole-word, case-insensitive matches of any of `names`."""
    parts = [re.escape(n) for n in names if n]
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def replace_in_messages(
    session: Session, person_id: int, names: Sequence[str], pseudonym: str
) -> int:
    """Put `pseudonym` for the person as author and for their names in message text.
    Messages of anyone that name them are rewritten too (the text only)."""
    session.execute(
        update(Message)
        .where(Message.author_person_id == person_id)
        .values(author_name=pseudonym)
        .execution_options(synchronize_session=False)
    )
    return _rewrite(session, Message, ("text_raw", "text_plain"), names, pseudonym)


def replace_in_cues(session: Session, person_id: int, names: Sequence[str], pseudonym: str) -> int:
    session.execute(
        update(TranscriptCue)
        .where(TranscriptCue.person_id == person_id)
        .values(speaker=pseudonym)
        .execution_options(synchronize_session=False)
    )
    changed = _rewrite(session, TranscriptCue, ("text", "speaker"), names, pseudonym)
    return changed + _rewrite(session, InterviewCue, ("text", "speaker"), names, pseudonym)


def replace_in_audit(session: Session, names: Sequence[str], pseudonym: str) -> int:
    """The audit log keeps every entry; names inside its recorded values are replaced.
    Only the entries whose stored JSON holds one of the names (a case-insensitive
    substring, in SQL) are read, and only those that change are written."""
    pattern = name_pattern(names)
    if pattern is None:
        return 0
    stored = (cast(AuditLog.before, Text), cast(AuditLog.after, Text))
    forms = sorted({form for name in names for form in (name, _json_form(name))})
    query = select(AuditLog.id, AuditLog.before, AuditLog.after).where(_containing(stored, forms))
    changed = 0
    for row_id, before, after in session.execute(query).all():
        values = {
            column: scrubbed
            for column, value in (("before", before), ("after", after))
            if (scrubbed := _scrub(value, pattern, pseudonym)) != value
        }
        if values:
            session.execute(
                update(AuditLog)
                .where(AuditLog.id == row_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            changed += 1
    return changed


def _json_form(text: str) -> str:
    """How `text` reads inside a stored JSON value (quotes, backslashes and non-ASCII
    letters escaped)."""
    return json.dumps(text)[1:-1]


def _containing(columns: Sequence[Any], texts: Sequence[str]) -> ColumnElement[bool]:
    """Rows where any of `columns` holds any of `texts` (case-insensitive substring)."""
    return or_(*(c.ilike(f"%{_like(text)}%", escape="\\") for c in columns for text in texts))


def _scrub(value: Any, pattern: re.Pattern[str], pseudonym: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(pseudonym, value)
    if isinstance(value, dict):
        return {k: _scrub(v, pattern, pseudonym) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, pattern, pseudonym) for v in value]
    return value


def _rewrite(
    session: Session,
    table: type[Message] | type[TranscriptCue] | type[InterviewCue],
    columns: tuple[str, ...],
    names: Sequence[str],
    pseudonym: str,
) -> int:
    """Rewrite the rows whose `columns` name the person. Candidates are found in SQL by a
    case-insensitive substring of each name, then matched as whole words here."""
    pattern = name_pattern(names)
    if pattern is None:
        return 0
    targets = [getattr(table, c) for c in columns]
    found = _containing(targets, names)
    changed = 0
    for row in session.execute(select(table.id, *targets).where(found)):
        values = {
            c: pattern.sub(pseudonym, v)
            for c, v in zip(columns, row[1:], strict=True)
            if isinstance(v, str) and pattern.search(v)
        }
        if values:
            session.execute(
                update(table)
                .where(table.id == row[0])
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            changed += 1
    return changed


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
