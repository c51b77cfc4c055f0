"""Sending what storage has recorded: pending notification emails and Slack messages, weekly
team digests, action item reminders, and Jira/GitHub issues for action items.

Sits beside `afteraction.jobs` (it uses storage and adapters together; the Huey tasks in
`jobs.build_queue` call these functions). Every function takes a session and settings and is
idempotent: a sent notification is marked sent, a digest is built once per team and week, a
reminder once per item and day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.adapters import delivery
from afteraction.config import Settings
from afteraction.core.access import Actor, require_write
from afteraction.core.errors import ValidationError
from afteraction.core.incidents import UNFINISHED_ACTION_ITEMS
from afteraction.services import action_items
from afteraction.services import incidents as repo
from afteraction.storage import notifications
from afteraction.storage.db import writing
from afteraction.storage.review_tables import Report, UserNotification
from afteraction.storage.tables import ActionItem, Incident, Team, User


@dataclass(frozen=True, slots=True)
class Delivered:
    email_sent: int = 0
    email_failed: int = 0
    slack_sent: int = 0
    slack_failed: int = 0


def _smtp(settings: Settings) -> delivery.SmtpConfig | None:
    if not settings.smtp.host:
        return None
    password = settings.smtp.password.get_secret_value() if settings.smtp.password else ""
    return delivery.SmtpConfig(
        host=settings.smtp.host,
        port=settings.smtp.port,
        sender=settings.smtp.sender,
        username=settings.smtp.username,
        password=password,
        starttls=settings.smtp.starttls,
    )


def _text(settings: Settings, row: UserNotification) -> str:
    link = f"{settings.base_url.rstrip('/')}{row.url}" if row.url else ""
    return f"{row.body}\n\n{link}".strip()


def deliver_pending(session: Session, settings: Settings, *, limit: int = 200) -> Delivered:
    """Send pending email and Slack copies; unconfigured channels are marked skipped."""
    counts = {"email_sent": 0, "email_failed": 0, "slack_sent": 0, "slack_failed": 0}
    smtp = _smtp(settings)
    token = settings.slack.bot_token.get_secret_value() if settings.slack.bot_token else ""
    with writing(session):
        for row in notifications.pending(session, "email", limit=limit):
            _send(row, "email", counts, smtp is not None, lambda r: _email(smtp, settings, r))
        for row in notifications.pending(session, "slack", limit=limit):
            _send(row, "slack", counts, bool(token), lambda r: _slack(token, settings, r))
    return Delivered(**counts)


def _send(
    row: UserNotification, channel: str, counts: dict[str, int], on: bool, send: object
) -> None:
    if not on:
        notifications.set_status(row, channel, "skipped")
        return
    try:
        send(row)  # type: ignore[operator]
    except Exception as error:
        notifications.set_status(row, channel, "failed", f"{type(error).__name__}: {error}")
        counts[f"{channel}_failed"] += 1
    else:
        notifications.set_status(row, channel, "sent")
        counts[f"{channel}_sent"] += 1


def _email(smtp: delivery.SmtpConfig | None, settings: Settings, row: UserNotification) -> None:
    assert smtp is not None
    delivery.send_email(smtp, row.user.email, row.subject, _text(settings, row))


def _slack(token: str, settings: Settings, row: UserNotification) -> None:
    text = f"*{row.subject}*\n{_text(settings, row)}"
    delivery.slack_dm(token, row.user.email, text, base_url=settings.slack.api_url or None)


def weekly_digests(session: Session, now: datetime) -> int:
    """Build last week's team digests and notify each team's members; returns how many."""
    made = 0
    with writing(session):
        for digest in notifications.build_digests(session, now):
            team = session.get(Team, digest.team_id)
            titles = session.execute(
                select(Incident.number, Incident.title)
                .join(Report, Report.incident_id == Incident.id)
                .where(Report.id.in_(digest.report_ids))
                .order_by(Incident.number)
            ).all()
            lines = [f"- INC-{n}: {t}" for n, t in titles]
            notifications.notify(
                session,
                notifications.team_member_users(session, digest.team_id),
                kind="digest",
                subject=f"{team.name if team else 'Team'}: {len(lines)} incident reports "
                f"published in the week of {digest.week_start.isoformat()}",
                body="Reports published last week:\n" + "\n".join(lines),
                url="/learning",
            )
            digest.sent_at = now
            made += 1
    return made


def overdue_action_items(session: Session, today: date) -> list[int]:
    """Ids of action items overdue on `today` (`core.incidents.action_item_overdue`)."""
    query = select(ActionItem.id).where(
        ActionItem.status.in_(UNFINISHED_ACTION_ITEMS), ActionItem.due < today
    )
    return list(session.scalars(query.order_by(ActionItem.id)))


def action_item_reminders(session: Session, today: date) -> int:
    """Remind owners of open items due today or overdue, once a day per item."""
    sent = 0
    with writing(session):
        items = session.scalars(
            select(ActionItem).where(
                ActionItem.status.in_(UNFINISHED_ACTION_ITEMS),
                ActionItem.due <= today,
                ActionItem.owner_id.is_not(None),
            )
        ).all()
        for item in items:
            users = notifications.users_of_people(session, [item.owner_id or 0])
            subject = f"Action item due {item.due.isoformat() if item.due else ''}: {item.title}"
            already = session.scalar(
                select(UserNotification.id).where(
                    UserNotification.kind == "reminder",
                    UserNotification.subject == subject[:300],
                    UserNotification.created_at
                    >= datetime.combine(today, datetime.min.time(), tzinfo=UTC),
                )
            )
            if already is not None or not users:
                continue
            notifications.notify(
                session,
                users,
                kind="reminder",
                subject=subject,
                body=f"{item.incident.public_id}: {item.title} ({item.kind}) is {item.status}.",
                url=f"/incidents/{item.incident.public_id}#action_items",
                incident_id=item.incident_id,
            )
            sent += 1
    return sent


def create_issue(
    session: Session,
    settings: Settings,
    actor: Actor,
    item_id: int,
    *,
    system: str,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """Open a Jira or GitHub issue for an action item and store its URL on the item.
    Without configuration this is a ValidationError (store a link by hand instead)."""
    require_write(actor)  # it changes the item, as storing a link by hand does
    item = session.get(ActionItem, item_id)
    if item is None:
        raise ValidationError(f"no action item {item_id}", field="item")
    incident = repo.get_incident(session, actor, item.incident.number)
    issue = delivery.IssueRequest(
        title=item.title,
        body=f"Follow-up ({item.kind}) from {incident.public_id}: {incident.title}\n\n"
        f"{settings.base_url.rstrip('/')}/incidents/{incident.public_id}",
    )
    if system == "jira":
        if not (settings.jira.base_url and settings.jira.token and settings.jira.project):
            raise ValidationError("Jira is not configured; paste the issue link", field="url")
        url = delivery.create_jira_issue(
            settings.jira.base_url,
            settings.jira.token.get_secret_value(),
            settings.jira.project,
            issue,
            transport=transport,
        )
    elif system == "github":
        if not (settings.github.token and settings.github.repository):
            raise ValidationError("GitHub is not configured; paste the issue link", field="url")
        url = delivery.create_github_issue(
            settings.github.token.get_secret_value(),
            settings.github.repository,
            issue,
            api_url=settings.github.api_url,
            transport=transport,
        )
    else:
        raise ValidationError("choose jira or github", field="system")
    action_items.update_action_item(session, actor, item.id, {"url": url})
    return url


def email_of(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return user.email if user else ""
