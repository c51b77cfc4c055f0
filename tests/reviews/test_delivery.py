"""Delivery: email to a local SMTP server, Slack through a stub Web API, Jira and GitHub
issues through httpx mock transports, weekly digests and reminders."""

from __future__ import annotations

import json
import socketserver
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.config import development_settings
from afteraction.core.access import SYSTEM
from afteraction.services import report_publishing, reports
from afteraction.services.notify import (
    action_item_reminders,
    create_issue,
    deliver_pending,
    weekly_digests,
)
from afteraction.storage import notifications
from afteraction.storage.db import writing
from afteraction.storage.review_tables import Digest, UserNotification
from afteraction.storage.tables import ActionItem
from tests.reviews.conftest import SECRET, Org


class _Smtp(socketserver.StreamRequestHandler):
    received: list[str] = []

    def handle(self) -> None:
        self.wfile.write(b"220 test\r\n")
        data = False
        lines: list[str] = []
        for raw in self.rfile:
            line = raw.decode().rstrip("\r\n")
            if data:
                if line == ".":
                    data = False
                    _Smtp.received.append("\n".join(lines))
                    self.wfile.write(b"250 ok\r\n")
                else:
                    lines.append(line)
                continue
            verb = line.split(" ")[0].upper()
            if verb == "DATA":
                data = True
                self.wfile.write(b"354 go\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


class _Slack(BaseHTTPRequestHandler):
    posted: list[str] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"])).decode()
        if "lookupByEmail" in self.path:
            payload = {"ok": True, "user": {"id": "U1"}}
        else:
            _Slack.posted.append(body)
            payload = {"ok": True, "ts": "1.0"}
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        return


def _serve(server: socketserver.BaseServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def test_publishing_sends_email_and_slack_without_interview_content(
    db: Session, org: Org, database_url: str
) -> None:
    smtp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    slack = HTTPServer(("127.0.0.1", 0), _Slack)
    _serve(smtp), _serve(slack)
    try:
        settings = development_settings(
            database_url=database_url,
            smtp_host="127.0.0.1",
            smtp_port=smtp.server_address[1],
            slack_bot_token="xoxb-test",
            slack_api_url=f"http://127.0.0.1:{slack.server_address[1]}/api/",
        )
        with writing(db):
            reports.create_report(db, SYSTEM, org.number)
            report_publishing.change_state(db, SYSTEM, org.number, "in review")
            report_publishing.change_state(db, SYSTEM, org.number, "published", confirmed=True)
        result = deliver_pending(db, settings)
    finally:
        smtp.shutdown(), slack.shutdown()
        smtp.server_close(), slack.server_close()
    assert result.email_sent == 2 and result.slack_sent == 2 and result.email_failed == 0
    assert any("report published" in m for m in _Smtp.received)
    assert all(SECRET not in m for m in _Smtp.received + _Slack.posted)
    statuses = db.execute(select(UserNotification.email_status, UserNotification.slack_status))
    assert set(statuses) == {("sent", "sent")}
    assert deliver_pending(db, settings).email_sent == 0  # nothing twice


def test_unconfigured_channels_are_skipped(db: Session, org: Org, database_url: str) -> None:
    with writing(db):
        notifications.notify(db, [org.users["sam"]], kind="x", subject="hello")
    result = deliver_pending(db, development_settings(database_url=database_url))
    assert result.email_sent == 0
    row = db.scalars(select(UserNotification)).one()
    assert (row.email_status, row.slack_status) == ("skipped", "skipped")


def test_issues_are_created_through_jira_and_github(
    db: Session, org: Org, database_url: str
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/rest/api/2/issue":
            return httpx.Response(201, json={"key": "OPS-7"})
        return httpx.Response(201, json={"html_url": "https://github.com/o/r/issues/3"})

    settings = development_settings(
        database_url=database_url,
        jira_base_url="https://jira.example",
        jira_token="t",
        jira_project="OPS",
        github_token="g",
        github_repository="o/r",
    )
    item = db.scalars(select(ActionItem).order_by(ActionItem.id)).first()
    assert item is not None
    with writing(db):
        url = create_issue(
            db, settings, SYSTEM, item.id, system="jira", transport=httpx.MockTransport(handler)
        )
    assert url == "https://jira.example/browse/OPS-7" and item.url == url
    with writing(db):
        url = create_issue(
            db, settings, SYSTEM, item.id, system="github", transport=httpx.MockTransport(handler)
        )
    assert url.endswith("/issues/3") and seen[-1].headers["authorization"] == "Bearer g"
    assert json.loads(seen[0].content)["fields"]["project"]["key"] == "OPS"


def test_digests_and_reminders_run_once(db: Session, org: Org) -> None:
    with writing(db):
        report = reports.create_report(db, SYSTEM, org.number)
        report_publishing.change_state(db, SYSTEM, org.number, "in review")
        report_publishing.change_state(db, SYSTEM, org.number, "published", confirmed=True)
    assert report.first_published_at is not None
    next_week = report.first_published_at + timedelta(days=7)
    assert weekly_digests(db, next_week) == 1
    assert weekly_digests(db, next_week) == 0
    assert db.scalars(select(Digest)).one().report_ids == [report.id]
    today = datetime.now(UTC).date()
    assert action_item_reminders(db, today) == 1
    assert action_item_reminders(db, today) == 0
    assert action_item_reminders(db, date(2020, 1, 1)) == 0
