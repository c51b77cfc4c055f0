"""A small per-process cache of read results (response bodies, authenticated principals),
valid only while the database is unchanged (see `afteraction.storage.changes`).

Any commit anywhere empties it, so it can never serve data that a write has changed:
private incidents, revoked tokens and role changes take effect on the next request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, MutableMapping
from typing import Any

from afteraction.storage.changes import ChangeDetector

# Where a request's database token is kept in its ASGI scope (`request_token`).
_REQUEST_TOKEN = "afteraction_read_token"


class ReadCache:
    def __init__(
        self, detector: ChangeDetector, *, max_entries: int = 1024, enabled: bool = True
    ) -> None:
        self.detector = detector
        self.enabled = enabled
        self._max = max_entries
        self._token: str | None = None
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def token(self) -> str:
        """The current database token; read it before computing what you will `put`."""
        return self.detector.token()

    def request_token(self, scope: MutableMapping[str, Any]) -> str:
        """The database token of one GET request, read at its first use and kept in the
        request's scope, so that the middleware that looks for a cached answer and the
        route that computes it read the database once. On SQLite the read is on the event
        loop, and each one waits for the GIL while worker threads compute other requests'
        pages: under load, reading it twice cost the loop more than the read itself. A
        request that may write reads a fresh token each time (its own write must not be
        answered from before it)."""
        if scope.get("method") not in ("GET", "HEAD"):
            return self.token()
        state = scope.setdefault("state", {})
        token = state.get(_REQUEST_TOKEN)
        if token is None:
            token = state[_REQUEST_TOKEN] = self.token()
        return str(token)

    def get(self, key: Hashable, token: str) -> Any:
        if not self.enabled:
            return None
        with self._lock:
            if token != self._token:
                return None
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, token: str, value: Any) -> None:
        if not self.enabled or token.startswith("nocache"):
            return
        with self._lock:
            if token != self._token:
                self._entries.clear()
                self._token = token
            self._entries[key] = value
            if len(self._entries) > self._max:
                self._entries.popitem(last=False)
