"""Privacy on request and by policy: erasing a person's personal data, and the retention
policy for raw chat and interview recordings. Both are audited; neither deletes a row the
analysis counts, so incidents keep their shape (who did what, when) under a pseudonym.

Erasure (`erase_person`, admins only, with a reason): the person's name becomes
"Erased person N", every personal field (email, title, department, location, time zone,
manager, dates, GitHub login) is cleared, they keep only keys to be recognised by
(`core.erasure`: their Slack and PagerDuty ids, and digests of their email, GitHub login
and any other identity whose id would name them), so a later import maps to the erased
person instead of creating them again and stores none of their personal data
(`services.imports._people`), and every place the product stored their name as
text is rewritten with the pseudonym: messages they wrote (author), any message, PagerDuty
log entry or transcript cue that names them, transcript speakers, values in the audit
log, and the unmatched users an import listed. A person
linked to an active user account is refused (disable the account first); a disabled
account linked to them is anonymised too and its API tokens revoked.

Retention (`apply_retention`, the daily job and `afteraction privacy retention`): with
`AFTERACTION_RETENTION_CHAT_DAYS`, the text of chat messages written more than that many
days ago is removed; with `AFTERACTION_RETENTION_RECORDING_DAYS`, the cue text and the
recording link of interviews held more than that many days ago. Rows, times, authors,
mentions and reactions stay, so the people analysis and the metrics are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from afteraction.config import RetentionSettings
from afteraction.core.access import Actor, require_admin
from afteraction.core.errors import Conflict, NotFound, ValidationError
from afteraction.storage import audit, privacy
from afteraction.storage.tables import ApiToken, Person, User
from afteraction.storage.types import utcnow

PSEUDONYM = "Erased person {id}"


@dataclass(frozen=True)
class Erasure:
    person_id: int
    pseudonym: str
    messages_rewritten: int
    cues_rewritten: int
    audit_entries_rewritten: int
    identities_kept: int
    user_anonymised: bool
    pages_rewritten: int


def erase_person(
    session: Session, actor: Actor, person_id: int, *, reason: str, now: datetime | None = None
) -> Erasure:
    """Erase a person's personal data on request (see the module's docstring)."""
    require_admin(actor)
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            "say why the person's data is erased (a request, a ticket)", field="reason"
        )
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("person", person_id)
    if person.erased_at is not None:
        raise Conflict(f"person {person_id} was already erased on {person.erased_at:%Y-%m-%d}")
    user = session.scalar(select(User).where(User.person_id == person_id))
    if user is not None and user.is_active:
        raise Conflict(
            f"person {person_id} has an active user account: disable it first, then erase "
            "the person (their account is anonymised with them)"
        )
    now = now or utcnow()
    pseudonym = PSEUDONYM.format(id=person_id)
    names = privacy.names_of(session, person)
    messages = privacy.replace_in_messages(session, person_id, names, pseudonym)
    cues = privacy.replace_in_cues(session, person_id, names, pseudonym)
    audits = privacy.replace_in_audit(session, names, pseudonym)
    privacy.replace_in_import_records(session, names, pseudonym)
    pages = privacy.replace_in_pages(session, names, pseudonym)
    identities = privacy.keep_keys(session, person)
    for field in ("email", "time_zone", "location", "title", "department", "github_login"):
        setattr(person, field, None)
    person.name = pseudonym
    person.manager_id = None
    person.start_date = None
    person.end_date = None
    person.erased_at = now
    if user is not None:
        user.email = f"erased-user-{user.id}@erased.invalid"
        user.name = ""
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    result = Erasure(
        person_id=person_id,
        pseudonym=pseudonym,
        messages_rewritten=messages,
        cues_rewritten=cues,
        audit_entries_rewritten=audits,
        identities_kept=identities,
        user_anonymised=user is not None,
        pages_rewritten=pages,
    )
    audit.record(
        session,
        actor,
        "person.erased",
        target_type="person",
        target_id=person_id,
        after={"reason": reason, **_counts(result)},
    )
    session.flush()
    return result


def _counts(result: Erasure) -> dict[str, int | bool]:
    return {
        "messages_rewritten": result.messages_rewritten,
        "cues_rewritten": result.cues_rewritten,
        "audit_entries_rewritten": result.audit_entries_rewritten,
        "identities_kept": result.identities_kept,
        "user_anonymised": result.user_anonymised,
        "pages_rewritten": result.pages_rewritten,
    }


@dataclass(frozen=True)
class Retention:
    """What the retention policy removed (or, in a dry run, would remove)."""

    chat_days: int
    recording_days: int
    chat_cutoff: datetime | None
    recording_cutoff: datetime | None
    messages: int
    interviews: int
    cues: int
    dry_run: bool

    @property
    def enabled(self) -> bool:
        return bool(self.chat_days or self.recording_days)


def apply_retention(
    session: Session,
    actor: Actor,
    policy: RetentionSettings,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> Retention:
    """Remove the text of chat messages and interview recordings older than the policy's
    days; with `dry_run`, only count them. Audited when anything was removed."""
    require_admin(actor)
    now = now or utcnow()
    chat_cutoff = now - timedelta(days=policy.chat_days) if policy.chat_days else None
    recording_cutoff = (
        now - timedelta(days=policy.recording_days) if policy.recording_days else None
    )
    messages = interviews = cues = 0
    if chat_cutoff is not None:
        messages = (
            privacy.count_expired_messages(session, chat_cutoff)
            if dry_run
            else privacy.purge_messages(session, chat_cutoff, now)
        )
    if recording_cutoff is not None:
        interviews, cues = (
            privacy.count_expired_recordings(session, recording_cutoff)
            if dry_run
            else privacy.purge_recordings(session, recording_cutoff, now)
        )
    result = Retention(
        chat_days=policy.chat_days,
        recording_days=policy.recording_days,
        chat_cutoff=chat_cutoff,
        recording_cutoff=recording_cutoff,
        messages=messages,
        interviews=interviews,
        cues=cues,
        dry_run=dry_run,
    )
    if not dry_run and (messages or interviews or cues):
        audit.record(
            session,
            actor,
            "retention.applied",
            target_type="retention",
            target_id="policy",
            after={
                "chat_days": policy.chat_days,
                "recording_days": policy.recording_days,
                "chat_cutoff": chat_cutoff,
                "recording_cutoff": recording_cutoff,
                "messages": messages,
                "interviews": interviews,
                "cues": cues,
            },
        )
    session.flush()
    return result
