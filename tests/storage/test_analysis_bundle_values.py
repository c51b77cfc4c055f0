"""The plain-value conversions the analysis bundle applies to its big selects."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta, timezone

import pytest

from afteraction.storage.analysis_bundle import _collector_paused, _json, _utc


def test_sqlite_text_becomes_utc() -> None:
    moment = _utc("2026-10-20 09:00:00.000100")
    assert moment == datetime(2026, 10, 20, 9, 0, 0, 100, tzinfo=UTC)
    assert moment.tzinfo is UTC


def test_text_with_an_offset_is_moved_to_utc() -> None:
    assert _utc("2026-10-20T11:00:00+02:00") == datetime(2026, 10, 20, 9, tzinfo=UTC)
    assert _utc("2026-10-20T09:00:00Z").tzinfo is UTC


def test_driver_datetimes_are_made_utc() -> None:
    paris = timezone(timedelta(hours=2))
    assert _utc(datetime(2026, 10, 20, 11, tzinfo=paris)).tzinfo is UTC
    assert _utc(datetime(2026, 10, 20, 11, tzinfo=paris)).hour == 9
    naive = datetime(2026, 10, 20, 9, tzinfo=UTC).replace(tzinfo=None)  # SQLite's own kind
    assert _utc(naive) == datetime(2026, 10, 20, 9, tzinfo=UTC)


def test_bad_text_is_refused() -> None:
    with pytest.raises(ValueError):
        _utc("yesterday")


def test_json_from_text_or_already_decoded() -> None:
    assert _json('["U1", "U2"]') == ["U1", "U2"]
    assert _json(b"[1]") == [1]
    assert _json(["U1"]) == ["U1"]  # psycopg decodes JSON columns itself
    assert _json(None) is None
    assert _json("null") is None


def test_collector_paused_restores_its_state() -> None:
    assert gc.isenabled()
    with _collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with _collector_paused():
            pass
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()
