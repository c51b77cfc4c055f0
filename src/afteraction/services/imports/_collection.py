"""Fewer cyclic garbage collections while a bulk import runs.

A large import creates and drops millions of short-lived objects (decoded JSON, parsed
messages, row tuples). Python's collector counts container objects created and not yet
freed, and with its default first threshold (700) it runs thousands of young collections
and, as a day file's objects outlive them, dozens of full ones over every object in the
process: about a seventh of a million-message Slack import. With a first threshold of
50,000 the short-lived objects are freed by reference counting before any collection
starts; cycles are still collected, later.

The threshold is process-wide: the first import to enter raises it, the last to leave puts
back what it found, so overlapping imports in job threads never leave it raised.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BULK_THRESHOLD = 50_000

_lock = threading.Lock()
_holders = 0
_saved: tuple[int, int, int] = (700, 10, 10)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold to `BULK_THRESHOLD` (if lower) inside."""
    global _holders, _saved
    with _lock:
        if _holders == 0:
            _saved = gc.get_threshold()
            first, second, third = _saved
            gc.set_threshold(max(first, BULK_THRESHOLD), second, third)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.set_threshold(*_saved)
