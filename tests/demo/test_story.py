"""Reading the demo's data files: their shape is checked, and a bad file says where it is
wrong; the demo database they build is the same every time."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from afteraction.demo import story
from afteraction.demo.generate import build_org
from tests.demo.dump_demo import build_and_dump


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the data files that a test may spoil; the real ones are read again after."""
    copy = tmp_path / "data"
    shutil.copytree(story.DATA, copy)
    monkeypatch.setattr(story, "DATA", copy)
    for cached in (story.read, story.directory, story.vocabulary):
        cached.cache_clear()
    yield copy
    for cached in (story.read, story.directory, story.vocabulary):
        cached.cache_clear()


def test_every_file_reads_and_names_what_it_holds() -> None:
    org = story.directory()
    assert org.story_date == date(2026, 11, 2) and org.domain == "brightloop.example"
    assert {t.slug for t in org.teams} == set(org.jira_keys)
    words = story.vocabulary()
    assert set(words.kinds) == {"security", "gameday", "maintenance"}
    assert len(words.problem_weights) == len(words.problem_incidents)
    assert {k for k, _ in words.helpers.items()} == {"database", "deploys", "anyone"}


def test_people_move_with_the_day_the_demo_is_built_for() -> None:
    org = story.directory()
    later = story.people_on(org.story_date + timedelta(days=30))
    for before, after in zip(org.people, later, strict=True):
        assert after.start_date - before.start_date == timedelta(days=30)
        assert after.email == before.email and after.slack_id == before.slack_id
    assert story.people_on(org.story_date) is org.people


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "  time_zone: Europe/Berlin\n",
            "  zone: Europe/Berlin\n",
            "missing time_zone; unknown zone",
        ),
        ("story_date: 2026-11-02", "story_date: soon", "story_date: expected a date"),
        ("teams:\n- slug: platform", "teams:\n- slog: platform", r"teams\[0\]: missing slug"),
        ("  tier: 3\n", "  tier: 3\n  colour: red\n", r"services\[\d+\]: unknown colour"),
    ],
)
def test_a_bad_org_file_says_where(data: Path, old: str, new: str, message: str) -> None:
    path = data / "org.yaml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(story.StoryError, match=f"org.yaml: .*{message}"):
        story.directory()


def test_a_flagship_time_without_its_zone_is_refused(data: Path) -> None:
    path = data / "flagship" / "incident.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("started: 2026-10-20T20:31:00Z", "started: 2026-10-20 20:31"))
    with pytest.raises(story.StoryError, match="milestones: started: expected a time with"):
        build_org()


def test_missing_and_broken_files(data: Path) -> None:
    (data / "history.yaml").unlink()
    with pytest.raises(story.StoryError, match="demo data file missing: .*history.yaml"):
        story.vocabulary()
    (data / "history.yaml").write_text("commanders: [unclosed\n", "utf-8")
    with pytest.raises(story.StoryError, match="history.yaml: not valid YAML"):
        story.vocabulary()


def test_moments_and_days() -> None:
    when = datetime(2026, 10, 20, 20, 31, tzinfo=UTC)
    assert story.moment(when, "x") == when
    with pytest.raises(story.StoryError, match="x: expected a time"):
        story.moment(datetime(2026, 10, 20, 20, 31), "x")  # noqa: DTZ001 - the refused value
    with pytest.raises(story.StoryError, match="y: expected a date"):
        story.day(when, "y")


@pytest.mark.slow
def test_the_demo_database_is_the_same_every_time() -> None:
    first = build_and_dump()
    assert "== people (40 rows)" in first and "== messages (225 rows)" in first
    assert build_and_dump() == first
