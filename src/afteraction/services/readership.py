"""Who read which report, for how long, and what they said: read events (deduplicated per
user and report within a window), heartbeats crediting active reading time, comments
anchored to report sections with replies and reactions, the per-report panel and the
organisation-wide "was it learned from?" rows.

The user is always the caller's (from the session or token), never from the request body,
so nobody can record reading for someone else. Rules and definitions are in
`afteraction.core.report_rules`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from afteraction.core import report_rules as rules
from afteraction.core.access import Actor
from afteraction.core.errors import NotFound, ValidationError
from afteraction.services import incidents as repo
from afteraction.services import reviews
from afteraction.storage import notifications
from afteraction.storage.review_tables import (
    Attendance,
    Comment,
    Meeting,
    ReadEvent,
    Report,
    Review,
)
from afteraction.storage.tables import ActionItem, Incident, Person, Team, TeamMembership
from afteraction.storage.visibility import visibility_clause

REACTIONS = ("👍", "💡", "❤️", "👀")
MAX_COMMENT = 10_000


def record_open(
    session: Session, actor: Actor, report: Report, version: int, now: datetime
) -> ReadEvent:
    """An open of the report: a new reading session, or the recent one when the same user
    opened it within the dedupe window (reload storms add nothing)."""
    if actor.user_id is None:
        raise ValidationError("reading is recorded for signed-in users", field="user")
    last = _latest(session, report.id, actor.user_id)
    if last is not None and rules.same_read(last.last_seen_at, now):
        last.last_seen_at = now
        last.opens += 1
        return last
    row = ReadEvent(
        report_id=report.id,
        user_id=actor.user_id,
        person_id=actor.person_id,
        version=version,
        opened_at=now,
        last_seen_at=now,
        last_beat_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _latest(session: Session, report_id: int, user_id: int) -> ReadEvent | None:
    query = select(ReadEvent).where(ReadEvent.report_id == report_id, ReadEvent.user_id == user_id)
    return session.scalar(query.order_by(ReadEvent.id.desc()).limit(1))


def heartbeat(session: Session, actor: Actor, report: Report, now: datetime) -> int:
    """Credit active reading to the caller's current reading session; returns its total.
    A heartbeat without an open session opens one (the first beat earns nothing)."""
    if actor.user_id is None:
        raise ValidationError("reading is recorded for signed-in users", field="user")
    row = _latest(session, report.id, actor.user_id)
    if row is None or not rules.same_read(row.last_seen_at, now):
        row = record_open(session, actor, report, report.published_version or 1, now)
        return row.active_seconds
    row.active_seconds += rules.heartbeat_credit(row.last_beat_at, now)
    if rules.heartbeat_credit(row.last_beat_at, now) or row.last_beat_at is None:
        row.last_beat_at = now
    row.last_seen_at = now
    return row.active_seconds


# -- comments ----------------------------------------------------------------------------


def add_comment(
    session: Session,
    actor: Actor,
    report: Report,
    *,
    section: str,
    body: str,
    parent_id: int | None = None,
) -> Comment:
    body = body.strip()
    if not body:
        raise ValidationError("write something", field="body")
    if len(body) > MAX_COMMENT:
        raise ValidationError(f"comments are limited to {MAX_COMMENT} characters", field="body")
    if parent_id is not None:
        parent = session.get(Comment, parent_id)
        if parent is None or parent.report_id != report.id:
            raise ValidationError("reply to a comment on this report", field="parent_id")
        section = parent.section
    if len(section) > 80 or not section:
        raise ValidationError("choose a section", field="section")
    row = Comment(
        report_id=report.id, section=section, parent_id=parent_id, user_id=actor.user_id, body=body
    )
    session.add(row)
    session.flush()
    return row


def react(session: Session, actor: Actor, comment_id: int, emoji: str) -> Comment:
    """Toggle the caller's reaction on a comment."""
    if emoji not in REACTIONS:
        raise ValidationError(f"react with one of {' '.join(REACTIONS)}", field="emoji")
    row = session.get(Comment, comment_id)
    if row is None:
        raise NotFound("comment", comment_id)
    report = session.get(Report, row.report_id)
    assert report is not None
    repo.get_incident(session, actor, report.incident.number)
    reactions = {k: list(v) for k, v in (row.reactions or {}).items()}
    who = reactions.setdefault(emoji, [])
    if actor.user_id in who:
        who.remove(actor.user_id)
    else:
        who.append(actor.user_id)
    row.reactions = {k: v for k, v in reactions.items() if v}
    return row


def comments_of(session: Session, report: Report) -> list[Comment]:
    query = select(Comment).where(Comment.report_id == report.id)
    return list(session.scalars(query.order_by(Comment.id)))


# -- panels ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Panel:
    readers: int
    opens: int
    by_team: list[tuple[str, int]]
    by_department: list[tuple[str, int]]
    median_seconds: float | None
    median_days_after: float | None
    comments: int


def panel(session: Session, report: Report) -> Panel:
    events = session.execute(
        select(
            ReadEvent.user_id,
            ReadEvent.person_id,
            ReadEvent.active_seconds,
            ReadEvent.opens,
            ReadEvent.opened_at,
        ).where(ReadEvent.report_id == report.id)
    ).all()
    seconds: dict[int, int] = {}
    first_open: dict[int, datetime] = {}
    people: dict[int, int | None] = {}
    for user_id, person_id, active, _opens, opened in events:
        seconds[user_id] = seconds.get(user_id, 0) + active
        first_open[user_id] = min(first_open.get(user_id, opened), opened)
        people[user_id] = person_id
    person_ids = [p for p in people.values() if p is not None]
    teams = Counter(_team_names(session, person_ids).values())
    departments = Counter(
        d or "unknown"
        for d in session.scalars(select(Person.department).where(Person.id.in_(person_ids)))
    )
    incident = report.incident
    start = incident.resolved_at or incident.started_at
    comments = session.scalar(select(func.count(Comment.id)).where(Comment.report_id == report.id))
    return Panel(
        readers=len(seconds),
        opens=sum(e[3] for e in events),
        by_team=teams.most_common(),
        by_department=departments.most_common(),
        median_seconds=rules.median(seconds.values()),
        median_days_after=rules.median(
            d for d in (rules.days_between(start, t) for t in first_open.values()) if d is not None
        ),
        comments=int(comments or 0),
    )


def _team_names(session: Session, person_ids: list[int]) -> dict[int, str]:
    rows = session.execute(
        select(TeamMembership.person_id, Team.name)
        .join(Team, Team.id == TeamMembership.team_id)
        .where(TeamMembership.person_id.in_(person_ids), TeamMembership.end.is_(None))
    )
    return {pid: name for pid, name in rows}  # noqa: C416 - rows are Row objects


def learning_rows(session: Session, actor: Actor, *, limit: int = 200) -> list[rules.LearningRow]:
    """One row per incident with a published report (newest first) the actor may see."""
    reports = session.scalars(
        select(Report)
        .join(Incident, Incident.id == Report.incident_id)
        .where(Report.first_published_at.is_not(None), visibility_clause(actor))
        .order_by(Report.first_published_at.desc())
        .limit(limit)
    ).all()
    return [_learning_row(session, r) for r in reports]


def _learning_row(session: Session, report: Report) -> rules.LearningRow:
    incident = report.incident
    participants = reviews.participant_ids(session, incident.id)
    involved = notifications.incident_team_ids(session, incident.id, participants)
    readers = set(
        session.scalars(
            select(ReadEvent.person_id).where(
                ReadEvent.report_id == report.id, ReadEvent.person_id.is_not(None)
            )
        )
    )
    reader_users = session.scalar(
        select(func.count(func.distinct(ReadEvent.user_id))).where(ReadEvent.report_id == report.id)
    )
    read_teams = notifications.incident_team_ids(session, -1, [p for p in readers if p])
    meeting = session.scalar(
        select(Meeting)
        .join(Review, Review.id == Meeting.review_id)
        .where(Review.incident_id == incident.id)
        .order_by(Meeting.id.desc())
        .limit(1)
    )
    attended = 0
    survey = "no meeting"
    if meeting is not None:
        attended = int(
            session.scalar(
                select(func.count(Attendance.id)).where(Attendance.meeting_id == meeting.id)
            )
            or 0
        )
        summary = reviews.survey_summary(session, meeting)
        survey = f"{summary.verdict} ({summary.responses} answers)"
    statuses = list(
        session.scalars(select(ActionItem.status).where(ActionItem.incident_id == incident.id))
    )
    return rules.LearningRow(
        incident=incident.public_id,
        title=incident.title,
        days_to_publish=rules.days_between(
            incident.resolved_at or incident.started_at, report.first_published_at
        ),
        readers=int(reader_users or 0),
        teams_read=len(involved & read_teams),
        teams_involved=len(involved),
        attendance=attended,
        survey=survey,
        items_done=sum(s == "done" for s in statuses),
        items_total=len(statuses),
    )


def follow_through(session: Session, actor: Actor) -> tuple[int, int]:
    """(done, all) action items over the incidents the actor may see."""
    rows = session.scalars(
        select(ActionItem.status)
        .join(Incident, Incident.id == ActionItem.incident_id)
        .where(visibility_clause(actor))
    ).all()
    return sum(s == "done" for s in rows), len(rows)
