"""Past reports: Markdown and CSV lists become closed historical incidents with their text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.core.errors import ImportFailed
from afteraction.services.imports.past_reports import import_reports, severity_of
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import ImportedReport
from afteraction.storage.tables import Incident, Reference
from tests.services.imports._helpers import count, row_counts

FRONT = """---
title: Ledger outage
date: 2024-03-05T10:00:00Z
resolved: 2024-03-05T12:30:00Z
published: 2024-03-20
severity: SEV2
company: Example Co
tags: [database, config]
---
# Ledger outage

The ledger was down. Fix: https://github.com/example/ledger/pull/9
"""
PLAIN = "# DNS went away\n\nNo front matter here.\n"
CSV = (
    "id,title,incident date,publish date,impact,organization\n"
    "1,It\u00e2\u20ac\u2122s the cache,3/4/2021,3/10/2021,Availability,ACME\n"
    "2,Queue backlog,5/6/2022,,Latency,ACME\n"
)


def _files(tmp_path: Path) -> list[Path]:
    (tmp_path / "ledger.md").write_text(FRONT, encoding="utf-8")
    (tmp_path / "dns.md").write_text(PLAIN, encoding="utf-8")
    (tmp_path / "void.csv").write_text(CSV, encoding="utf-8")
    return [tmp_path / "ledger.md", tmp_path / "dns.md", tmp_path / "void.csv"]


def _import(db: Session, paths: list[Path]):  # type: ignore[no-untyped-def]
    with writing(db):
        return import_reports(db, SYSTEM, paths)


def test_reports_become_closed_incidents(db: Session, tmp_path: Path) -> None:
    summary = _import(db, _files(tmp_path))
    assert summary.counts == {"incidents created": 4, "references": 1}
    assert any("repaired mojibake" in w for w in summary.warnings)
    assert any("no date" in w for w in summary.warnings)  # dns.md
    ledger = db.scalar(select(Incident).where(Incident.title == "Ledger outage"))
    assert ledger is not None
    assert (ledger.status, ledger.severity, ledger.type) == ("closed", "SEV2", "default")
    assert ledger.started_at == datetime(2024, 3, 5, 10, tzinfo=UTC)
    assert ledger.resolved_at == datetime(2024, 3, 5, 12, 30, tzinfo=UTC)
    assert ledger.closed_at == datetime(2024, 3, 20, tzinfo=UTC)
    assert ledger.tags == ["config", "database"]
    report = db.scalar(select(ImportedReport).where(ImportedReport.incident_id == ledger.id))
    assert report is not None and "The ledger was down." in report.body_markdown
    assert report.meta is not None and report.meta["organisation"] == "Example Co"
    cache = db.scalar(select(Incident).where(Incident.title == "It\u2019s the cache"))
    assert cache is not None and cache.severity == "SEV3"  # the documented default
    assert cache.started_at == datetime(2021, 3, 4, tzinfo=UTC)
    assert cache.closed_at == datetime(2021, 3, 10, tzinfo=UTC)
    assert db.scalar(select(Reference.key)) == "example/ledger#9"


def test_reimport_and_longer_list(db: Session, tmp_path: Path) -> None:
    files = _files(tmp_path)
    _import(db, files)
    before = row_counts(db)
    assert _import(db, files).already_imported and row_counts(db) == before
    (tmp_path / "void.csv").write_text(CSV + "3,Disk full,7/8/2023,,Availability,ACME\n")
    summary = _import(db, [tmp_path / "void.csv"])
    assert summary.counts == {"already present": 2, "incidents created": 1}
    assert count(db, Incident) == 5 and count(db, ImportedReport) == 5


def test_a_folder_is_expanded(db: Session, tmp_path: Path) -> None:
    _files(tmp_path)
    (tmp_path / "notes.txt").write_text("ignored")
    assert _import(db, [tmp_path]).counts["incidents created"] == 4


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("bad.md", "---\ntitle: [unclosed\n---\nbody\n", "bad.md: line"),
        ("bad.md", "---\ntitle: never closed\n", "bad.md: line 1"),
        ("bad.csv", "name_of_thing,when\nx,y\n", "bad.csv: line 1"),
    ],
)
def test_bad_reports_change_nothing(
    db: Session, tmp_path: Path, name: str, content: str, where: str
) -> None:
    good = _files(tmp_path)
    (tmp_path / name).write_text(content)
    before = row_counts(db)
    with pytest.raises(ImportFailed) as caught:
        _import(db, [*good, tmp_path / name])
    assert str(caught.value.details["where"]).startswith(where)
    assert row_counts(db) == before


def test_severity_names() -> None:
    known = {"SEV1", "SEV2", "SEV3", "SEV4"}
    values = ("sev1", "P2", "3", "critical", "low", "huge", None)
    assert [severity_of(v, known) for v in values] == [
        "SEV1", "SEV2", "SEV3", "SEV1", "SEV4", None, None
    ]  # fmt: skip
