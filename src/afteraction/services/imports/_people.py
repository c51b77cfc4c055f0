"""Resolving identities from other systems (PagerDuty users, transcript speakers...) to the
directory's people, for the importers.

Order, everywhere: an existing `Identity(system, external_id)`; then the email
(case-insensitive); then the full name normalised by `adapters.roster.normalise_name` —
only names of two or more words that belong to exactly one person. A name that matches
several people never matches. A one-word name (a transcript speaker called "Sarah") never
matches a full name here: `by_given_name` matches it within a given set of people only (an
incident's). Does not live here: roster updates (`importers.roster`).

An erased person (`services.privacy`) is found by the keys they kept (`core.erasure`): an
identity, or the digest of the record's email or of an id that would name them. A record
matched to them adds at most such a key, never a display name (`identity_of`); the
importers then count it as "matched to erased people" and store their pseudonym where the
record's name would have gone (`PeopleIndex.erased`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.adapters.roster import normalise_name
from afteraction.core.access import Actor
from afteraction.core.erasure import email_key, kept_key
from afteraction.core.errors import ValidationError
from afteraction.core.evidence import PersonRecord
from afteraction.services import directory
from afteraction.storage import source_people
from afteraction.storage.tables import Identity, Person

_PARENTHESES_RE = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]\s*")


@dataclass
class PeopleIndex:
    """People and identities loaded once per import, kept current as rows are added."""

    by_email: dict[str, int] = field(default_factory=dict)
    by_name: dict[str, list[int]] = field(default_factory=dict)
    by_identity: dict[tuple[str, str], int] = field(default_factory=dict)
    erased: dict[int, str] = field(default_factory=dict)  # erased person id -> pseudonym

    @classmethod
    def load(cls, session: Session) -> PeopleIndex:
        index = cls()
        people = select(Person.id, Person.name, Person.email, Person.erased_at)
        for person_id, name, email, erased_at in session.execute(people):
            index.add_person(person_id, name, email)
            if erased_at is not None:
                index.erased[person_id] = name
        for system, external_id, person_id in session.execute(
            select(Identity.system, Identity.external_id, Identity.person_id)
        ):
            index.by_identity[(system, external_id)] = person_id
        return index

    def add_person(self, person_id: int, name: str, email: str | None) -> None:
        if email:
            self.by_email[email.lower()] = person_id
        ids = self.by_name.setdefault(normalise_name(name), [])
        if person_id not in ids:
            ids.append(person_id)

    def replace_stand_ins(self, real: Callable[[int], int]) -> None:
        """Swap the stand-in ids given to people not inserted yet for their real ids."""
        self.by_email = {key: real(value) for key, value in self.by_email.items()}
        self.by_name = {key: [real(value) for value in ids] for key, ids in self.by_name.items()}
        self.by_identity = {key: real(value) for key, value in self.by_identity.items()}

    def by_full_name(self, name: str) -> int | None:
        """The one person with this full name (two words or more), else None."""
        for candidate in (name, _PARENTHESES_RE.sub(" ", name)):
            key = normalise_name(candidate)
            ids = self.by_name.get(key, []) if len(key.split()) >= 2 else []
            if len(ids) == 1:
                return ids[0]
        return None

    def match(self, record: PersonRecord, system: str | None = None) -> tuple[int | None, str]:
        """(person id, how) — how is "identity", "email", "name" or "" when unmatched. The
        keys an erased person kept count as their identity and their email."""
        if system is not None:
            external_id = record.key.removeprefix(f"{system}:")
            for key in (system, external_id), kept_key(system, external_id):
                found = self.by_identity.get(key)
                if found is not None:
                    return found, "identity"
        if record.email and record.email.lower() in self.by_email:
            return self.by_email[record.email.lower()], "email"
        if record.email and (found := self.by_identity.get(email_key(record.email))) is not None:
            return found, "email"
        by_name = self.by_full_name(record.name)
        return (by_name, "name") if by_name is not None else (None, "")

    def identity_of(
        self, person_id: int, system: str, external_id: str, name: str
    ) -> tuple[str, str, str]:
        """(system, external id, display name) of the identity a record linked to
        `person_id` adds: for an erased person only the key they keep, nameless."""
        if person_id in self.erased:
            return (*kept_key(system, external_id), "")
        return system, external_id, name[:200]


def erased_emails(session: Session) -> dict[str, int]:
    """Digest of an email -> the erased person who had it (`core.erasure.email_key`)."""
    system = email_key("")[0]
    query = select(Identity.external_id, Identity.person_id).where(Identity.system == system)
    return {str(digest): int(person_id) for digest, person_id in session.execute(query)}


def erased_with_email(digests: Mapping[str, int], email: str | None) -> int | None:
    """The erased person who had `email`, given `erased_emails`; else None."""
    return digests.get(email_key(email)[1]) if email else None


def one_word(name: str) -> str | None:
    """The name normalised, when it is one word once a "(Company)" is left out; else None."""
    key = normalise_name(_PARENTHESES_RE.sub(" ", name))
    return key if key and len(key.split()) == 1 else None


def by_given_name(word: str, people: Mapping[int, str]) -> list[int]:
    """The people (id → name) whose first name is `word` (normalised by `one_word`)."""
    return [
        person_id
        for person_id, name in people.items()
        if normalise_name(name).split()[:1] == [word]
    ]


def resolve_identity(
    session: Session,
    actor: Actor,
    index: PeopleIndex,
    record: PersonRecord,
    *,
    system: str,
    warnings: list[str],
) -> tuple[int, str]:
    """Link `record` (key "<system>:<id>") to a person, creating the person when unknown.

    Returns (person id, how): how is "identity", "email", "name" or "created". A created
    person carries the identity's name, email, time zone and title; a later roster import
    updates it or moves the identity to the roster's person.
    """
    external_id = record.key.removeprefix(f"{system}:")
    person_id, how = index.match(record, system)
    if how != "identity":  # the account becomes an identity: no longer kept aside
        source_people.forget_kept(session, system, [external_id])
    if person_id is None:
        person_id = _create_person(session, actor, record, warnings)
        index.add_person(person_id, record.name, record.email)
        how = "created"
    if how != "identity":
        kept_system, kept_id, display = index.identity_of(
            person_id, system, external_id, record.name
        )
        directory.add_identity(
            session,
            person_id=person_id,
            system=kept_system,
            external_id=kept_id,
            display_name=display,
        )
        index.by_identity[(kept_system, kept_id)] = person_id
    return person_id, how


def resolve_identities(
    session: Session,
    actor: Actor,
    index: PeopleIndex,
    records: Sequence[PersonRecord],
    *,
    system: str,
    warnings: list[str],
    source_id: int | None = None,
    audit: bool = True,
) -> list[tuple[int, str]]:
    """`resolve_identity` for each record in turn, with the same results, warnings and
    rows, but written at once: the people to create are checked one by one (matching later
    records against them through `index`), then inserted in one flush with their audit
    records, and the new identities in one more. People created remember `source_id`
    (the import creating them; removing it removes them when nothing else uses them).
    `audit` False leaves their audit records to the caller (`directory.record_created`)."""
    found: list[tuple[int, str]] = []
    new_people: list[Person] = []
    new_identities: list[tuple[int, str, str, str]] = []
    taken: set[str] | None = None
    forget: list[str] = []  # accounts that become identities: no longer kept aside
    for record in records:
        external_id = record.key.removeprefix(f"{system}:")
        person_id, how = index.match(record, system)
        if person_id is None:
            if taken is None:
                taken = directory.emails_in_use(session)
            person = _check_person(record, warnings, taken)
            person.source_id = source_id
            if person.email:
                taken.add(person.email)
            new_people.append(person)
            person_id, how = -len(new_people), "created"  # a stand-in until inserted
            index.add_person(person_id, record.name, record.email)
        if how != "identity":
            kept_system, kept_id, display = index.identity_of(
                person_id, system, external_id, record.name
            )
            new_identities.append((person_id, kept_system, kept_id, display))
            index.by_identity[(kept_system, kept_id)] = person_id
            forget.append(external_id)
        found.append((person_id, how))
    if not new_people and not new_identities:
        return found
    source_people.forget_kept(session, system, forget)
    ids = directory.add_people(session, actor, new_people, audit=audit)

    def real(person_id: int) -> int:
        return ids[-person_id - 1] if person_id < 0 else person_id

    index.replace_stand_ins(real)
    session.add_all(
        Identity(
            person_id=real(person_id),
            system=kept_system,
            external_id=external_id,
            display_name=name,
        )
        for person_id, kept_system, external_id, name in new_identities
    )
    session.flush()
    return [(real(person_id), how) for person_id, how in found]


def _check_person(record: PersonRecord, warnings: list[str], taken: set[str]) -> Person:
    """`_create_person` without the insert (see `directory.check_new_person`)."""
    data = directory.PersonInput(
        name=record.name[:200] or record.key,
        email=record.email,
        time_zone=record.time_zone,
        title=record.title,
    )
    try:
        return directory.check_new_person(data, taken)
    except ValidationError as error:
        warnings.append(f"{record.key}: {error.message}; stored without it")
        data.time_zone = None
        if error.field == "email":
            data.email = None
        return directory.check_new_person(data, taken)


def _create_person(
    session: Session, actor: Actor, record: PersonRecord, warnings: list[str]
) -> int:
    data = directory.PersonInput(
        name=record.name[:200] or record.key,
        email=record.email,
        time_zone=record.time_zone,
        title=record.title,
    )
    try:
        return directory.create_person(session, actor, data).id
    except ValidationError as error:
        warnings.append(f"{record.key}: {error.message}; stored without it")
        data.time_zone = None
        if error.field == "email":
            data.email = None
        return directory.create_person(session, actor, data).id
