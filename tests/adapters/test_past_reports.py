"""Past reports: Markdown post-mortems with or without front matter, VOID-style CSV lists."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from tests.adapters._shared_fixtures import DATA

from afteraction.adapters.past_reports import (
    parse_incident_csv,
    parse_markdown_report,
    repair_mojibake,
)
from afteraction.core.errors import ImportFailed


def test_markdown_with_front_matter() -> None:
    report = parse_markdown_report(DATA / "postmortem_front_matter.md")
    assert report.title == "Checkout outage: expired TLS certificate"
    assert report.started_at == datetime(2024, 5, 1, 10, 30, tzinfo=timezone(timedelta(hours=2)))
    assert report.occurred_on == date(2024, 5, 1)
    assert report.resolved_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)  # naive → UTC
    assert report.published_on == date(2024, 5, 20)
    assert (report.severity, report.organisation) == ("SEV-1", "Acme")
    assert report.tags == ("tls", "certificates")
    assert report.metadata == {"authors": "['Jane Doe']"}
    assert report.body.startswith("# Summary\n\nCheckout failed for 90 minutes.")
    assert report.source == "postmortem_front_matter.md"
    assert report.warnings == ()


def test_markdown_without_front_matter_takes_first_heading() -> None:
    report = parse_markdown_report(DATA / "postmortem_plain.md")
    assert report.title == "Database failover took too long"
    assert report.occurred_on is None and report.tags == ()


def test_markdown_title_falls_back_to_file_name_and_bad_dates_warn(tmp_path: Path) -> None:
    path = tmp_path / "no-heading.md"
    path.write_text("---\ndate: sometime\ntags: a, b\n---\nplain text\n", encoding="utf-8")
    report = parse_markdown_report(path)
    assert report.title == "no-heading"
    assert report.tags == ("a", "b")
    assert report.warnings == ("no-heading.md, occurred: 'sometime' is not a date; left empty",)


def test_markdown_hostile(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed) as info:
        parse_markdown_report(DATA / "postmortem_bad_yaml.md")
    assert info.value.where.startswith("postmortem_bad_yaml.md: line ")
    unclosed = tmp_path / "unclosed.md"
    unclosed.write_text("---\ntitle: x\n# body\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="never closed"):
        parse_markdown_report(unclosed)
    listy = tmp_path / "list.md"
    listy.write_text("---\n- a\n- b\n---\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="not a mapping"):
        parse_markdown_report(listy)
    latin = tmp_path / "latin.md"
    latin.write_bytes(b"# Caf\xe9 down\n")
    report = parse_markdown_report(latin)
    assert report.title == "Café down"
    assert report.warnings == ("latin.md: not UTF-8 (line 1); read as Windows-1252",)
    with pytest.raises(ImportFailed, match="cannot read"):
        parse_markdown_report(tmp_path / "missing.md")


def test_void_style_csv() -> None:
    reports, warnings = parse_incident_csv(DATA / "void_incidents.csv")
    assert [r.title for r in reports] == ["It’s down", "Slow API"]
    first, second = reports
    assert (first.external_id, first.occurred_on, first.published_on) == (
        "1",
        date(2021, 3, 15),
        date(2021, 4, 1),
    )
    assert (first.impact, first.organisation) == ("Full outage", "Acme")
    assert second.occurred_on is None
    assert second.metadata == {"Notes": "extra"}
    assert warnings == [
        "void_incidents.csv: row 2: repaired mojibake in 'Title'",
        "void_incidents.csv: row 3, occurred: '13/45/2021' is not a date; left empty",
        "void_incidents.csv: row 4: no title; row skipped",
        "void_incidents.csv: row 5: no title; row skipped",
    ]


def test_csv_without_title_column(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="no title column"):
        parse_incident_csv(path)


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        ("itâ€™s", "it’s"),
        ("cafÃ©", "café"),
        ("â€œquotedâ€\x9d", "“quoted”"),  # 0x9D is undefined in cp1252
        ("naïve", "naïve"),  # already right: left alone
        ("Ã plain", "Ã plain"),  # not decodable: left alone
        ("€ and â€™", "€ and â€™"),  # mixed correct and broken text: left alone
    ],
)
def test_repair_mojibake(broken: str, fixed: str) -> None:
    assert repair_mojibake(broken) == fixed
