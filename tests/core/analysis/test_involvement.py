"""The one definition of a page and of first involvement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from afteraction.core.analysis.involvement import Signals, first_involved, pages_from_log
from afteraction.core.errors import ValidationError
from afteraction.core.evidence import PageRecord

T0 = datetime(2026, 10, 20, 20, 38, tzinfo=UTC)


def note(seconds: float, person: str | None = "jo", incident: str = "Q1", kind: str = "notify"):
    return PageRecord(f"e{seconds}", incident, kind, T0 + timedelta(seconds=seconds), person)


def test_notifications_within_five_minutes_of_the_first_are_one_page() -> None:
    entries = [note(0), note(180), note(299), note(300), note(30, incident="Q2"),
               note(10, kind="acknowledge"), note(20, person=None),
               note(40, person="al")]  # fmt: skip
    pages = pages_from_log(entries)
    assert [(p.person_key, p.incident_external_id, p.notifications) for p in pages] == [
        ("jo", "Q1", 3), ("jo", "Q2", 1), ("al", "Q1", 1), ("jo", "Q1", 1),
    ]  # fmt: skip
    with pytest.raises(ValidationError, match="timezone-aware"):
        pages_from_log([PageRecord("x", "Q1", "notify", datetime(2026, 1, 1), "jo")])  # noqa: DTZ001


def test_first_involved_is_the_earliest_signal() -> None:
    assert first_involved(Signals()) is None
    signals = Signals(paged=T0, joined=T0 + timedelta(minutes=1), other=T0 - timedelta(hours=1))
    assert first_involved(signals) == T0 - timedelta(hours=1)
    assert first_involved(Signals(mentioned=T0, first_message=T0 - timedelta(seconds=1))) == (
        T0 - timedelta(seconds=1)
    )
