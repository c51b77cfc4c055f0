"""The people an import brings: who appears in a source's messages, linking those messages
to the people made for them after they were written, and removing the people a source
alone created when it is removed.

Lives here: `people_in_messages`, `link_message_authors`, `created_by` and
`remove_unused_people`. Does not live here: matching identities to people
(`importers._people`), the decision of whom to create (the importers), removing the rest
of a source (`storage.imports.remove_source_everything`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from afteraction.storage.evidence_tables import Message
from afteraction.storage.tables import AuditLog, Person


def people_in_messages(session: Session, source_id: int) -> set[str]:
    """The external ids (Slack user ids) that appear in a source's messages: as author
    (which includes joining a channel), inviter, mention or reactor."""
    found: set[str] = set()
    query = select(
        Message.author_external, Message.inviter_external, Message.mentions, Message.reactions
    ).where(Message.source_id == source_id)
    for author, inviter, mentions, reactions in session.execute(query):
        found.update(x for x in (author, inviter) if x)
        found.update(m for m in mentions or () if isinstance(m, str))
        for reaction in reactions or ():
            if isinstance(reaction, dict):
                found.update(u for u in reaction.get("users") or () if isinstance(u, str))
    return found


def link_message_authors(session: Session, source_id: int, person_of: Mapping[str, int]) -> int:
    """Set the author person of a source's messages written before their authors were
    people (`author_person_id` NULL) from `person_of` (external id -> person id); returns
    how many messages changed."""
    if not person_of:
        return 0
    statement = (
        update(Message)
        .where(
            and_(
                Message.source_id == source_id,
                Message.author_external == bindparam("external"),
                Message.author_person_id.is_(None),
            )
        )
        .values(author_person_id=bindparam("person"))
        .execution_options(synchronize_session=False)
    )
    rows = [{"external": external, "person": person} for external, person in person_of.items()]
    result = session.connection().execute(statement, rows)
    return int(getattr(result, "rowcount", 0) or 0)


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
    from afteraction.storage.models import Base

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
