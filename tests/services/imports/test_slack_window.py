"""Slack imports never fail silently: a window that misses most of a named channel, or that
catches nothing, leaves a warning in the summary with the window that would hold the
messages, on every path that reads an export (parsed messages, bound rows in process,
parser processes); and the preview counts the same messages per day file and per UTC day."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services.imports import slack as slack_importer
from afteraction.services.imports.slack import import_slack_export
from afteraction.services.imports.slack_preview import preview_slack_export
from afteraction.storage.db import writing
from tests.services.imports._helpers import slack_message

PACIFIC = timezone(timedelta(hours=-8))  # official exports name day files in Pacific time
# The day file 2026-03-02.json holds the workspace's 2 March: one message in the morning
# (UTC 2 March) and three in the evening (UTC 3 March).
MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=PACIFIC)
EVENING = [datetime(2026, 3, 2, 17 + n, 30, tzinfo=PACIFIC) for n in range(3)]
FILE_DAY = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
USERS = [{"id": "U1", "name": "ada", "profile": {"real_name": "Ada Lovelace"}}]
CHANNELS = [{"id": "C1", "name": "inc-db"}, {"id": "C2", "name": "general"}]
PATHS = {"generic sink": (False, 0), "bound rows": (True, 0), "parser process": (True, 1)}


def write_export(root: Path) -> Path:
    """#inc-db: the day file above; #general: one message two weeks later (a day file the
    import skips for a window on 2 March)."""
    days = {
        "inc-db/2026-03-02.json": [
            slack_message(at, f"message {n}", n=n) for n, at in enumerate([MORNING, *EVENING])
        ],
        "general/2026-03-16.json": [slack_message(datetime(2026, 3, 16, 12, tzinfo=UTC), "hi")],
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "users.json").write_text(json.dumps(USERS))
    (root / "channels.json").write_text(json.dumps(CHANNELS))
    for rel, messages in days.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(json.dumps(messages))
    return root


def run_import(db: Session, path: Path, way: str, **options: Any) -> dict[str, Any]:
    bound, parsers = PATHS[way]
    before = slack_importer.BOUND_ROWS
    slack_importer.BOUND_ROWS = bound
    try:
        with writing(db):
            summary = import_slack_export(db, SYSTEM, path, parser_processes=parsers, **options)
    finally:
        slack_importer.BOUND_ROWS = before
    return summary.as_dict()


@pytest.mark.parametrize("way", sorted(PATHS))
def test_a_window_taken_from_a_day_file_name_misses_its_evening(
    db: Session, tmp_path: Path, way: str
) -> None:
    export = write_export(tmp_path / "export")
    since, until = FILE_DAY
    summary = run_import(db, export, way, channels=["inc-db"], since=since, until=until)
    assert summary["counts"]["messages"] == 1
    assert summary["warnings"] == [
        "#inc-db: 3 of 4 messages fall outside the window 2026-03-02T00:00:00+00:00 – "
        "2026-03-03T00:00:00+00:00; they run from 2026-03-02T17:00:00+00:00 to "
        "2026-03-03T03:30:00+00:00 (UTC): the window from 2026-03-02T17:00:00+00:00 "
        "until 2026-03-03T03:30:01+00:00 would hold them"
    ]


@pytest.mark.parametrize("way", sorted(PATHS))
def test_a_window_that_catches_nothing_says_zero_and_where_the_messages_are(
    db: Session, tmp_path: Path, way: str
) -> None:
    export = write_export(tmp_path / "export")
    since = datetime(2026, 2, 1, tzinfo=UTC)
    summary = run_import(db, export, way, since=since, until=since + timedelta(days=1))
    assert summary["counts"]["messages"] == 0
    assert summary["warnings"] == [
        "0 messages imported: all 5 messages of the chosen channels fall outside the window "
        "2026-02-01T00:00:00+00:00 – 2026-02-02T00:00:00+00:00; they run from "
        "2026-03-02T17:00:00+00:00 to 2026-03-16T12:00:00+00:00 (UTC): the window from "
        "2026-03-02T17:00:00+00:00 until 2026-03-16T12:00:01+00:00 would hold them"
    ]


def test_a_named_channel_counts_the_day_files_skipped_for_the_window(
    db: Session, tmp_path: Path
) -> None:
    export = write_export(tmp_path / "export")
    since, until = FILE_DAY
    summary = run_import(db, export, "bound rows", channels=["general", "inc-db"],
                         since=since, until=until + timedelta(days=1))  # fmt: skip
    assert summary["counts"]["messages"] == 4  # all of #inc-db
    assert [w.split(";")[0] for w in summary["warnings"]] == [
        "#general: 1 of 1 messages fall outside the window 2026-03-02T00:00:00+00:00 – "
        "2026-03-04T00:00:00+00:00"
    ]


def test_no_warning_when_the_window_holds_the_messages_and_zero_new_ones_said_so(
    db: Session, tmp_path: Path
) -> None:
    export = write_export(tmp_path / "export")
    first = run_import(db, export, "bound rows", channels=["inc-db"])
    assert first["counts"]["messages"] == 4 and first["warnings"] == []
    again = run_import(db, export, "bound rows", channels=["inc-db"], since=FILE_DAY[0])
    assert again["counts"]["messages"] == 0
    assert again["counts"]["messages already present"] == 4
    assert again["warnings"] == [
        "0 new messages imported: the 4 messages in the window were imported before"
    ]


def test_the_preview_counts_day_files_and_utc_days_as_the_import_does(
    db: Session, tmp_path: Path
) -> None:
    export = write_export(tmp_path / "export")
    since, until = FILE_DAY
    preview = preview_slack_export(
        db, SYSTEM, export, channels=["inc-db"], since=since, until=until
    ).as_dict()
    (channel,) = preview["channels"]
    assert (channel["name"], channel["messages"], channel["in_window"]) == ("inc-db", 4, 1)
    assert channel["day_files"] == [{"day": "2026-03-02", "messages": 4, "in_window": 1}]
    assert channel["utc_days"] == [
        {"day": "2026-03-02", "messages": 1, "in_window": 1},
        {"day": "2026-03-03", "messages": 3, "in_window": 0},
    ]
    assert preview["totals"] == {
        "channels": 1, "channels_in_window": 1, "messages": 4, "in_window": 1
    }  # fmt: skip
    assert preview["suggested_window"] == {
        "since": "2026-03-02T17:00:00+00:00", "until": "2026-03-03T03:30:01+00:00"
    }  # fmt: skip
    imported = run_import(db, export, "bound rows", channels=["inc-db"], since=since, until=until)
    assert preview["warnings"] == imported["warnings"]
    everything = preview_slack_export(db, SYSTEM, export).as_dict()
    assert [(c["name"], c["messages"], c["in_window"]) for c in everything["channels"]] == [
        ("general", 1, 1),
        ("inc-db", 4, 4),
    ]
    assert everything["warnings"] == [] and everything["window"] == {"since": None, "until": None}


def test_the_preview_refuses_what_the_import_refuses(db: Session, tmp_path: Path) -> None:
    from afteraction.core.errors import ImportFailed, NotFound

    export = write_export(tmp_path / "export")
    with pytest.raises(NotFound):
        preview_slack_export(db, SYSTEM, export, channels=["nope"])
    with pytest.raises(ImportFailed):
        preview_slack_export(db, SYSTEM, tmp_path / "missing")
    with pytest.raises(ImportFailed):
        preview_slack_export(db, SYSTEM, export, since=datetime(2026, 3, 2))  # noqa: DTZ001
    (export / "inc-db" / "2026-03-02.json").write_text("[{")
    with pytest.raises(ImportFailed) as failed:
        preview_slack_export(db, SYSTEM, export)
    assert failed.value.details["where"] == "inc-db/2026-03-02.json"
