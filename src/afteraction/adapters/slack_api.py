"""Live Slack history through the Web API (`slack_sdk.WebClient`, a bot token).

Lives here: cursor pagination over `conversations.history`, `conversations.replies`,
`users.list` and `conversations.info`; a bounded, `Retry-After`-honouring retry handler for
HTTP 429; and the conversion to the same `ParsedMessage`/`SlackUser`/`SlackChannel` records
the export reader produces (through `slack_export.MessageParser`, not a copy of it).

Must not live here: tokens or settings (callers pass a built client), persistence.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from afteraction.adapters.slack_export import parse_channel, parse_user
from afteraction.adapters.slack_messages import MessageParser, WarningLog
from afteraction.adapters.slack_records import (
    ParsedMessage,
    SlackChannel,
    SlackUser,
    datetime_to_ts,
)
from afteraction.core.errors import ImportFailed

PAGE_SIZE = 200


class BoundedRateLimitRetryHandler(RetryHandler):
    """Retry HTTP 429 responses after `Retry-After` seconds, capped at `max_wait` each."""

    def __init__(
        self,
        max_retry_count: int = 5,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.sleep = sleep

    def _can_retry(self, *, response: HttpResponse | None = None, **_: object) -> bool:
        return response is not None and response.status_code == 429

    def prepare_for_next_attempt(
        self, *, state: RetryState, response: HttpResponse | None = None, **_: object
    ) -> None:
        state.next_attempt_requested = True
        self.sleep(min(_retry_after(response), self.max_wait))
        state.increment_current_attempt()


def _retry_after(response: HttpResponse | None) -> float:
    headers = response.headers if response is not None else {}
    for name, values in headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) and values else values
            try:
                return max(float(str(value)), 0.0)
            except ValueError:
                break
    return 1.0


def make_client(
    token: str,
    *,
    base_url: str = WebClient.BASE_URL,
    max_retries: int = 5,
    max_wait: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> WebClient:
    """A `WebClient` that waits out rate limits (bounded) before giving up."""
    client = WebClient(token=token, base_url=base_url)
    client.retry_handlers.append(
        BoundedRateLimitRetryHandler(max_retries, max_wait=max_wait, sleep=sleep)
    )
    return client


def _as_ts(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return datetime_to_ts(value)


def _pages(
    client: WebClient, method: str, params: dict[str, Any], where: str
) -> Iterator[dict[str, Any]]:
    """Each page's data of a cursor-paginated method. Every failure — an API error, rate
    limits past the retry budget, the network (refused, reset, timed out), a cursor that
    comes back again — is an `ImportFailed` naming the call."""
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        query = dict(params, limit=PAGE_SIZE, **({"cursor": cursor} if cursor else {}))
        try:
            data = client.api_call(method, http_verb="GET", params=query).data
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else None
            status = error.response.status_code if error.response is not None else "?"
            raise ImportFailed(f"Slack API error {code or status}", where=where) from None
        except SlackClientError as error:
            raise ImportFailed(f"Slack client error: {error}", where=where) from None
        except OSError as error:  # urllib's URLError, timeouts, resets
            reason = getattr(error, "reason", None) or error
            raise ImportFailed(f"cannot reach Slack: {reason}", where=where) from None
        if not isinstance(data, dict):
            raise ImportFailed("Slack API returned a non-JSON or non-object body", where=where)
        yield data
        cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return
        if cursor in seen:
            raise ImportFailed(f"Slack returned the cursor {cursor!r} twice", where=where)
        seen.add(cursor)


def _items(page: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    items = page.get(key)
    return [m for m in items if isinstance(m, dict)] if isinstance(items, list) else []


def fetch_channel_history(
    client: WebClient,
    channel_id: str,
    *,
    oldest: datetime | str | None = None,
    latest: datetime | str | None = None,
    include_replies: bool = True,
) -> Iterator[dict[str, Any]]:
    """Raw message dicts of a channel in [oldest, latest], thread replies after their parent.

    History pages come newest first (Slack's order); each thread parent is followed by its
    replies from `conversations.replies` (the parent itself is not repeated).
    """
    window = {"oldest": _as_ts(oldest), "latest": _as_ts(latest), "inclusive": True}
    window = {k: v for k, v in window.items() if v is not None}
    where = f"conversations.history {channel_id}"
    for page in _pages(client, "conversations.history", {"channel": channel_id, **window}, where):
        for message in _items(page, "messages"):
            yield message
            if include_replies and _is_thread_parent(message):
                yield from _replies(client, channel_id, str(message["ts"]), window)


def _is_thread_parent(message: Mapping[str, Any]) -> bool:
    reply_count = message.get("reply_count")
    return (
        message.get("thread_ts") == message.get("ts")
        and isinstance(reply_count, int)
        and reply_count > 0
    )


def _replies(
    client: WebClient, channel_id: str, parent_ts: str, window: Mapping[str, Any]
) -> Iterator[dict[str, Any]]:
    params = {"channel": channel_id, "ts": parent_ts, **window}
    where = f"conversations.replies {channel_id} {parent_ts}"
    for page in _pages(client, "conversations.replies", params, where):
        for message in _items(page, "messages"):
            if message.get("ts") != parent_ts:
                yield message


def fetch_channel_messages(
    client: WebClient,
    channel_id: str,
    *,
    oldest: datetime | str | None = None,
    latest: datetime | str | None = None,
    channel_name: str = "",
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
    warn: Callable[[str, str], None] | None = None,
) -> Iterator[ParsedMessage]:
    """`fetch_channel_history` parsed into `ParsedMessage`s (pass a `WarningLog` as `warn`)."""
    parser = MessageParser(
        users=users or {}, channels=channels or {}, warn=warn or WarningLog(), latest=None
    )
    where = f"conversations.history {channel_id}"
    history = fetch_channel_history(client, channel_id, oldest=oldest, latest=latest)
    for number, raw in enumerate(history, start=1):
        parsed = parser.parse(
            raw,
            channel_id=channel_id,
            channel_name=channel_name or channel_id,
            where=f"{where}: message {number}",
        )
        if parsed is not None:
            yield parsed


def fetch_users(client: WebClient) -> list[SlackUser]:
    """Every member from `users.list`, all pages."""
    found: list[SlackUser] = []
    for page in _pages(client, "users.list", {}, "users.list"):
        found.extend(u for u in (parse_user(m) for m in _items(page, "members")) if u)
    return found


def fetch_channel(client: WebClient, channel_id: str) -> SlackChannel:
    """One conversation's details from `conversations.info`."""
    where = f"conversations.info {channel_id}"
    page = next(_pages(client, "conversations.info", {"channel": channel_id}, where))
    raw = page.get("channel")
    channel = (
        parse_channel(raw, "private" if raw.get("is_private") else "public")
        if isinstance(raw, dict)
        else None
    )
    if channel is None:
        raise ImportFailed("conversations.info returned no channel", where=where)
    return channel
