"""PagerDuty import: pages, identities, the external link, a declared incident, idempotency,
overlapping exports, references and hostile input."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.core.errors import ImportFailed
from afteraction.services import incidents as repo
from afteraction.services.imports.pagerduty import import_pagerduty, severity_for
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import ExternalIncident, Page, Source
from afteraction.storage.tables import AuditLog, Identity, Incident, Person, Reference
from tests.services.imports._helpers import FLAGSHIP, count, row_counts, shared_fixture

PD = FLAGSHIP / "pagerduty"


def _import(db: Session, source: Any, **options: Any):  # type: ignore[no-untyped-def]
    with writing(db):
        return import_pagerduty(db, SYSTEM, source, **options)


def test_flagship_export_declares_an_incident_with_milestones(db: Session) -> None:
    summary = _import(db, PD)
    assert summary.counts["pages"] == 23
    assert summary.counts["people created"] == 39
    assert summary.counts["incidents created"] == 1
    assert len(summary.unmatched) == 39 and summary.incident == "INC-1"
    incident = db.scalar(select(Incident))
    assert incident is not None
    assert (incident.severity, incident.status) == ("SEV1", "resolved")  # priority P1
    assert (
        incident.started_at
        == incident.detected_at
        == datetime(2026, 10, 20, 20, 38, 45, tzinfo=UTC)
    )
    assert incident.acknowledged_at == datetime(2026, 10, 20, 20, 51, 10, tzinfo=UTC)
    assert incident.resolved_at == datetime(2026, 10, 21, 16, 6, tzinfo=UTC)
    actions = set(db.scalars(select(AuditLog.action)))
    assert {"incident.declared", "import.pagerduty", "person.created"} <= actions
    link = db.scalar(select(ExternalIncident))
    assert link is not None and (link.external_id, link.incident_id) == (
        "Q2PAYTMOUT7LXK",
        incident.id,
    )
    assert count(db, Identity) == 39
    pages = list(db.scalars(select(Page).where(Page.kind == "notify")))
    assert pages and all(p.person_id is not None and p.method for p in pages)
    assert {p.source_id for p in db.scalars(select(Page))} == {summary.source_id}


def test_second_import_adds_nothing(db: Session) -> None:
    first = _import(db, PD)
    before = row_counts(db)
    again = _import(db, PD)
    assert again.already_imported and again.source_id == first.source_id
    assert again.counts == first.counts and again.incident == "INC-1"
    assert row_counts(db) == before


def test_overlapping_export_adds_only_new_entries(db: Session, tmp_path: Path) -> None:
    folder = tmp_path / "pd"
    shutil.copytree(PD, folder)
    entries = json.loads((PD / "log_entries.json").read_text())
    partial = dict(entries, log_entries=entries["log_entries"][:10])
    (folder / "log_entries.json").write_text(json.dumps(partial))
    first = _import(db, folder)
    second = _import(db, PD)
    assert first.counts["pages"] == 10
    assert second.counts["pages"] == 13 and second.counts["already present"] == 10
    assert "incidents created" not in second.counts
    assert count(db, Page) == 23 and count(db, Incident) == 1 and count(db, Source) == 2


def test_import_attaches_to_a_named_incident(db: Session) -> None:
    with writing(db):
        repo.declare(db, SYSTEM, repo.IncidentInput(title="payments down", severity="SEV2"))
    summary = _import(db, PD, incident="INC-1")
    assert "incidents created" not in summary.counts
    assert count(db, Incident) == 1
    assert {p.incident_id for p in db.scalars(select(Page))} == {1}


def test_existing_people_are_matched_by_email_and_name(db: Session) -> None:
    with writing(db):
        db.add(Person(name="Wei Zhang"))
        db.add(Person(name="Maya T", email="MAYA.THOMPSON@brightloop.example"))
    summary = _import(db, PD)
    assert summary.counts["users matched by email"] == 1
    assert summary.counts["users matched by name"] == 1
    assert summary.counts["people created"] == 37


def test_without_create_incident_pages_stay_unlinked(db: Session) -> None:
    summary = _import(db, PD, create_incident=False)
    assert count(db, Incident) == 0 and summary.incident is None
    assert {p.incident_id for p in db.scalars(select(Page))} == {None}


def test_real_rest_examples(db: Session, tmp_path: Path) -> None:
    schema = shared_fixture("pagerduty/api-schema")
    folder = tmp_path / "pd"
    folder.mkdir()
    for name in (
        "incident_get.json",
        "incident_log_entries_list.json",
        "incident_alerts_list.json",
        "incident_notes_list.json",
        "users_list.json",
    ):
        shutil.copy(schema / name, folder / name)
    summary = _import(db, folder)
    assert summary.counts["pages"] == 1 and summary.counts["notes"] == 2
    assert summary.counts["people created"] == 2 and summary.counts["alerts"] == 1
    incident = db.scalar(select(Incident))
    assert incident is not None
    assert (incident.severity, incident.status) == ("SEV2", "investigating")  # P2, acknowledged
    assert incident.acknowledged_at == datetime(2015, 11, 10, 0, 32, 52, tzinfo=UTC)
    notes = list(db.scalars(select(Page).where(Page.kind == "note")))
    # one note is by a person, the other by a global event rule (a bot user reference)
    assert sorted((n.person_external or "-", n.person_id is not None) for n in notes) == [
        ("-", False),
        ("PXPGF42", True),
    ]
    link = db.scalar(select(ExternalIncident))
    assert link is not None and link.data is not None and len(link.data["alerts"]) == 1


def _bundle() -> dict[str, Any]:
    incident = json.loads((PD / "incident.json").read_text())["incident"]
    entries = json.loads((PD / "log_entries.json").read_text())["log_entries"]
    pr = "https://github.com/brightloop/payments-api/pull/812"
    note = {
        "id": "PNOTE1",
        "user": {"id": "PAG1731", "type": "user_reference", "summary": "Maya Thompson"},
        "content": f"Rolling back config, see <{pr}|#812> and {pr}/files",
        "created_at": "2026-10-20T21:30:00Z",
    }
    return {"incident": incident, "log_entries": entries, "notes": [note]}


def test_bundle_notes_become_pages_and_references(db: Session) -> None:
    summary = _import(db, _bundle())
    assert summary.counts["notes"] == 1 and summary.counts["references"] == 1
    assert "pagerduty:PAG1731 (not in users.json)" in summary.unmatched
    reference = db.scalar(select(Reference))
    assert reference is not None
    assert (reference.kind, reference.key, reference.mentions) == (
        "github pr",
        "brightloop/payments-api#812",
        2,
    )
    assert reference.first_seen == datetime(2026, 10, 20, 21, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("log_entries.json", b'{"log_entries": [{"id": "X", ', "log_entries.json: line 1"),
        ("log_entries.json", b'{"log_entries": {"id": "X"}}', "log_entries.json"),
        ("log_entries.json", b'{"log_entries": [{"id": 3, "type": "x"}]}', "entry 1"),
        ("users.json", b'{"users": ["nobody"]}', "users.json: user 1"),
        ("incident.json", b"\xff\xfe not json", "incident.json"),
    ],
)
def test_hostile_input_changes_nothing(
    db: Session, tmp_path: Path, name: str, content: bytes, where: str
) -> None:
    folder = tmp_path / "pd"
    shutil.copytree(PD, folder)
    (folder / name).write_bytes(content)
    before = row_counts(db)
    with pytest.raises(ImportFailed) as caught:
        _import(db, folder)
    assert where in caught.value.details.get("where", str(caught.value)) or where in str(
        caught.value
    )
    assert row_counts(db) == before


def test_a_failure_after_writing_rolls_everything_back(db: Session) -> None:
    with writing(db):
        repo.declare(db, SYSTEM, repo.IncidentInput(title="other", severity="SEV2"))
        repo.declare(db, SYSTEM, repo.IncidentInput(title="target", severity="SEV2"))
    _import(db, PD, incident="INC-1")
    before = row_counts(db)
    bundle = _bundle()
    with pytest.raises(ImportFailed, match="already linked to INC-1"):
        _import(db, bundle, incident="INC-2")
    assert row_counts(db) == before


def test_missing_incident_file_is_named(tmp_path: Path, db: Session) -> None:
    with pytest.raises(ImportFailed, match="no incident"):
        _import(db, tmp_path)


def test_severity_mapping() -> None:
    from afteraction.adapters.pagerduty import parse_incident

    base = json.loads((PD / "incident.json").read_text())["incident"]
    cases = {("P4", "high"): "SEV4", (None, "low"): "SEV3", (None, "high"): "SEV2"}
    for (priority, urgency), expected in cases.items():
        body = dict(base, urgency=urgency, priority={"summary": priority} if priority else None)
        assert severity_for(parse_incident({"incident": body})) == expected
