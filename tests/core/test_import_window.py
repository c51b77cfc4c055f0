"""The window rule of imports: when a window misses a named channel, the warnings when
nothing is stored, and the window suggested to hold the channels' messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from afteraction.core.import_window import (
    ChannelTally,
    missed,
    suggested_window,
    utc_text,
    window_warnings,
)

T0 = datetime(2026, 3, 2, 17, 30, 15, 250000, tzinfo=UTC)
SINCE, UNTIL = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)


def tally(label: str, inside: int, outside: int, hours: int = 10) -> ChannelTally:
    found = ChannelTally(label)
    found.see(T0, T0 + timedelta(hours=hours), inside=inside, outside=outside)
    return found


def test_tally_adds_and_merges_counts_and_the_first_and_last_time() -> None:
    counted = tally("db", 2, 1)
    counted.see(T0 - timedelta(days=1), T0, inside=0, outside=4)
    counted.see(T0, T0 + timedelta(days=9), inside=0, outside=0)  # nothing seen: no change
    assert (counted.inside, counted.outside, counted.total) == (2, 5, 7)
    assert counted.first == T0 - timedelta(days=1) and counted.last == T0 + timedelta(hours=10)
    other = tally("db", 1, 0, hours=30)
    counted.merge(other)
    counted.merge(ChannelTally("db"))  # an empty tally has no times: nothing to add
    assert counted.total == 8 and counted.last == T0 + timedelta(hours=30)
    assert counted.as_dict() == {
        "label": "db",
        "inside": 3,
        "outside": 5,
        "first": "2026-03-01T17:30:15+00:00",
        "last": "2026-03-03T23:30:15+00:00",
    }


def test_utc_text_and_suggested_window_end_one_second_past_the_last_message() -> None:
    assert utc_text(None) is None
    pacific = timezone(timedelta(hours=-8))
    assert utc_text(datetime(2026, 3, 2, 18, 0, 0, 999, tzinfo=pacific)) == (
        "2026-03-03T02:00:00+00:00"
    )
    assert suggested_window([ChannelTally("empty")]) is None
    start, end = suggested_window(iter([tally("a", 1, 0), tally("b", 0, 1, hours=2)])) or ()
    assert start == T0.replace(microsecond=0)
    assert end == T0.replace(microsecond=0) + timedelta(hours=10, seconds=1)


def test_more_than_half_outside_is_a_miss() -> None:
    assert missed(tally("a", 1, 2)) and not missed(tally("a", 2, 2))
    assert not missed(ChannelTally("empty"))


def test_a_named_channel_the_window_mostly_misses_is_warned_with_the_window_that_holds_it() -> None:
    warnings = window_warnings(
        [tally("db", 1, 3), tally("general", 0, 50)],
        named=["db"],
        since=SINCE,
        until=UNTIL,
        stored=1,
    )
    assert warnings == [
        "#db: 3 of 4 messages fall outside the window 2026-03-02T00:00:00+00:00 – "
        "2026-03-03T00:00:00+00:00; they run from 2026-03-02T17:30:15+00:00 to "
        "2026-03-03T03:30:15+00:00 (UTC): the window from 2026-03-02T17:30:15+00:00 "
        "until 2026-03-03T03:30:16+00:00 would hold them"
    ]  # general was not named: it is only part of the archive
    assert (
        window_warnings([tally("db", 3, 1)], named=["db"], since=SINCE, until=UNTIL, stored=3) == []
    )


def test_nothing_stored_always_says_so_and_why() -> None:
    def only(tallies: list[ChannelTally], **options: object) -> str:
        found = window_warnings(tallies, named=[], stored=0, **options)  # type: ignore[arg-type]
        assert len(found) == 1
        return found[0]

    assert only([], since=None, until=None) == (
        "0 messages imported: no message of the chosen channels was found"
    )
    assert only([ChannelTally("db")], since=SINCE, until=None) == (
        "0 messages imported: no message of the chosen channels was found in the window "
        "2026-03-02T00:00:00+00:00 – now"
    )
    outside = only([tally("db", 0, 7)], since=None, until=UNTIL)
    assert outside.startswith(
        "0 messages imported: all 7 messages of the chosen channels fall outside the window "
        "the beginning – 2026-03-03T00:00:00+00:00; they run from"
    )
    assert "the window from 2026-03-02T17:30:15+00:00" in outside
    assert only([tally("db", 5, 0)], since=SINCE, until=UNTIL, present=5) == (
        "0 new messages imported: the 5 messages in the window were imported before"
    )
    assert only([tally("db", 5, 0)], since=SINCE, until=UNTIL).startswith(
        "0 messages imported of 5 in the window"
    )
    assert only([tally("db", 0, 2)], since=SINCE, until=UNTIL, preview=True).startswith(
        "0 messages would be imported: all 2 messages"
    )
