"""The one parser of user-given times and the one formatter (`afteraction.core.times`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afteraction.core import times
from afteraction.core.errors import ValidationError

aware = st.datetimes(
    min_value=datetime(1971, 1, 1),  # noqa: DTZ001 - bounds of a strategy, zone drawn below
    max_value=datetime(2200, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    ),
)


@given(aware)
def test_an_aware_time_round_trips_in_utc(moment: datetime) -> None:
    parsed = times.parse_time(moment.isoformat(), "at")
    assert parsed == moment
    assert parsed is not None and parsed.tzinfo is UTC


@given(aware)
def test_the_iso_form_parses_back_to_the_same_instant(moment: datetime) -> None:
    text = times.iso_utc(moment)
    assert text is not None and text.endswith("+00:00")
    assert times.parse_time(text, "at") == moment


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)))  # noqa: DTZ001
def test_a_naive_time_is_always_refused_with_the_same_message(naive: datetime) -> None:
    with pytest.raises(ValidationError) as caught:
        times.parse_time(naive.isoformat(), "started")
    assert caught.value.message == times.naive_message("started")
    assert caught.value.details == {"field": "started"}


def test_the_naive_message_names_the_field_asks_for_a_zone_and_gives_an_example() -> None:
    message = times.naive_message("held_at")
    assert message.startswith("held_at needs a time zone offset")
    assert times.EXAMPLE in message
    assert times.parse_time(times.EXAMPLE, "x") == datetime(2026, 5, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-01T10:00:00Z", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        ("2026-05-01T10:00:00z", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        (" 2026-05-01T12:00+02:00 ", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        ("2026-05-01 05:30:00-04:30", datetime(2026, 5, 1, 10, tzinfo=UTC)),
    ],
)
def test_offsets_and_z_are_read(text: str, expected: datetime) -> None:
    assert times.parse_time(text, "at") == expected


@pytest.mark.parametrize("text", [None, "", "   "])
def test_empty_is_none(text: str | None) -> None:
    assert times.parse_time(text, "at") is None
    assert times.parse_date(text, "day") is None
    assert times.parse_bound(text, "since", end=False) is None


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01T10:00Z", "10:00Z", "2026-05-01T25:00Z"])
def test_unreadable_times_name_the_field_and_the_value(text: str) -> None:
    with pytest.raises(ValidationError, match=r"at must be an ISO 8601 date and time like") as e:
        times.parse_time(text, "at")
    assert e.value.field == "at" and repr(text) in e.value.message


def test_an_explicit_zone_reads_a_naive_value_and_an_offset_still_wins() -> None:
    paris = ZoneInfo("Europe/Paris")
    assert times.parse_time("2026-07-01T12:00", "at", zone=paris) == datetime(
        2026, 7, 1, 10, tzinfo=UTC
    )
    assert times.parse_time("2026-07-01T12:00+00:00", "at", zone=paris) == datetime(
        2026, 7, 1, 12, tzinfo=UTC
    )


def test_require_aware_and_as_utc_refuse_naive_datetimes() -> None:
    naive = datetime(2026, 1, 1)  # noqa: DTZ001 - the case under test
    with pytest.raises(ValidationError, match="needs a time zone offset"):
        times.require_aware(naive, "at")
    with pytest.raises(ValidationError) as caught:
        times.as_utc(naive, "held_at")
    assert caught.value.field == "held_at"
    plus_two = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert times.as_utc(plus_two, "at") == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert times.as_utc(None, "at") is None


def test_dates_and_day_ranges() -> None:
    assert times.parse_date("2026-01-31", "day") == date(2026, 1, 31)
    with pytest.raises(ValidationError, match="day must be a date like 2026-01-31"):
        times.parse_date("31/01/2026", "day")
    low, high = times.day_range(date(2026, 1, 1), date(2026, 1, 31))
    assert low == datetime(2026, 1, 1, tzinfo=UTC)
    assert high == datetime(2026, 2, 1, tzinfo=UTC)  # the end date is inclusive
    assert times.day_range(None, None) == (None, None)


def test_a_bound_is_a_whole_day_or_an_aware_time() -> None:
    assert times.parse_bound("2026-01-31", "since", end=False) == datetime(2026, 1, 31, tzinfo=UTC)
    assert times.parse_bound("2026-01-31", "until", end=True) == datetime(2026, 2, 1, tzinfo=UTC)
    assert times.parse_bound("2026-01-31T10:00Z", "until", end=True) == datetime(
        2026, 1, 31, 10, tzinfo=UTC
    )
    with pytest.raises(ValidationError) as naive:
        times.parse_bound("2026-01-31T10:00", "until", end=True)
    assert naive.value.message == times.naive_message("until")
    with pytest.raises(ValidationError, match="since must be a date like .* or a date and time"):
        times.parse_bound("last week", "since", end=False)
    with pytest.raises(ValidationError, match="since must be a date like"):
        times.parse_bound("2026-02-30", "since", end=False)


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("", timedelta(0)),
        ("utc", timedelta(0)),
        ("Z", timedelta(0)),
        ("+05:30", timedelta(hours=5, minutes=30)),
        ("-0800", timedelta(hours=-8)),
    ],
)
def test_fixed_zones(text: str, offset: timedelta) -> None:
    assert times.parse_zone(text).utcoffset(None) == offset


def test_named_and_unknown_zones() -> None:
    assert times.parse_zone("Europe/Paris") == ZoneInfo("Europe/Paris")
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'") as e:
        times.parse_zone("Mars/Olympus", "zone")
    assert e.value.field == "zone"
    with pytest.raises(ValidationError, match="out of range"):
        times.parse_zone("+24:00")


@pytest.mark.parametrize("name", ["Mars/Olympus", "Europe", "../etc/passwd", "+05:30"])
def test_a_persons_zone_is_an_iana_name(name: str) -> None:
    """One rule for a person's zone (the directory, the roster import, the analyses): an
    IANA name or nothing; anything else is refused where it is given and ignored where read."""
    assert times.check_zone_name("Europe/Paris") == "Europe/Paris"
    assert times.check_zone_name("") is None and times.check_zone_name(None) is None
    with pytest.raises(ValidationError, match="unknown time zone") as e:
        times.check_zone_name(name)
    assert e.value.field == "time_zone"
    assert times.zone_or_none(name) is None
    assert times.zone_named(name) == UTC
    assert times.zone_named("Asia/Tokyo") == ZoneInfo("Asia/Tokyo")


def test_showing_times() -> None:
    moment = datetime(2026, 5, 1, 12, 5, tzinfo=timezone(timedelta(hours=2)))
    assert times.display(moment) == "2026-05-01 10:05 UTC"
    assert times.display(None) == "—"
    assert times.display(None, missing="not recorded") == "not recorded"
    assert times.local_input(moment) == "2026-05-01T10:05"
    assert times.local_input(None) == ""
    assert times.iso_utc(moment) == "2026-05-01T10:05:00+00:00"
    assert times.iso_utc(None) is None
    stored = datetime(2026, 5, 1, 10, 5)  # noqa: DTZ001 - as SQLite hands a stored time back
    assert times.from_storage(stored) == datetime(2026, 5, 1, 10, 5, tzinfo=UTC)
    assert times.display(stored) == "2026-05-01 10:05 UTC"
    assert times.from_storage(None) is None
