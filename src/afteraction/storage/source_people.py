"""The people an import brings: who of them appears in a source's messages, removing the people
an import made that do not, and removing the people a source alone created when the source
is removed; and the accounts kept to match later instead (`kept_identities`): stored by an
import, made someone's identity when a person with their email enters the directory,
forgotten when an import makes them people (removing the source removes them too).

Lives here: `appearing`, `remove_people`, `created_by`, `remove_unused_people`,
`keep_identities`, `claim_kept` and `forget_kept`. Does not
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
from afteraction.storage.tables import AuditLog, Identity, KeptIdentity, Person

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


def keep_identities(
    session: Session, source_id: int, system: str, accounts: Sequence[dict[str, Any]]
) -> None:
    """Keep accounts (`external_id`, `display_name`, `email`, `title`, `time_zone`) of
    `system` to match later, under the import `source_id`; an account kept before is
    updated and moves to this import."""
    if not accounts:
        return
    wanted = {str(a["external_id"]): a for a in accounts}
    known = {
        row.external_id: row
        for start in range(0, len(wanted), _CHUNK)
        for row in session.scalars(
            select(KeptIdentity).where(
                KeptIdentity.system == system,
                KeptIdentity.external_id.in_(sorted(wanted)[start : start + _CHUNK]),
            )
        )
    }
    for external_id, account in wanted.items():
        row = known.get(external_id) or KeptIdentity(system=system, external_id=external_id)
        row.display_name = str(account.get("display_name") or "")[:200]
        row.email = (account.get("email") or "").strip().lower() or None
        row.title, row.time_zone = account.get("title"), account.get("time_zone")
        row.source_id = source_id
        session.add(row)
    session.flush()


def claim_kept(session: Session, people: Sequence[tuple[int, str | None]]) -> int:
    """Make the kept accounts with the email of one of `people` (id, email) that person's
    identities; returns how many."""
    by_email = {email.lower(): person_id for person_id, email in people if email}
    if not by_email:
        return 0
    claimed = 0
    emails = sorted(by_email)
    for start in range(0, len(emails), _CHUNK):
        query = select(KeptIdentity).where(KeptIdentity.email.in_(emails[start : start + _CHUNK]))
        for kept in session.scalars(query):
            taken = session.scalar(
                select(Identity.id).where(
                    Identity.system == kept.system, Identity.external_id == kept.external_id
                )
            )
            if taken is None:
                session.add(
                    Identity(
                        person_id=by_email[str(kept.email)],
                        system=kept.system,
                        external_id=kept.external_id,
                        display_name=kept.display_name,
                    )
                )
                claimed += 1
            session.delete(kept)
    session.flush()
    return claimed


def forget_kept(session: Session, system: str, external_ids: Iterable[str]) -> None:
    """Forget kept accounts that have just become people's identities."""
    ids = sorted(set(external_ids))
    for start in range(0, len(ids), _CHUNK):
        session.execute(
            delete(KeptIdentity).where(
                KeptIdentity.system == system,
                KeptIdentity.external_id.in_(ids[start : start + _CHUNK]),
            )
        )


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
