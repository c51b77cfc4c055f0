"""Import an HR roster CSV: people, teams, managers and dated team memberships, then
re-link Slack and PagerDuty identities to the roster's people.

Lives here: `import_roster`. Does not live here: CSV parsing (`adapters.roster`), commits
(the caller wraps the call in `with writing(session):`).

Rules:
- A roster row is the same person as a stored one with the same email (else, for rows
  without email, the one person with the same full name). New people are created
  (`person.created` in the audit log); for known people a non-empty cell replaces the
  stored value and every change is audited as `person.updated` (before/after). An empty
  cell never erases a stored value.
- Teams are found by slug (`slugify(name)`) or name, else created (`team.created`).
- Memberships are unique on (person, team, start): a known one only gets its end date
  updated. A new open membership closes the person's other open memberships on its start
  date (or today when it has none), so the history stays one team at a time.
- Extra columns (not mapped to a field) are kept in the Source's `options["extra_columns"]`
  as {person key (email, or "name:<name>"): {column: value}}; the latest roster source has
  the current values.
- Identities (Slack, PagerDuty) are matched to roster people by email then full name
  (`adapters.roster.match_identities`); matched identities of another person are moved to
  the roster person (`identity.relinked`), unmatched ones are listed in the summary for
  manual linking.
- A row with the email of an erased person (`services.privacy`) is left out whole (no
  person, fields, manager, memberships or extra columns) and counted as "matched to erased
  people", so a roster does not bring their personal data back.
Importing the same file again changes nothing (same checksum → earlier summary).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from afteraction.adapters.roster import Roster, match_identities, normalise_name, parse_roster
from afteraction.core import times
from afteraction.core.access import Actor
from afteraction.core.errors import ImportFailed, ValidationError
from afteraction.core.evidence import MembershipRecord, PersonRecord
from afteraction.services import directory
from afteraction.services.imports._people import erased_emails, erased_with_email
from afteraction.services.imports.sources import (
    ImportSummary,
    Progress,
    checksum_path,
    find_previous,
    finish_source,
    previous_summary,
    start_source,
)
from afteraction.storage import audit
from afteraction.storage.tables import Identity, Person, Team, TeamMembership
from afteraction.storage.types import utcnow

KIND = "roster"
RELINK_SYSTEMS = ("slack", "pagerduty")
FIELDS = ("name", "title", "department", "location", "time_zone", "start_date", "end_date")


def import_roster(
    session: Session,
    actor: Actor,
    path: Path | str,
    *,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import a roster CSV (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailed("no such file", where=str(path))
    checksum = checksum_path(path)
    roster, erased = _without_erased(session, parse_roster(path))
    options = {"extra_columns": roster.extra_columns}
    previous = find_previous(session, kind=KIND, checksum=checksum, options=options)
    if previous is not None:
        return previous_summary(previous)
    summary = ImportSummary(kind=KIND, source_id=None, origin=str(path))
    if erased:
        summary.count("matched to erased people", erased)
    summary.warnings.extend(roster.warnings)
    source = start_source(
        session, actor, kind=KIND, origin=str(path), checksum=checksum, options=options
    )
    teams = _teams(session, actor, roster, summary)
    people = _people(session, actor, roster, summary, path.name)
    if progress is not None:
        progress(len(people), len(roster.people), "people")
    _managers(session, actor, roster, people, summary)
    _memberships(session, actor, roster.memberships, people, teams, summary)
    _relink(session, actor, roster, people, summary)
    finish_source(session, actor, source, summary)
    return summary


def _without_erased(session: Session, roster: Roster) -> tuple[Roster, int]:
    """The roster without the rows of erased people, and how many rows those were."""
    digests = erased_emails(session)
    if not digests:
        return roster, 0
    gone = {r.key for r in roster.people if erased_with_email(digests, r.email) is not None}
    if not gone:
        return roster, 0
    kept = dataclasses.replace(
        roster,
        people=[r for r in roster.people if r.key not in gone],
        memberships=[m for m in roster.memberships if m.person_key not in gone],
        extra_columns={k: v for k, v in roster.extra_columns.items() if k not in gone},
    )
    return kept, len(gone)


def _teams(
    session: Session, actor: Actor, roster: Roster, summary: ImportSummary
) -> dict[str, Team]:
    known = list(session.scalars(select(Team)))
    by_slug = {t.slug: t for t in known}
    by_name = {t.name.casefold(): t for t in known}
    teams: dict[str, Team] = {}
    for name in roster.teams:
        slug = directory.slugify(name)
        team = by_slug.get(slug) or by_name.get(name.casefold())
        if team is None:
            team = directory.create_team(session, actor, name=name, slug=slug)
            by_slug[slug] = team
            summary.count("teams created")
        teams[name] = team
    return teams


def _find_person(session: Session, record: PersonRecord) -> Person | None:
    if record.email:
        return directory.person_by_email(session, record.email)
    wanted = normalise_name(record.name)
    candidates = [
        p
        for p in session.scalars(
            select(Person).where(func.lower(Person.name) == record.name.lower())
        )
        if normalise_name(p.name) == wanted
    ]
    return candidates[0] if len(candidates) == 1 else None


def _people(
    session: Session, actor: Actor, roster: Roster, summary: ImportSummary, source: str
) -> dict[str, Person]:
    people: dict[str, Person] = {}
    for record in roster.people:
        person = _find_person(session, record)
        where = f"{source}: {record.email or record.name}"
        try:
            if person is None:
                person = directory.create_person(session, actor, _input(record))
                summary.count("people created")
            elif _update(session, actor, person, record):
                summary.count("people updated")
            else:
                summary.count("people unchanged")
        except ValidationError as error:
            raise ImportFailed(error.message, where=where) from error
        people[record.key] = person
    return people


def _input(record: PersonRecord) -> directory.PersonInput:
    return directory.PersonInput(
        name=record.name,
        email=record.email,
        time_zone=record.time_zone,
        location=record.location,
        title=record.title,
        department=record.department,
        start_date=record.start_date,
        end_date=record.end_date,
    )


def _update(session: Session, actor: Actor, person: Person, record: PersonRecord) -> bool:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name in FIELDS:
        value = getattr(record, name)
        if value is None or value == "" or getattr(person, name) == value:
            continue
        if name == "time_zone":
            times.check_zone_name(value)
        before[name], after[name] = getattr(person, name), value
        setattr(person, name, value)
    if after:
        audit.record(
            session,
            actor,
            "person.updated",
            target_type="person",
            target_id=person.id,
            before=before,
            after=after,
        )
    return bool(after)


def _managers(
    session: Session,
    actor: Actor,
    roster: Roster,
    people: dict[str, Person],
    summary: ImportSummary,
) -> None:
    for record in roster.people:
        if record.manager_key is None or record.manager_key not in people:
            continue
        person, manager = people[record.key], people[record.manager_key]
        if person.manager_id == manager.id:
            continue
        audit.record(
            session,
            actor,
            "person.updated",
            target_type="person",
            target_id=person.id,
            before={"manager_id": person.manager_id},
            after={"manager_id": manager.id},
        )
        person.manager_id = manager.id
        summary.count("managers set")
    session.flush()


def _memberships(
    session: Session,
    actor: Actor,
    records: list[MembershipRecord],
    people: dict[str, Person],
    teams: dict[str, Team],
    summary: ImportSummary,
) -> None:
    for record in records:
        person, team = people[record.person_key], teams[record.team]
        rows = list(
            session.scalars(select(TeamMembership).where(TeamMembership.person_id == person.id))
        )
        same = next((m for m in rows if m.team_id == team.id and m.start == record.start), None)
        if same is not None:
            if same.end != record.end:
                _audit_membership(session, actor, person, team, "membership.changed", record)
                same.end = record.end
                summary.count("memberships updated")
            continue
        start = record.start
        if record.end is None:
            start = _close_others(session, actor, person, team, rows, record.start, summary)
        session.add(
            TeamMembership(person_id=person.id, team_id=team.id, start=start, end=record.end)
        )
        _audit_membership(session, actor, person, team, "membership.added", record)
        summary.count("memberships added")
    session.flush()


def _close_others(
    session: Session,
    actor: Actor,
    person: Person,
    team: Team,
    rows: list[TeamMembership],
    start: date | None,
    summary: ImportSummary,
) -> date | None:
    """End the person's other open memberships when this one starts; return its start."""
    others = [m for m in rows if m.end is None and m.team_id != team.id]
    if not others:
        return start
    moment = start
    if moment is None or any(m.start is not None and m.start >= moment for m in others):
        moment = utcnow().date()
    for membership in others:
        membership.end = moment
        audit.record(
            session,
            actor,
            "membership.ended",
            target_type="person",
            target_id=person.id,
            after={"team_id": membership.team_id, "end": moment},
        )
        summary.count("memberships ended")
    return moment


def _audit_membership(
    session: Session,
    actor: Actor,
    person: Person,
    team: Team,
    action: str,
    record: MembershipRecord,
) -> None:
    audit.record(
        session,
        actor,
        action,
        target_type="person",
        target_id=person.id,
        after={"team": team.slug, "start": record.start, "end": record.end},
    )


def _relink(
    session: Session,
    actor: Actor,
    roster: Roster,
    people: dict[str, Person],
    summary: ImportSummary,
) -> None:
    rows = list(
        session.execute(
            select(Identity, Person.name, Person.email)
            .join(Person, Person.id == Identity.person_id)
            .where(Identity.system.in_(RELINK_SYSTEMS))
            .order_by(Identity.system, Identity.external_id)
        )
    )
    by_key = {f"{i.system}:{i.external_id}": i for i, _, _ in rows}
    identities = [
        PersonRecord(key=f"{i.system}:{i.external_id}", name=i.display_name or name, email=email)
        for i, name, email in rows
    ]
    matches, unmatched = match_identities(roster.people, identities)
    for match in matches:
        identity, person = by_key[match.identity_key], people[match.person_key]
        if identity.person_id == person.id:
            summary.count("identities linked")
            continue
        audit.record(
            session,
            actor,
            "identity.relinked",
            target_type="identity",
            target_id=match.identity_key,
            before={"person_id": identity.person_id},
            after={"person_id": person.id, "by": match.by},
        )
        identity.person_id = person.id
        summary.count(f"identities relinked by {match.by}")
    summary.unmatched.extend(f"{i.key} {i.name} <{i.email or 'no email'}>" for i in unmatched)
    session.flush()
