"""The Slack users of one import linked to people: an existing slack identity, then the same
email, then the same full name; a user nobody matches becomes a person made from the Slack
profile, listed as unmatched. Bots and apps do not become people.

An incident's import makes people only of the users who appear in what it imported (wrote,
reacted, joined, were mentioned or invited): the others are not added to the directory;
users.json is read again by every import, so a later import makes them people when they
appear in it. People an import creates remember it (`Person.source_id`): removing it
removes them when nothing else uses them (`storage.source_people`).

Lives here: `SlackPeople`. Does not live here: matching rules (`importers._people`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from afteraction.adapters.slack_export import SlackUser
from afteraction.core.access import Actor
from afteraction.core.evidence import PersonRecord
from afteraction.importers._people import PeopleIndex, resolve_identities
from afteraction.storage import source_people
from afteraction.storage.imports import ImportSummary

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
        self.index = PeopleIndex()
        self.deferred: list[tuple[SlackUser, PersonRecord]] = []  # see `link_users`

    def link_users(self, users: Iterable[SlackUser], *, only_appearing: bool = False) -> None:
        """Link the Slack users to people. With `only_appearing` (an incident's import) a
        user nobody matches is not made a person yet: `link_appearing` makes those who
        appear in the imported messages people once they are written."""
        index = self.index = PeopleIndex.load(self.session)
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
            record = user.to_person(f"{SYSTEM}:{user.id}")
            if only_appearing and index.match(record, SYSTEM)[0] is None:
                self.deferred.append((user, record))
                continue
            people.append((user, record))
        self._link(people)

    def link_appearing(self) -> None:
        """Make people of the deferred users (see `link_users`) who appear in this import's
        messages, and set them as their messages' authors; the others are counted as
        `users not in the window` (a later import matches them when they appear)."""
        if not self.deferred:
            return
        appearing = source_people.people_in_messages(self.session, self.source_id)
        people = [(u, r) for u, r in self.deferred if u.id in appearing]
        self.summary.count("users not in the window", len(self.deferred) - len(people))
        self._link(people)
        found = {user.id: self.person_of[user.id] for user, _ in people}
        source_people.link_message_authors(self.session, self.source_id, found)
        self.deferred = []

    def _link(self, people: list[tuple[SlackUser, PersonRecord]]) -> None:
        linked = resolve_identities(
            self.session,
            self.actor,
            self.index,
            [record for _, record in people],
            system=SYSTEM,
            warnings=self.summary.warnings,
            source_id=self.source_id,
        )
        for (user, record), (person_id, how) in zip(people, linked, strict=True):
            self.person_of[user.id] = person_id
            if how == "created":
                self.summary.count("people created")
                self.summary.unmatched.append(f"{record.name} ({user.id})")
            elif how in ("email", "name"):
                self.summary.count("people matched")
