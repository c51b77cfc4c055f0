"""Writes of the retention policy and of a person's erasure: set-based updates that remove
text and personal fields while keeping rows, so counts, times and links stay as they were.

Lives here: the updates and the counts of what they would touch. Does not live here: who
may run them, when, or what is audited (`services.privacy`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, func, or_, select, update
from sqlalchemy.orm import Session

from afteraction.core.erasure import email_key, kept_key
from afteraction.storage.analysis_tables import Interview, InterviewCue
from afteraction.storage.evidence_tables import Message, Page, Source, TranscriptCue
from afteraction.storage.import_jobs import ImportJob
from afteraction.storage.tables import AuditLog, Identity, KeptIdentity, Person

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
    """Every name this person is known by here, longest first: their name, email and
    GitHub login, and the display names of their identities in other systems."""
    names = [person.name, person.email or "", person.github_login or ""]
    names.extend(
        session.scalars(select(Identity.display_name).where(Identity.person_id == person.id))
    )
    return usable_names(names)


def usable_names(names: Iterable[str]) -> list[str]:
    """`names` trimmed, without repeats and one-letter names, longest first (so a full
    name is replaced before a shorter name inside it)."""
    kept = {n.strip() for n in names if len(n.strip()) >= 2}
    return sorted(kept, key=lambda n: (-len(n), n))


def pseudonymiser(erased: Iterable[tuple[str, Iterable[str]]]) -> Callable[[str], str]:
    """What puts each (pseudonym, names) pair's pseudonym for its names (whole words, any
    case) in a text: for evidence an import is about to store."""
    rules = [
        (pattern, pseudonym)
        for pseudonym, names in erased
        if (pattern := name_pattern(usable_names(names))) is not None
    ]

    def scrub(text: str) -> str:
        for pattern, pseudonym in rules:
            text = pattern.sub(pseudonym, text)
        return text

    return scrub


def keep_keys(session: Session, person: Person) -> int:
    """Leave `person` (being erased) only keys to recognise them by (`core.erasure`): their
    identities without display names, those whose id would name them as digests, the
    accounts kept aside with their email (`kept_identities`) made identities that way, and
    digests of their email and GitHub login. Returns how many identities they keep."""
    wanted: list[tuple[str, str]] = []
    for identity in session.scalars(select(Identity).where(Identity.person_id == person.id)):
        wanted.append(kept_key(identity.system, identity.external_id))
        session.delete(identity)
    if person.email:
        email = person.email.strip().lower()
        for kept in session.scalars(select(KeptIdentity).where(KeptIdentity.email == email)):
            wanted.append(kept_key(kept.system, kept.external_id))
            session.delete(kept)
        wanted.append(email_key(email))
    if person.github_login:
        wanted.append(kept_key("github", person.github_login))
    session.flush()
    kept_keys = 0
    for system, external_id in dict.fromkeys(wanted):
        taken = session.scalar(
            select(Identity.id).where(
                Identity.system == system, Identity.external_id == external_id
            )
        )
        if taken is None:  # else another erased person holds the same digest
            session.add(Identity(person_id=person.id, system=system, external_id=external_id))
            kept_keys += 1
    session.flush()
    return kept_keys


def name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """Whole-word, case-insensitive matches of any of `names`."""
    parts = [re.escape(n) for n in names if n]
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def replace_in_messages(
    session: Session,
    person_id: int,
    names: Sequence[str],
    pseudonym: str,
    *,
    within: ColumnElement[bool] | None = None,
) -> int:
    """Put `pseudonym` for the person as author and for their names in message text.
    Messages of anyone that name them are rewritten too (the text only). `within` narrows
    both to some messages (those of an import's channels)."""
    authored = Message.author_person_id == person_id
    session.execute(
        update(Message)
        .where(authored if within is None else authored & within)
        .values(author_name=pseudonym)
        .execution_options(synchronize_session=False)
    )
    return _rewrite(session, Message, ("text_raw", "text_plain"), names, pseudonym, within)


def replace_in_pages(session: Session, names: Sequence[str], pseudonym: str) -> int:
    """Put `pseudonym` for the person's names in the text of pages and PagerDuty log
    entries ("Acknowledged by …")."""
    return _rewrite(session, Page, ("summary",), names, pseudonym)


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
    """The audit log keeps every entry; names inside its recorded values are replaced."""
    return _rewrite_json(session, AuditLog, ("before", "after"), names, pseudonym)


def replace_in_import_records(session: Session, names: Sequence[str], pseudonym: str) -> int:
    """Names in what imports recorded: their sources' warnings (the unmatched users) and
    their jobs' summaries."""
    changed = _rewrite_json(session, Source, ("warnings",), names, pseudonym)
    return changed + _rewrite_json(session, ImportJob, ("summary",), names, pseudonym)


def _rewrite_json(
    session: Session,
    table: type[AuditLog] | type[Source] | type[ImportJob],
    columns: tuple[str, ...],
    names: Sequence[str],
    pseudonym: str,
) -> int:
    """Replace names inside the JSON `columns` of `table`. Only the rows whose stored JSON
    holds one of the names (a case-insensitive substring, in SQL) are read, and only those
    that change are written."""
    pattern = name_pattern(names)
    if pattern is None:
        return 0
    stored = [cast(getattr(table, c), Text) for c in columns]
    forms = sorted({form for name in names for form in (name, _json_form(name))})
    query = select(table.id, *(getattr(table, c) for c in columns)).where(
        _containing(stored, forms)
    )
    changed = 0
    for row_id, *values in session.execute(query).all():
        scrubbed = {
            column: after
            for column, value in zip(columns, values, strict=True)
            if (after := _scrub(value, pattern, pseudonym)) != value
        }
        if scrubbed:
            session.execute(
                update(table)
                .where(table.id == row_id)
                .values(**scrubbed)
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
    table: type[Message] | type[Page] | type[TranscriptCue] | type[InterviewCue],
    columns: tuple[str, ...],
    names: Sequence[str],
    pseudonym: str,
    within: ColumnElement[bool] | None = None,
) -> int:
    """Rewrite the rows (of those `within`, if given) whose `columns` name the person.
    Candidates are found in SQL by a case-insensitive substring of each name, then matched
    as whole words here."""
    pattern = name_pattern(names)
    if pattern is None:
        return 0
    targets = [getattr(table, c) for c in columns]
    found = _containing(targets, names)
    if within is not None:
        found = found & within
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
