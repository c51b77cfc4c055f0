"""Verify that an HTTP request really comes from Slack (formats.md §2).

Lives here: `verify_slack_request`, a thin wrapper over `slack_sdk.signature.SignatureVerifier`
with an injectable clock and a 5-minute replay window. It raises `PermissionDenied` with the
reason; it never returns a boolean that callers could forget to check.

Must not live here: routing, body parsing or event handling.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from slack_sdk.signature import Clock, SignatureVerifier

from afteraction.core.errors import PermissionDenied

MAX_AGE_SECONDS = 60 * 5


class _FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def _seconds(now: datetime | float) -> float:
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return now.timestamp()
    return float(now)


def verify_slack_request(
    signing_secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    now: datetime | float,
) -> None:
    """Raise `PermissionDenied` unless `body` carries a valid, fresh Slack signature.

    `headers` are matched case-insensitively; `body` must be the raw bytes as received.
    """
    if not signing_secret or not signing_secret.strip():
        raise PermissionDenied("Slack signing secret is not configured")
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get("x-slack-request-timestamp")
    signature = lowered.get("x-slack-signature")
    if not timestamp or not signature:
        raise PermissionDenied("missing Slack signature headers")
    if not timestamp.strip().isdigit():
        raise PermissionDenied("malformed Slack request timestamp")
    current = _seconds(now)
    if abs(current - int(timestamp)) > MAX_AGE_SECONDS:
        raise PermissionDenied("stale Slack request: timestamp is more than 5 minutes off")
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise PermissionDenied("Slack request body is not UTF-8") from None
    verifier = SignatureVerifier(signing_secret, clock=_FixedClock(current))
    if not verifier.is_valid(body=body, timestamp=timestamp.strip(), signature=signature):
        raise PermissionDenied("invalid Slack signature")
