"""The Slack users of one import linked to people: an existing slack identity, then the same
email, then the same full name; a user nobody matches becomes a person made from the Slack
profile, listed as unmatched. Bots and apps do not become people.

An incident's import makes people only of the users who appear in what it imported (wrote,
reacted, joined, were mentioned or invited): the others are not added to the directory but
kept as identities to match later (`kept_identities`: their Slack id, name, email, title and
time zone): a person who enters the directory with one's email takes it as an identity, and
a later import that finds them in its messages makes them people (users.json is read again
by every import). They are made first and the absent ones removed at the end (before the commit,
never audited), because the rows of the messages carry their author's person: knowing who
appears only afterwards, updating every message after would cost more than the import (a
million messages) where removing a few dozen people costs nothing. People an import creates
remember it (`Person.source_id`): removing it removes them when nothing else uses them
(`storage.source_people`).

A user matched to an erased person (`services.privacy`) is counted as "matched to erased
people" and labelled with their pseudonym; once the messages are written, their author
name and every whole-word use of the user's Slack names in the channels the import wrote
are replaced with it (`scrub_erased`), whichever path wrote the rows.

Lives here: `SlackPeople`. Does not live here: matching rules (`importers._people`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from afteraction.adapters.slack_records import SlackUser
from afteraction.core.access import Actor
from afteraction.core.evidence import PersonRecord
from afteraction.services import directory
from afteraction.services.imports._people import PeopleIndex, resolve_identities
from afteraction.services.imports.sources import ImportSummary
from afteraction.storage import privacy, source_people
from afteraction.storage.evidence_tables import Message

SYSTEM = "slack"


class SlackPeople:
    """One import's Slack users: `person_of` (Slack id -> person id), `labels` (the names
    Slack shows) and `bot_users`, as the rows of its messages need them."""

    def __init__(
        self, session: Session, actor: Actor, summary: ImportSummary, source_id: int
    ) -> None:
        self.session, self.actor, self.summary = session, actor, summary
        self.source_id = source_id
        self.person_of: dict[str, int] = {}
        self.labels: dict[str, str] = {}
        self.bot_users: set[str] = set()
        # see `link_users`: Slack id -> (person id, profile) of people made provisionally
        self.provisional: dict[str, tuple[int, PersonRecord]] = {}
        # erased person id -> (pseudonym, the names this import's users gave them)
        self.erased: dict[int, tuple[str, set[str]]] = {}

    def link_users(self, users: Iterable[SlackUser], *, only_appearing: bool = False) -> None:
        """Link the Slack users to people, creating those nobody matches. With
        `only_appearing` (an incident's import) the people created are provisional, not
        yet in the audit log nor the summary: `link_appearing` keeps those who appear in
        the imported messages and removes the others. Made first, so that every path
        writes each message with its author's person, as an archive import does."""
        index = PeopleIndex.load(self.session)
        for name in ("users", "people created", "people matched", "bots"):
            self.summary.counts.setdefault(name, 0)
        people: list[tuple[SlackUser, PersonRecord]] = []
        for user in users:
            self.labels[user.id] = user.label
            if user.is_bot or user.bot_id:
                self.bot_users.add(user.id)
                self.summary.count("bots")
                continue
            self.summary.count("users")
            people.append((user, user.to_person(f"{SYSTEM}:{user.id}")))
        linked = resolve_identities(
            self.session,
            self.actor,
            index,
            [record for _, record in people],
            system=SYSTEM,
            warnings=self.summary.warnings,
            source_id=self.source_id,
            audit=not only_appearing,
        )
        for (user, record), (person_id, how) in zip(people, linked, strict=True):
            self.person_of[user.id] = person_id
            pseudonym = index.erased.get(person_id)
            if pseudonym is not None:
                self.labels[user.id] = pseudonym
                names = {record.name, user.real_name, user.display_name}
                self.erased.setdefault(person_id, (pseudonym, set()))[1].update(names)
                self.summary.count("matched to erased people")
            elif how == "created" and only_appearing:
                self.provisional[user.id] = (person_id, record)
            elif how == "created":
                self._created(user.id, record.name)
            elif how in ("email", "name"):
                self.summary.count("people matched")

    def link_appearing(self) -> None:
        """Keep the provisional people (see `link_users`) who appear in this import's
        messages, with their audit record; remove the others, counted as `users not in
        the window`, and keep their accounts as identities to match later."""
        if not self.provisional:
            return
        appearing = source_people.appearing(self.session, self.source_id, set(self.provisional))
        kept: list[int] = []
        for user_id, (person_id, record) in self.provisional.items():
            if user_id in appearing:
                kept.append(person_id)
                self._created(user_id, record.name)
        absent = {uid: p for uid, p in self.provisional.items() if uid not in appearing}
        source_people.remove_people(self.session, [pid for pid, _ in absent.values()])
        source_people.keep_identities(
            self.session,
            self.source_id,
            SYSTEM,
            [
                {
                    "external_id": user_id,
                    "display_name": record.name,
                    "email": record.email,
                    "title": record.title,
                    "time_zone": record.time_zone,
                }
                for user_id, (_, record) in absent.items()
            ],
        )
        directory.record_created(self.session, self.actor, kept)
        self.summary.count("users not in the window", len(absent))
        self.provisional = {}

    def scrub_erased(self, channel_ids: Iterable[int]) -> None:
        """Put each erased person's pseudonym for their names in the messages of the
        channels this import wrote (see the module's docstring)."""
        channels = sorted(set(channel_ids))
        if not self.erased or not channels:
            return
        within = Message.channel_id.in_(channels)
        for person_id, (pseudonym, names) in self.erased.items():
            named = privacy.usable_names(names)
            privacy.replace_in_messages(self.session, person_id, named, pseudonym, within=within)

    def _created(self, user_id: str, name: str) -> None:
        self.summary.count("people created")
        self.summary.unmatched.append(f"{name} ({user_id})")
