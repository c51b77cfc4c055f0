"""An incident's activity feed: its audit entries, newest first, as the reader may see them.

Entries about an interview (`interview.planned`, `.updated`, `.transcript_attached`,
`.reader_named`, `.quoted`, ...) are shown only to those who may read that interview
(`services.interviews.readable_ids`); to everyone else they do not exist, as the interview
does not. The API's feed and the incident page both read it here.
"""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy.orm import Session

from afteraction.core.access import Actor
from afteraction.services import interviews
from afteraction.storage import audit
from afteraction.storage.tables import AuditLog, Incident

INTERVIEW_TARGET = "interview"


def feed(session: Session, actor: Actor, incident: Incident, *, limit: int = 200) -> list[AuditLog]:
    """The newest `limit` entries of `incident` (which the caller has already read through
    the incident visibility rule) that `actor` may see."""
    readable = sorted(str(i) for i in interviews.readable_ids(session, actor, incident.id))
    shown = or_(AuditLog.target_type != INTERVIEW_TARGET, AuditLog.target_id.in_(readable))
    return audit.incident_feed(session, incident.id, limit=limit, where=shown)
