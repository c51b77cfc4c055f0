"""Fetching one PagerDuty incident live with the official `pagerduty` client, parsing the
bundle it returns, and webhook v3 signature checking and event parsing."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from afteraction.adapters.pagerduty._payload import (
    JsonInput,
    _obj,
    _ref_id,
    _ref_summary,
    load_json,
    parse_time,
    user_key,
)
from afteraction.adapters.pagerduty.incidents import (
    PdAlert,
    PdIncident,
    PdNote,
    parse_alerts,
    parse_incident,
    parse_log_entries,
    parse_notes,
)
from afteraction.core.errors import ImportFailed, PermissionDenied
from afteraction.core.evidence import PageRecord

# --------------------------------------------------------------------------- live fetch


def fetch_incident_bundle(client: Any, incident_id: str) -> dict[str, Any]:
    """Fetch one incident with the official `pagerduty.RestApiV2Client`.

    Returns {"incident": {...}, "log_entries": [...], "alerts": [...], "notes": [...]}: the
    shapes `parse_incident`, `parse_log_entries`, `parse_alerts`, `parse_notes` accept.
    Log entries are fetched with `include[]=channels` (notification method per notify entry)
    and `is_overview=false` (every entry, not only the important ones).
    """
    base = f"/incidents/{incident_id}"
    incident = client.rget(base)
    log_entries = list(
        client.iter_all(
            f"{base}/log_entries", params={"include[]": ["channels"], "is_overview": False}
        )
    )
    alerts = list(client.iter_all(f"{base}/alerts"))
    notes = client.rget(f"{base}/notes")
    return {
        "incident": incident,
        "log_entries": log_entries,
        "alerts": alerts,
        "notes": notes if isinstance(notes, list) else [],
    }


@dataclass(frozen=True, slots=True)
class PdBundle:
    incident: PdIncident
    pages: list[PageRecord]
    alerts: list[PdAlert]
    notes: list[PdNote]


def parse_incident_bundle(bundle: Mapping[str, Any], *, source: str = "bundle") -> PdBundle:
    """Parse what `fetch_incident_bundle` returns (or the same keys loaded from files)."""
    if not isinstance(bundle, Mapping) or "incident" not in bundle:
        raise ImportFailed("bundle needs an 'incident' key", where=source)
    entries = bundle.get("log_entries") or []
    incident = parse_incident(
        {"incident": bundle["incident"]}
        if "incident" not in (bundle["incident"] or {})
        else bundle["incident"],
        log_entries=entries,
        source=f"{source}.incident",
    )
    return PdBundle(
        incident=incident,
        pages=parse_log_entries(entries, incident_id=incident.id, source=f"{source}.log_entries"),
        alerts=parse_alerts(bundle.get("alerts") or [], source=f"{source}.alerts"),
        notes=parse_notes(bundle.get("notes") or [], source=f"{source}.notes"),
    )


# --------------------------------------------------------------------------- webhooks v3


def verify_webhook_signature(secret: str, body: bytes, header: str) -> None:
    """Check `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]` against HMAC-SHA256(secret, body).

    Accepts when any v1 signature matches (several are sent while a secret rotates); every
    candidate is compared in constant time. Raises PermissionDenied otherwise.
    """
    if not secret:
        raise PermissionDenied("no webhook secret configured")
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    candidates = [
        part.strip()[3:] for part in (header or "").split(",") if part.strip().startswith("v1=")
    ]
    if not candidates:
        raise PermissionDenied("X-PagerDuty-Signature has no v1 signature")
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate.lower())
    if not matched:
        raise PermissionDenied("X-PagerDuty-Signature does not match the body")


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    id: str
    event_type: str
    resource_type: str
    occurred_at: datetime
    incident_id: str | None
    agent_key: str | None
    agent_name: str | None
    data: dict[str, Any] = field(default_factory=dict)


def parse_webhook_v3(body: JsonInput, *, source: str = "webhook") -> WebhookEvent:
    """Parse a v3 webhook body `{"event": {...}}` (verify the signature first)."""
    value, src = load_json(body, source=source)
    event = value.get("event") if isinstance(value, dict) else None
    if not isinstance(event, dict):
        raise ImportFailed("expected an object with an 'event' object", where=src)
    where = f"{src}: event"
    for key in ("id", "event_type"):
        if not isinstance(event.get(key), str):
            raise ImportFailed(f"missing {key!r}", where=where)
    data = _obj(event.get("data"))
    agent = event.get("agent")
    return WebhookEvent(
        id=event["id"],
        event_type=event["event_type"],
        resource_type=str(event.get("resource_type") or ""),
        occurred_at=parse_time(event.get("occurred_at"), where=where, field_name="occurred_at"),
        incident_id=_webhook_incident_id(data),
        agent_key=user_key(agent),
        agent_name=_ref_summary(agent),
        data=data,
    )


def _webhook_incident_id(data: dict[str, Any]) -> str | None:
    if data.get("type") == "incident":
        return _ref_id(data)
    return _ref_id(data.get("incident"))
