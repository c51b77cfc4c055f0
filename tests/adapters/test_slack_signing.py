"""Slack request signature verification (formats.md §2), with Slack's published vector."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from afteraction.adapters.slack_signing import verify_slack_request
from afteraction.core.errors import PermissionDenied

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TIMESTAMP = "1531420618"
BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
HEADERS = {"X-Slack-Request-Timestamp": TIMESTAMP, "X-Slack-Signature": SIGNATURE}
NOW = datetime.fromtimestamp(1531420618 + 30, UTC)


def test_published_vector_is_accepted() -> None:
    verify_slack_request(SECRET, HEADERS, BODY, NOW)
    verify_slack_request(
        SECRET, {k.lower(): v for k, v in HEADERS.items()}, BODY.decode(), 1531420618
    )


def test_json_body_signed_locally_is_accepted() -> None:
    body = '{"type":"event_callback","event":{"text":"caf\u00e9"}}'.encode()
    digest = hmac.new(b"s3cret", b"v0:1700000000:" + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": f"v0={digest}"}
    verify_slack_request("s3cret", headers, body, 1700000100.0)


@pytest.mark.parametrize(
    ("secret", "headers", "body", "now", "reason"),
    [
        (SECRET, HEADERS, BODY + b"x", NOW, "invalid Slack signature"),
        ("other-secret", HEADERS, BODY, NOW, "invalid Slack signature"),
        (SECRET, {**HEADERS, "X-Slack-Signature": "v0=" + "0" * 64}, BODY, NOW, "invalid"),
        (SECRET, HEADERS, BODY, 1531420618 + 301, "stale"),
        (SECRET, HEADERS, BODY, 1531420618 - 301, "stale"),
        (SECRET, {"X-Slack-Signature": SIGNATURE}, BODY, NOW, "missing"),
        (SECRET, {"X-Slack-Request-Timestamp": TIMESTAMP}, BODY, NOW, "missing"),
        (SECRET, {**HEADERS, "X-Slack-Request-Timestamp": "soon"}, BODY, NOW, "malformed"),
        (SECRET, HEADERS, b"\xff\xfe", NOW, "not UTF-8"),
        ("  ", HEADERS, BODY, NOW, "not configured"),
    ],
)
def test_bad_requests_are_denied(
    secret: str, headers: dict[str, str], body: bytes, now: float, reason: str
) -> None:
    with pytest.raises(PermissionDenied, match=reason):
        verify_slack_request(secret, headers, body, now)


def test_replay_window_edge_is_inclusive() -> None:
    verify_slack_request(SECRET, HEADERS, BODY, 1531420618 + 300)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        verify_slack_request(SECRET, HEADERS, BODY, datetime(2018, 7, 12))  # noqa: DTZ001
