"""The people an import brings: who of them appears in a source's messages, removing the people
an import made that do not, and removing the people a source alone created when the source
is removed.

Lives here: `appearing`, `remove_people`, `created_by` and `remove_unused_people`. Does not
live here: matching identities to people (`importers._people`), the decision of whom to
create (the importers), removing the rest of a source
(`services.imports.sources.remove_source_everything`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from afteraction.storage.evidence_tables import Message
from afteraction.storage.models import Base
from afteraction.storage.tables import AuditLog, Identity, Person

_CHUNK = 500  # ids per IN (...) list


def appearing(session: Session, source_id: int, candidates: set[str]) -> set[str]:
    """Those of `candidates` (external ids: Slack user ids) that appear in a source's
    messages: as author (which includes joining a channel) or inviter, then — only for
    those still missing, and only until none is — as mention or reactor."""
    found: set[str] = set()
    for column in (Message.author_external, Message.inviter_external):
        query = select(column).where(Message.source_id == source_id, column.is_not(None))
        found.update(v for v in session.scalars(query.distinct()) if v in candidates)
    missing = candidates - found
    if not missing:
        return found
    named_in = select(Message.mentions, Message.reactions).where(
        Message.source_id == source_id,
        or_(Message.mentions.is_not(None), Message.reactions.is_not(None)),
    )
    for mentions, reactions in session.execute(named_in):
        named = {m for m in mentions or () if isinstance(m, str)}
        for reaction in reactions or ():
            if isinstance(reaction, dict):
                named.update(u for u in reaction.get("users") or () if isinstance(u, str))
        found |= named & missing
        missing -= named
        if not missing:
            break
    return found


def remove_people(session: Session, person_ids: Sequence[int]) -> None:
    """Delete people just made in this transaction that nothing uses yet, with their
    identities (an import's provisional people, see `importers.slack_people`)."""
    if not person_ids:
        return
    session.flush()
    for start in range(0, len(person_ids), _CHUNK):
        chunk = person_ids[start : start + _CHUNK]
        # the ORM statements also take the deleted rows out of the session
        session.execute(delete(Identity).where(Identity.person_id.in_(chunk)))
        session.execute(delete(Person).where(Person.id.in_(chunk)))


def created_by(session: Session, source_id: int) -> list[int]:
    """Ids of the people the source's import created."""
    return list(session.scalars(select(Person.id).where(Person.source_id == source_id)))


def remove_unused_people(session: Session, person_ids: Iterable[int]) -> int:
    """Delete the given people (created by a source being removed, after its rows went)
    that nothing uses: no row of any table points at them except their own identities,
    and nobody changed them since they were created (any audit entry about them other
    than `person.created`). The others are kept with their source forgotten. Returns how
    many were deleted."""
    candidates = set(person_ids)
    if not candidates:
        return 0
    used = _referenced(session, candidates) | _edited(session, candidates)
    doomed = sorted(candidates - used)
    kept = sorted(candidates & used)
    if kept:
        session.execute(update(Person).where(Person.id.in_(kept)).values(source_id=None))
    if not doomed:
        return 0
    session.execute(delete(Person).where(Person.id.in_(doomed)))
    return len(doomed)


def _referenced(session: Session, candidates: set[int]) -> set[int]:
    """Those of `candidates` a row of another table (or another person) points at."""
    found: set[int] = set()
    ids = sorted(candidates)
    for table in Base.metadata.tables.values():
        if table.name == "identities":
            continue
        for column in table.columns:
            if not any(fk.column.table.name == "people" for fk in column.foreign_keys):
                continue
            query: Any = select(column).where(column.in_(ids)).distinct()
            found.update(int(value) for value in session.scalars(query) if value is not None)
    return found


def _edited(session: Session, candidates: set[int]) -> set[int]:
    """Those of `candidates` with an audit entry other than their creation."""
    query = (
        select(AuditLog.target_id, func.count())
        .where(
            AuditLog.target_type == "person",
            AuditLog.target_id.in_([str(i) for i in sorted(candidates)]),
            AuditLog.action != "person.created",
        )
        .group_by(AuditLog.target_id)
    )
    return {int(target) for target, _ in session.execute(query)}
