"""Cheap "has anything been committed since?" tokens, for caches of read results.

`ChangeDetector.token()` returns a value that differs whenever any transaction may have
committed to the database since the previous call, from this process or any other:

- SQLite: `PRAGMA data_version` on a connection of its own that never writes; SQLite
  changes that number whenever another connection commits (a few microseconds a call).
- PostgreSQL: the text of `pg_current_snapshot()` (xmin, xmax, in-progress ids), which
  moves whenever a transaction is assigned an id or one in progress ends. Transactions in
  other databases of the cluster move it too: that only costs a cache miss.

Read the token *before* computing a result and store the result under it: a commit that
lands during the computation then changes the next token, so a stale result is never
served. In-memory SQLite databases get a token that never repeats (no caching).
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, text


class ChangeDetector:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._connection: Any = None
        self._counter = itertools.count()
        database = engine.url.database
        self._dialect = engine.dialect.name
        self._sqlite_path = (
            database
            if self._dialect == "sqlite" and database not in (None, "", ":memory:")
            else None
        )

    @property
    def waits(self) -> bool:
        """Whether reading a token waits for a server (PostgreSQL), which an event loop must
        not do; SQLite's pragma is a few microseconds on a local file."""
        return self._dialect != "sqlite"

    @property
    def enabled(self) -> bool:
        return self._dialect != "sqlite" or self._sqlite_path is not None

    def token(self) -> str:
        if not self.enabled:
            return f"nocache-{next(self._counter)}"
        with self._lock:
            try:
                return self._read()
            except Exception:
                self._close()
                try:
                    return self._read()
                except Exception:
                    self._close()
                    return f"nocache-{next(self._counter)}"

    def _read(self) -> str:
        if self._connection is None:
            self._connection = self._open()
        if self._dialect == "sqlite":
            (value,) = self._connection.execute("PRAGMA data_version").fetchone()
            return f"sqlite-{value}"
        value = self._connection.execute(text("SELECT pg_current_snapshot()::text")).scalar()
        return f"pg-{value}"

    def _open(self) -> Any:
        if self._dialect == "sqlite":
            assert self._sqlite_path is not None
            return sqlite3.connect(self._sqlite_path, check_same_thread=False, isolation_level=None)
        return self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def _close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                pass
        self._connection = None

    def close(self) -> None:
        with self._lock:
            self._close()
