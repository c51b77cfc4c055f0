"""The claim rules on plain values: zones, hedges, quoted evidence, counts, durations and
names, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from afteraction.core import times
from afteraction.core.analysis.claims import Evidence, Figure, Participant, check_claims
from afteraction.core.timeline import TimelineItem

T = datetime(2026, 10, 20, 20, 38, 50, tzinfo=UTC)
EVIDENCE = Evidence(
    events=(
        TimelineItem(T, "page to Jordan Reyes", "page", "/p"),
        TimelineItem(T + timedelta(hours=1), "rollback"),
    ),
    participants=(Participant("Jordan Reyes", 1), Participant("Wei Zhang", 2)),
    directory=("Jordan Reyes", "Wei Zhang", "Kofi Mensah"),
    counts={"responders": Figure(2, "2 responders", "/people")},
    durations={"time_to_detect": (Figure(timedelta(minutes=8), "time to detect: 8 min"),)},
)


def kinds(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in check_claims(text, EVIDENCE)]


@pytest.mark.parametrize(
    "text",
    [
        "Jordan was paged at 20:38 UTC.",
        "Jordan was paged at 22:38 CEST.",
        "Jordan was paged at 1:38 pm PDT.",
        "Jordan was paged at 20:39.",
        "The rollback landed at 2026-10-20 21:38 UTC.",
        "It was quiet at around 03:00 UTC.",  # hedged: no claim
        "It was 04:48 at 04:48 in Singapore.",  # a place's local time: not placed
        "The note said “paged at 03:00 UTC”.",  # quoted evidence
        "Asked at 03:00 IST.",  # an ambiguous zone
    ],
)
def test_times_that_hold_or_cannot_be_placed(text: str) -> None:
    assert kinds(text) == []


def test_a_time_with_no_event_near_it_is_a_finding_with_the_nearest_event() -> None:
    (found,) = check_claims("Intro.\nJordan was paged at 20:30 UTC.", EVIDENCE)
    assert (found.kind, found.text, found.line, found.column) == ("time", "20:30 UTC", 2, 21)
    assert found.link == "/p" and "page to Jordan Reyes" in found.evidence
    assert found.replacement == "20:38 UTC"
    assert found.end_column - found.column == len("20:30 UTC")


def test_counts_durations_and_names() -> None:
    text = (
        "Five responders helped. Wei Zhang was paged twice. Jordan Reyes was paged twice. "
        "It took 30 minutes to detect. Kofi Mensah restarted the pods."
    )
    assert kinds(text) == [
        ("count", "Five responders"),
        ("count", "paged twice"),
        ("duration", "took 30 minutes"),
        ("person", "Kofi Mensah"),
    ]
    fixes = [f.replacement for f in check_claims(text, EVIDENCE)]
    assert fixes == ["Two responders", "paged once", "took 8 minutes", None]


def test_hedged_and_untied_numbers_are_not_claims() -> None:
    assert kinds("About five responders helped. It took 30 minutes to get coffee.") == []
    assert kinds("It took 10 minutes to detect.") == []  # within 2 minutes of 8


def test_fingerprints_survive_unrelated_edits() -> None:
    one = check_claims("Kofi Mensah restarted it.", EVIDENCE)[0].fingerprint
    two = check_claims("New intro.\n\nKofi Mensah restarted it.", EVIDENCE)[0].fingerprint
    assert one == two


def test_zone_words() -> None:
    assert times.zone_word("CEST").utcoffset(None) == timedelta(hours=2)  # type: ignore[union-attr]
    assert times.zone_word("UTC-7").utcoffset(None) == timedelta(hours=-7)  # type: ignore[union-attr]
    assert times.zone_word("IST") is None and times.zone_word("PR") is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("On 20 October at 20:38 UTC Jordan was paged.", []),
        ("On 21 October at 20:38 UTC Jordan was paged.", [("time", "20:38 UTC")]),
        ("From October 20 at 20:38 to 20 October at 21:38 UTC.", []),
        ("On Tuesday at 20:38 UTC Jordan was paged.", []),  # 2026-10-20 is a Tuesday
        ("On Wednesday at 20:38 UTC Jordan was paged.", [("time", "20:38 UTC")]),
        ("The next morning at 09:10 UTC the fix was ready.", []),  # a day not told
        ("The meeting on Friday at 10:00 UTC.", []),  # a weekday the evidence does not span
    ],
)
def test_the_day_a_sentence_names(text: str, found: list[tuple[str, str]]) -> None:
    assert kinds(text) == found


def test_a_twelve_hour_time_is_corrected_in_twelve_hours() -> None:
    (found,) = check_claims("Jordan was paged at 8:30 pm UTC.", EVIDENCE)
    assert found.replacement == "8:38 pm UTC"
