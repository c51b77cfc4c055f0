"""Removing a source removes everything it brought, including the incidents it created —
unless another source brought evidence to them, something was attached to them or they were
changed since; those are kept and listed with the reason. Audited; nothing changes on failure."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.core.errors import NotFound
from afteraction.services import action_items
from afteraction.services import incidents as repo
from afteraction.services.imports.pagerduty import import_pagerduty
from afteraction.services.imports.past_reports import import_reports
from afteraction.services.imports.slack import import_slack_export
from afteraction.services.imports.sources import (
    SourceRemoval,
    remove_source,
    remove_source_everything,
)
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import (
    Channel,
    ExternalIncident,
    ImportedReport,
    Message,
    Page,
    Source,
)
from afteraction.storage.tables import AuditLog, Identity, Incident, Person, Reference
from tests.services.imports._helpers import FLAGSHIP, count, row_counts

PD = FLAGSHIP / "pagerduty"
LEDGER = """---
title: Ledger outage
date: 2024-03-05T10:00:00Z
resolved: 2024-03-05T12:30:00Z
---
# Ledger outage

Fixed by https://github.com/example/ledger/pull/9
"""
DNS = "# DNS went away\n\nDate: 2023-01-02\n"


def _pd(db: Session, source: Any = PD, **options: Any):  # type: ignore[no-untyped-def]
    with writing(db):
        return import_pagerduty(db, SYSTEM, source, **options)


def _remove(db: Session, source_id: int | None) -> SourceRemoval:
    with writing(db):
        return remove_source_everything(db, SYSTEM, source_id or 0)


def _reports(db: Session, tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "ledger.md").write_text(LEDGER, encoding="utf-8")
    (tmp_path / "dns.md").write_text(DNS, encoding="utf-8")
    with writing(db):
        return import_reports(db, SYSTEM, [tmp_path / "ledger.md", tmp_path / "dns.md"])


def test_pagerduty_incident_it_created_goes_with_it(db: Session) -> None:
    empty = row_counts(db)
    summary = _pd(db)
    assert summary.counts["incidents created"] == 1 and summary.incident == "INC-1"
    people = count(db, Person)

    removal = _remove(db, summary.source_id)

    assert removal.incidents_removed == ["INC-1"] and removal.incidents_kept == []
    assert removal.rows == {"pages": 23, "external_incidents": 1, "incidents": 1}
    assert removal.counts["pages"] == 23  # what the import had recorded
    assert count(db, Incident) == count(db, Page) == count(db, ExternalIncident) == 0
    assert count(db, Source) == 0
    # people and identities are directory data: they stay
    assert count(db, Person) == people and count(db, Identity) == people
    entries = {a.action: a for a in db.scalars(select(AuditLog))}
    removed = entries["source.removed"]
    assert removed.incident_id is None  # its incident is gone; the entry must outlive it
    assert removed.after is not None and removed.after["incidents_removed"] == ["INC-1"]
    deleted = entries["incident.deleted"]
    assert deleted.target_id == "INC-1" and deleted.before is not None
    assert deleted.before["severity"] == "SEV1" and deleted.before["status"] == "resolved"
    changed = {
        name: n
        for name, n in row_counts(db).items()
        if n != empty[name] and name not in ("audit_log", "people", "identities")
    }
    assert changed == {}, "everything the import brought is gone"


def test_an_incident_with_work_attached_is_kept_with_the_reason(db: Session) -> None:
    summary = _pd(db)
    with writing(db):
        action_items.add_action_item(db, SYSTEM, "INC-1", title="Alert on config drift")

    removal = _remove(db, summary.source_id)

    assert removal.incidents_removed == []
    assert removal.incidents_kept == [
        {"incident": "INC-1", "reason": "it has action items not brought by this source"}
    ]
    assert count(db, Incident) == 1 and count(db, Page) == 0 and count(db, Source) == 0
    removed = db.scalar(select(AuditLog).where(AuditLog.action == "source.removed"))
    assert removed is not None and removed.incident_id == 1
    assert removed.after is not None and removed.after["incidents_kept"][0]["incident"] == "INC-1"


def test_an_incident_edited_since_the_import_is_kept(db: Session) -> None:
    summary = _pd(db)
    with writing(db):
        repo.update(db, SYSTEM, "INC-1", {"title": "Payments timeouts (edited)"})
    removal = _remove(db, summary.source_id)
    assert removal.incidents_removed == []
    [kept] = removal.incidents_kept
    assert kept["incident"] == "INC-1"
    assert kept["reason"].startswith("it was changed since it was imported (incident.updated")
    assert count(db, Incident) == 1


def test_an_incident_another_source_also_fed_is_kept(db: Session, tmp_path: Path) -> None:
    folder = tmp_path / "pd"
    shutil.copytree(PD, folder)
    entries = json.loads((PD / "log_entries.json").read_text())
    (folder / "log_entries.json").write_text(
        json.dumps(dict(entries, log_entries=entries["log_entries"][:10]))
    )
    first = _pd(db, folder)
    second = _pd(db, PD)  # a later, longer export of the same PagerDuty incident
    assert "incidents created" not in second.counts

    removal = _remove(db, first.source_id)

    assert removal.incidents_kept == [
        {"incident": "INC-1", "reason": f"source #{second.source_id} also brought evidence to it"}
    ]
    assert removal.rows["pages"] == 10
    assert count(db, Incident) == 1 and count(db, Page) == 13
    # the second source has no incident of its own to remove: it only fed INC-1
    again = _remove(db, second.source_id)
    assert again.incidents_removed == [] and again.incidents_kept == []
    assert count(db, Incident) == 1 and count(db, Page) == 0


def test_a_named_incident_is_never_removed(db: Session) -> None:
    with writing(db):
        repo.declare(db, SYSTEM, repo.IncidentInput(title="payments down", severity="SEV2"))
    summary = _pd(db, incident="INC-1")
    removal = _remove(db, summary.source_id)
    assert removal.incidents_removed == [] and removal.incidents_kept == []
    assert count(db, Incident) == 1 and count(db, Page) == 0


def test_past_reports_remove_their_untouched_incidents_only(db: Session, tmp_path: Path) -> None:
    summary = _reports(db, tmp_path)
    assert summary.counts["incidents created"] == 2
    ledger = db.scalar(select(Incident).where(Incident.title == "Ledger outage"))
    assert ledger is not None
    ledger_id = ledger.public_id
    with writing(db):
        repo.post_update(db, SYSTEM, ledger_id, body="Reviewed again in 2025.")
    dns = db.scalar(select(Incident).where(Incident.title == "DNS went away"))
    assert dns is not None
    dns_id = dns.public_id

    removal = _remove(db, summary.source_id)

    assert removal.incidents_removed == [dns_id]
    assert removal.incidents_kept == [
        {"incident": ledger_id, "reason": "it has incident updates not brought by this source"}
    ]
    assert removal.rows == {
        "imported_reports": 2,
        "incident_references": 1,
        "incidents": 1,
    }
    assert [i.public_id for i in db.scalars(select(Incident))] == [ledger_id]
    assert count(db, ImportedReport) == 0 and count(db, Reference) == 0


def test_a_reference_added_by_hand_keeps_the_incident(db: Session, tmp_path: Path) -> None:
    summary = _reports(db, tmp_path)
    dns = db.scalar(select(Incident).where(Incident.title == "DNS went away"))
    assert dns is not None
    with writing(db):
        action_items.add_reference(db, SYSTEM, dns.public_id, url="https://example.com/dash/dns")
    removal = _remove(db, summary.source_id)
    assert [k["incident"] for k in removal.incidents_kept] == [dns.public_id]
    assert "incident references" in removal.incidents_kept[0]["reason"]
    assert len(removal.incidents_removed) == 1
    assert count(db, Reference) == 1  # the hand-added one; the imported one is gone


def test_a_failure_while_removing_changes_nothing(
    db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = _reports(db, tmp_path)
    before = row_counts(db)

    def broken(_incident: Incident) -> dict[str, Any]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(repo, "snapshot", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        _remove(db, summary.source_id)
    assert row_counts(db) == before


def test_unknown_source_and_the_counts_wrapper(db: Session) -> None:
    with pytest.raises(NotFound):
        _remove(db, 999)
    summary = _pd(db)
    with writing(db):
        counts = remove_source(db, SYSTEM, summary.source_id or 0)
    assert counts["pages"] == 23 and count(db, Incident) == 0


def test_slack_channels_it_created_go_unless_still_used(db: Session, tmp_path: Path) -> None:
    root = tmp_path / "export"
    (root / "ops").mkdir(parents=True)
    (root / "users.json").write_text(json.dumps([{"id": "U1", "name": "ada"}]))
    (root / "channels.json").write_text(
        json.dumps([{"id": "C1", "name": "ops"}, {"id": "C2", "name": "quiet"}])
    )
    (root / "ops" / "2026-03-02.json").write_text(
        json.dumps([{"type": "message", "ts": "1772445600.000001", "user": "U1", "text": "hi"}])
    )
    with writing(db):
        summary = import_slack_export(db, SYSTEM, root)
    assert count(db, Channel) == 2 and count(db, Message) == 1
    removal = _remove(db, summary.source_id)
    assert removal.rows == {"messages": 1, "channels": 2, "people": 1}
    assert count(db, Channel) == 0 and count(db, Message) == 0
