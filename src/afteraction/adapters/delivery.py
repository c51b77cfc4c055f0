"""Talking to the outside world about reports and action items: email over SMTP, Slack
direct messages through the Web API, and creating Jira or GitHub issues through their REST
APIs.

Lives here: the wire calls, with plain arguments and plain results. Must not live here:
deciding who hears what (storage and `afteraction.services.notify` do that) or any database access.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 25
    sender: str = "afteraction@localhost"
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0


def send_email(config: SmtpConfig, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = to
    message["Subject"] = subject.replace("\n", " ")[:300]
    message.set_content(body)
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as client:
        if config.starttls:
            client.starttls()
        if config.username:
            client.login(config.username, config.password)
        client.send_message(message)


def slack_dm(token: str, email: str, text: str, *, base_url: str | None = None) -> str:
    """Send `text` to the Slack user with this email; returns the message timestamp."""
    from slack_sdk import WebClient

    kwargs: dict[str, Any] = {"token": token, "timeout": 10}
    if base_url:
        kwargs["base_url"] = base_url
    client = WebClient(**kwargs)
    user = client.users_lookupByEmail(email=email)
    user_id = user["user"]["id"]
    response = client.chat_postMessage(channel=user_id, text=text, unfurl_links=False)
    return str(response["ts"])


@dataclass(frozen=True, slots=True)
class IssueRequest:
    title: str
    body: str


def create_jira_issue(
    base_url: str,
    token: str,
    project: str,
    issue: IssueRequest,
    *,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """Create a Jira issue (REST API v2, bearer token); returns its browse URL."""
    payload = {
        "fields": {
            "project": {"key": project},
            "summary": issue.title[:250],
            "description": issue.body,
            "issuetype": {"name": "Task"},
        }
    }
    with httpx.Client(base_url=base_url.rstrip("/"), transport=transport, timeout=15) as client:
        response = client.post(
            "/rest/api/2/issue", json=payload, headers={"Authorization": f"Bearer {token}"}
        )
        response.raise_for_status()
        key = response.json()["key"]
    return f"{base_url.rstrip('/')}/browse/{key}"


def create_github_issue(
    token: str,
    repository: str,
    issue: IssueRequest,
    *,
    api_url: str = "https://api.github.com",
    transport: httpx.BaseTransport | None = None,
) -> str:
    """Create a GitHub issue in `owner/name`; returns its html_url."""
    with httpx.Client(base_url=api_url, transport=transport, timeout=15) as client:
        response = client.post(
            f"/repos/{repository}/issues",
            json={"title": issue.title[:250], "body": issue.body},
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
            },
        )
        response.raise_for_status()
        return str(response.json()["html_url"])
