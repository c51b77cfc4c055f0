"""Bot and integration posts keep what their attachments say (title, text, fields, or the
fallback): in the transcript, in search and in timeline suggestions (the real fixtures'
attachment posts: tests/adapters/test_slack_export.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.services import incidents as repo
from afteraction.services import search
from afteraction.services import timeline as timeline_service
from afteraction.services.imports.slack import import_slack_export
from afteraction.storage.analysis_bundle import build_incident_evidence
from afteraction.storage.db import writing
from afteraction.storage.transcript import read_window
from tests.services.imports._helpers import slack_message, slack_ts

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

ALERT = {
    "type": "message",
    "subtype": "bot_message",
    "ts": slack_ts(T0 + timedelta(minutes=1)),
    "bot_id": "B1",
    "username": "alertmanager",
    "text": "",
    "attachments": [
        {
            "title": "[FIRING:1] CheckoutLatencyHigh",
            "text": "p99 latency above 2s",
            "fields": [{"title": "Severity", "value": "critical"}, {"title": "x", "value": ""}],
            "fallback": "not shown when there is a title",
        }
    ],
}
ROLLBACK = {
    "type": "message",
    "subtype": "bot_message",
    "ts": slack_ts(T0 + timedelta(minutes=2)),
    "bot_id": "B2",
    "username": "deploybot",
    "text": "deploy <https://ci.example/7|#7>",
    "attachments": [{"fallback": "rolling back checkout to v41"}],
}


def _export(root: Path) -> Path:
    root.mkdir()
    (root / "users.json").write_text(json.dumps([{"id": "U1", "name": "ada"}]))
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "inc-checkout"}]))
    (root / "inc-checkout").mkdir()
    day = [slack_message(T0, "checkout is slow"), ALERT, ROLLBACK]
    (root / "inc-checkout" / "2026-03-02.json").write_text(json.dumps(day))
    return root


def test_attachment_text_is_in_the_transcript_search_and_suggestions(
    db: Session, tmp_path: Path
) -> None:
    with writing(db):
        incident, _ = repo.declare(
            db,
            SYSTEM,
            repo.IncidentInput(title="checkout", severity="SEV2", milestones={"started": T0}),
        )
        ref = f"INC-{incident.number}"
        import_slack_export(db, SYSTEM, _export(tmp_path / "export"), incident=ref)
    texts = [item.text for item in read_window(db, incident.id).items if item.kind == "message"]
    assert texts[1] == "[FIRING:1] CheckoutLatencyHigh\np99 latency above 2s\nSeverity: critical"
    assert texts[2] == "deploy <https://ci.example/7|#7>\nrolling back checkout to v41"

    found = search.search(db, SYSTEM, "critical", kinds=["messages"])
    assert len(found.hits) == 1 and "Severity: critical" in found.hits[0].snippet
    assert len(search.search(db, SYSTEM, "v41", kinds=["messages"]).hits) == 1

    evidence = build_incident_evidence(db, incident.id, with_history=False)
    suggested = timeline_service.pending_suggestions(db, evidence)
    rollback = [s for s in suggested if s.kind == "rollback"]
    assert [s.evidence for s in rollback] == [(("message", "C1", ROLLBACK["ts"]),)]
    assert "rolling back checkout" in rollback[0].text
