"""On-call load: page merging, off-hours and night pages across DST, runs, heatmaps,
off-call work, team load and fatigue warnings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from afteraction.core.errors import ValidationError
from afteraction.core.evidence import MembershipRecord, PageRecord, PersonRecord, ShiftRecord
from afteraction.core.metrics import (
    Involvement,
    LoadRules,
    Thresholds,
    fatigue_warnings,
    is_night,
    is_off_hours,
    off_call_work,
    oncall_load,
    pages_before,
    pages_from_log,
    team_load,
)

NY = "America/New_York"
BERLIN = "Europe/Berlin"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def notify(person: str | None, at: datetime, incident: str = "P1", n: int = 0) -> PageRecord:
    return PageRecord(f"L{at.isoformat()}{n}{person}", incident, "notify", at, person)


@pytest.mark.parametrize(
    ("at", "zone", "off", "night"),
    [
        # America/New_York springs forward 2024-03-10 02:00 EST → 03:00 EDT.
        (utc(2024, 3, 10, 6, 30), NY, True, True),  # 01:30 EST
        (utc(2024, 3, 10, 7, 30), NY, True, True),  # 03:30 EDT
        (utc(2024, 3, 10, 10, 30), NY, True, False),  # 06:30 EDT
        (utc(2024, 3, 10, 12, 30), NY, False, False),  # 08:30 EDT (07:30 if EST were kept)
        (utc(2024, 3, 9, 12, 30), NY, True, False),  # 07:30 EST the day before
        (utc(2024, 3, 11, 0, 0), NY, True, False),  # 20:00 EDT: off hours begin
        (utc(2024, 3, 10, 23, 59), NY, False, False),  # 19:59 EDT: still day
        # ... and falls back 2024-11-03 02:00 EDT → 01:00 EST.
        (utc(2024, 11, 3, 12, 30), NY, True, False),  # 07:30 EST (08:30 EDT the day before)
        (utc(2024, 11, 2, 12, 30), NY, False, False),  # 08:30 EDT
        (utc(2024, 11, 3, 5, 30), NY, True, True),  # 01:30 EDT (first pass)
        (utc(2024, 11, 3, 6, 30), NY, True, True),  # 01:30 EST (second pass)
        (utc(2024, 11, 3, 11, 0), NY, True, False),  # 06:00 EST: no longer night
        # Europe/Berlin: 2024-03-31 02:00 CET → 03:00 CEST; 2024-10-27 03:00 → 02:00.
        (utc(2024, 3, 31, 6, 30), BERLIN, False, False),  # 08:30 CEST
        (utc(2024, 3, 30, 6, 30), BERLIN, True, False),  # 07:30 CET
        (utc(2024, 10, 27, 6, 30), BERLIN, True, False),  # 07:30 CET
        (utc(2024, 10, 26, 6, 30), BERLIN, False, False),  # 08:30 CEST
        (utc(2024, 10, 27, 4, 59), BERLIN, True, True),  # 05:59 CET
        (utc(2024, 10, 27, 5, 0), BERLIN, True, False),  # 06:00 CET
    ],
)
def test_off_hours_and_night_across_dst(at: datetime, zone: str, off: bool, night: bool) -> None:
    assert is_off_hours(at, zone) is off
    assert is_night(at, zone) is night


@pytest.mark.parametrize("zone", [None, "", "Mars/Olympus", "America", "../etc/passwd"])
def test_unknown_time_zone_is_never_guessed(zone: str | None) -> None:
    assert is_off_hours(utc(2024, 1, 1, 3), zone) is None
    assert is_night(utc(2024, 1, 1, 3), zone) is None


@settings(max_examples=100, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)))  # noqa: DTZ001
def test_night_pages_are_always_off_hours(moment: datetime) -> None:
    at = moment.replace(tzinfo=UTC)
    for zone in (NY, BERLIN, "Asia/Kolkata", "Australia/Lord_Howe"):
        if is_night(at, zone):
            assert is_off_hours(at, zone)


def test_pages_from_log_merges_channels_and_ignores_other_entries() -> None:
    t = utc(2024, 5, 1, 3)
    entries = [
        notify("ana", t, n=1),
        notify("ana", t + timedelta(minutes=1), n=2),  # SMS after push: same page
        notify("ana", t + timedelta(minutes=6), n=3),  # re-notification: new page
        notify("ana", t, incident="P2"),
        notify(None, t),
        PageRecord("A", "P1", "acknowledge", t, "ana"),
    ]
    pages = pages_from_log(entries)
    assert [(p.incident_external_id, p.at, p.notifications) for p in pages] == [
        ("P1", t, 2),
        ("P2", t, 1),
        ("P1", t + timedelta(minutes=6), 1),
    ]
    assert pages_before(pages, "ana", t + timedelta(minutes=6), timedelta(hours=24)) == 2
    assert pages_before(pages, "bob", t + timedelta(minutes=6), timedelta(hours=24)) == 0


def test_oncall_load_per_person() -> None:
    people = {
        "ana": PersonRecord("ana", "Ana", time_zone=NY),
        "bo": PersonRecord("bo", "Bo", time_zone="Nowhere/Land"),
    }
    start, end = utc(2024, 3, 4), utc(2024, 3, 18)  # two ISO weeks, Monday to Monday
    pages = [
        notify("ana", utc(2024, 3, 10, 7, 30), "P1"),  # 03:30 EDT, Sunday: night
        notify("ana", utc(2024, 3, 10, 8, 0), "P2"),  # 04:00 EDT, same run
        notify("ana", utc(2024, 3, 10, 8, 50), "P3"),  # 04:50 EDT, same run (< 1 h gap)
        notify("ana", utc(2024, 3, 11, 15, 0), "P4"),  # 11:00 EDT Monday: day
        notify("ana", utc(2024, 3, 20), "P5"),  # outside the window
        notify("bo", utc(2024, 3, 12, 3), "P6"),
    ]
    loads = oncall_load(pages, people, start=start, end=end)
    ana, bo = loads["ana"], loads["bo"]
    assert ana.pages == 4
    assert ana.pages_per_week == 2.0
    assert ana.weekly == (("2024-W10", 3), ("2024-W11", 1))
    assert ana.off_hours == 3 and ana.night == 3
    assert ana.weekly_night == (("2024-W10", 3), ("2024-W11", 0))
    assert ana.unknown_time_zone == 0
    assert ana.heatmap == {(6, 3): 1, (6, 4): 2, (0, 11): 1}
    assert ana.longest_run == 3
    assert ana.longest_run_start == utc(2024, 3, 10, 7, 30)
    assert ana.busiest_12h == 3
    assert bo.pages == 1 and bo.unknown_time_zone == 1
    assert bo.off_hours == 0 and bo.heatmap == {}
    assert loads.keys() == {"ana", "bo"}


def test_longest_run_gap_is_a_parameter() -> None:
    people = {"ana": PersonRecord("ana", "Ana", time_zone="UTC")}
    times = [utc(2024, 1, 1, h) for h in (0, 1, 2, 5)]
    pages = [notify("ana", t, f"P{i}") for i, t in enumerate(times)]
    start, end = utc(2024, 1, 1), utc(2024, 1, 8)
    strict = oncall_load(pages, people, start=start, end=end)["ana"]
    assert strict.longest_run == 1  # gaps of exactly 1 h end a run
    two_hours = LoadRules(run_gap=timedelta(hours=2))
    loose = oncall_load(pages, people, start=start, end=end, rules=two_hours)["ana"]
    assert loose.longest_run == 3
    assert loose.longest_run_start == utc(2024, 1, 1, 0)


def test_window_must_be_aware_and_ordered() -> None:
    with pytest.raises(ValidationError):
        oncall_load([], {}, start=utc(2024, 1, 2), end=utc(2024, 1, 1))
    with pytest.raises(ValidationError):
        oncall_load([], {}, start=datetime(2024, 1, 1), end=utc(2024, 1, 2))  # noqa: DTZ001


def test_off_call_work() -> None:
    shifts = [
        ShiftRecord("ana", "primary", utc(2024, 1, 1), utc(2024, 1, 8)),
        ShiftRecord("bo", "primary", utc(2024, 1, 8), utc(2024, 1, 15)),
    ]
    involvements = [
        Involvement("ana", "INC-1", utc(2024, 1, 2)),  # on call
        Involvement("ana", "INC-2", utc(2024, 1, 9)),  # off call: bo's week
        Involvement("ana", "INC-3", utc(2024, 2, 1)),  # after the imported schedules
        Involvement("cy", "INC-2", utc(2024, 1, 9)),  # never on call in the span
    ]
    work = off_call_work(involvements, shifts)
    assert work["ana"].on_call == ("INC-1",)
    assert work["ana"].off_call == ("INC-2",)
    assert work["ana"].unknown == ("INC-3",)
    assert work["cy"].off_call == ("INC-2",)
    assert off_call_work(involvements, [])["ana"].unknown == ("INC-1", "INC-2", "INC-3")
    load = oncall_load(
        [],
        {},
        start=utc(2024, 1, 1),
        end=utc(2024, 1, 15),
        shifts=shifts,
        involvements=involvements,
    )
    assert load["cy"].off_call.off_call == ("INC-2",)
    assert load["cy"].pages == 0 and load["cy"].weekly == (("2024-W01", 0), ("2024-W02", 0))
    assert load["ana"].off_call.unknown == ()  # INC-3 falls outside the window


def test_team_load_uses_membership_on_the_day() -> None:
    people = {
        "ana": PersonRecord("ana", "Ana", time_zone=BERLIN),
        "bo": PersonRecord("bo", "Bo", time_zone=NY),
    }
    memberships = [
        MembershipRecord("ana", "core", date(2023, 1, 1), date(2024, 1, 10)),
        MembershipRecord("ana", "web", date(2024, 1, 10)),
        MembershipRecord("bo", "core"),
    ]
    pages = [
        notify("ana", utc(2024, 1, 3, 2), "P1"),  # core, 03:00 Berlin: night
        notify("ana", utc(2024, 1, 12, 12), "P2"),  # web, day
        notify("bo", utc(2024, 1, 3, 2), "P3"),  # core, 21:00 New York: off hours
        notify("cy", utc(2024, 1, 3, 2), "P4"),  # no team
    ]
    involvements = [
        Involvement("bo", "INC-1", utc(2024, 1, 3, 2)),
        Involvement("bo", "INC-0", utc(2023, 12, 3, 2)),  # before the window
    ]
    shifts = [ShiftRecord("ana", "primary", utc(2024, 1, 1), utc(2024, 1, 8))]
    teams = team_load(
        pages,
        people,
        memberships,
        start=utc(2024, 1, 1),
        end=utc(2024, 1, 15),
        shifts=shifts,
        involvements=involvements,
    )
    assert set(teams) == {"core", "web"}
    core = teams["core"]
    assert core.people == ("ana", "bo")
    assert core.pages == 2 and core.off_hours == 2 and core.night == 1
    assert core.heatmap == {(2, 3): 1, (1, 21): 1}
    assert core.off_call.off_call == ("INC-1",)
    assert core.longest_run == 1
    assert teams["web"].pages == 1 and teams["web"].off_hours == 0


def test_fatigue_warnings_with_configurable_thresholds() -> None:
    people = {"ana": PersonRecord("ana", "Ana", time_zone="UTC")}
    base = utc(2024, 1, 2, 1)  # Tuesday 01:00 UTC
    pages = [notify("ana", base + timedelta(minutes=20 * i), f"P{i}") for i in range(4)]
    load = oncall_load(pages, people, start=utc(2024, 1, 1), end=utc(2024, 1, 8))["ana"]
    kinds = {(w.kind, w.value, w.threshold, w.period) for w in fatigue_warnings(load)}
    assert kinds == {
        ("night_pages_per_week", 4, 1, "2024-W01"),
        ("pages_in_12h", 4, 2, ""),
        ("longest_run", 4, 3, base.isoformat()),
    }
    strict = Thresholds(pages_per_week=3, off_hours_pages_per_week=3)
    strict_kinds = {w.kind for w in fatigue_warnings(load, strict)}
    assert {"pages_per_week", "off_hours_pages_per_week"} <= strict_kinds
    relaxed = Thresholds(night_pages_per_week=9, pages_in_12h=9, longest_run=9)
    assert fatigue_warnings(load, relaxed) == []
