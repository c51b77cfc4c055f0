"""PagerDuty incidents, log entries (the pages: who was notified, when, how, at which
escalation level), alerts and notes, from saved REST v2 bodies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from afteraction.adapters.pagerduty._payload import (
    PERSON_PREFIX,
    JsonInput,
    _obj,
    _optional_time,
    _ref_id,
    _ref_summary,
    _require_object,
    _type_name,
    load_json,
    parse_time,
    unwrap_list,
    user_key,
)
from afteraction.core.errors import ImportFailed
from afteraction.core.evidence import PageRecord

NOTIFICATION_METHODS: Mapping[str, str] = {
    "sms_notification": "sms",
    "phone_notification": "phone",
    "push_notification": "push",
    "email_notification": "email",
    "sms": "sms",
    "phone": "phone",
    "push": "push",
    "email": "email",
}
"""`channel.notification.type` (or a bare legacy `channel.type`) → PageRecord.method."""

_ASSIGNEE_KINDS = frozenset({"assign", "escalate", "delegate"})
_LEVEL_RE = re.compile(r"\blevel\s*(\d{1,3})\b", re.IGNORECASE)


# --------------------------------------------------------------------------- incidents


@dataclass(frozen=True, slots=True)
class PdIncident:
    id: str
    number: int | None
    title: str
    status: str
    urgency: str | None
    priority: str | None
    service: str | None
    service_id: str | None
    created_at: datetime
    last_status_change_at: datetime | None
    resolved_at: datetime | None
    escalation_policy: str | None
    html_url: str | None
    first_trigger_at: datetime | None = None
    first_acknowledged_at: datetime | None = None

    def milestones(self) -> dict[str, datetime | None]:
        """detected = created / first trigger; acknowledged; resolved (core milestone names)."""
        detected = self.created_at
        if self.first_trigger_at is not None and self.first_trigger_at < detected:
            detected = self.first_trigger_at
        return {
            "detected": detected,
            "acknowledged": self.first_acknowledged_at,
            "resolved": self.resolved_at,
        }


def parse_incident(
    data: JsonInput, *, log_entries: JsonInput | None = None, source: str | None = None
) -> PdIncident:
    """Parse an incident body (`{"incident": {...}}`, a bare incident, or a v2 webhook).

    With `log_entries`, the milestones come from the log (first trigger, first acknowledge,
    last resolve); without, from `acknowledgements[]` and `resolved_at`.
    """
    value, src = load_json(data, source=source or "incident.json")
    inc = _incident_object(value, src)
    where = f"{src}: incident"
    ident = inc.get("id")
    if not isinstance(ident, str) or not ident:
        raise ImportFailed("incident has no id", where=where)
    created = parse_time(inc.get("created_at"), where=where, field_name="created_at")
    status = str(inc.get("status") or "")
    last_change = _optional_time(
        inc.get("last_status_change_at"), where=where, field_name="last_status_change_at"
    )
    resolved = _optional_time(inc.get("resolved_at"), where=where, field_name="resolved_at")
    if resolved is None and status == "resolved":
        resolved = last_change
    trigger, ack, resolve_entry = _log_milestones(log_entries)
    number = inc.get("incident_number", inc.get("number"))
    return PdIncident(
        id=ident,
        number=number if isinstance(number, int) else None,
        title=str(inc.get("title") or inc.get("summary") or ""),
        status=status,
        urgency=inc.get("urgency"),
        priority=_ref_summary(inc.get("priority")),
        service=_ref_summary(inc.get("service")),
        service_id=_ref_id(inc.get("service")),
        created_at=created,
        last_status_change_at=last_change,
        resolved_at=resolve_entry or resolved,
        escalation_policy=_ref_summary(inc.get("escalation_policy")),
        html_url=inc.get("html_url"),
        first_trigger_at=trigger,
        first_acknowledged_at=ack or _first_acknowledgement(inc.get("acknowledgements"), where),
    )


def _incident_object(value: Any, src: str) -> dict[str, Any]:
    if isinstance(value, dict):
        if isinstance(value.get("incident"), dict):
            return _obj(value["incident"])
        messages = value.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            if isinstance(messages[0].get("incident"), dict):
                return _obj(messages[0]["incident"])
        if "id" in value and ("incident_number" in value or value.get("type") == "incident"):
            return _obj(value)
    raise ImportFailed(f"expected an incident object, got {_type_name(value)}", where=src)


def _first_acknowledgement(acks: Any, where: str) -> datetime | None:
    if not isinstance(acks, list):
        return None
    times = [
        parse_time(a.get("at"), where=where, field_name="acknowledgements.at")
        for a in acks
        if isinstance(a, dict) and a.get("at")
    ]
    return min(times, default=None)


def _log_milestones(
    log_entries: JsonInput | None,
) -> tuple[datetime | None, datetime | None, datetime | None]:
    if log_entries is None:
        return None, None, None
    pages = parse_log_entries(log_entries)
    trigger = next((p.at for p in pages if p.kind == "trigger"), None)
    ack = next((p.at for p in pages if p.kind == "acknowledge"), None)
    resolve = next((p.at for p in reversed(pages) if p.kind == "resolve"), None)
    return trigger, ack, resolve


# --------------------------------------------------------------------------- log entries


def parse_log_entries(
    data: JsonInput,
    *,
    incident_id: str | None = None,
    source: str | None = None,
    warnings: list[str] | None = None,
) -> list[PageRecord]:
    """Turn log entries into PageRecords sorted by (created_at, id).

    kind = type without `_log_entry`; unknown types pass through as data. person_key is
    the notified user (notify), the assignees (assign/escalate/delegate: one record per
    assignee; with several, external_id becomes "<id>/<user id>"), otherwise the agent when
    it is a user. notify carries `method`; escalate carries `escalation_level` when the entry
    states it (`escalation_level` field or "level N" in its summary or channel).
    """
    entries, src = unwrap_list(data, "log_entries", source=source)
    records: list[PageRecord] = []
    for index, entry in enumerate(entries, start=1):
        records.extend(_entry_records(entry, index, src, incident_id, warnings))
    records.sort(key=lambda r: (r.at, r.external_id))
    return records


def _entry_records(
    entry: Any, index: int, src: str, incident_id: str | None, warnings: list[str] | None
) -> list[PageRecord]:
    where = f"{src}: entry {index}"
    if not isinstance(entry, dict):
        raise ImportFailed(f"log entry is {_type_name(entry)}, not an object", where=where)
    ident, entry_type = entry.get("id"), entry.get("type")
    if not isinstance(ident, str) or not isinstance(entry_type, str):
        raise ImportFailed("log entry needs string 'id' and 'type'", where=where)
    at = parse_time(entry.get("created_at"), where=where, field_name="created_at")
    incident = _ref_id(entry.get("incident")) or incident_id
    if incident is None:
        raise ImportFailed("log entry names no incident (pass incident_id)", where=where)
    kind = entry_type.removesuffix("_log_entry").removesuffix("_reference")
    summary = str(entry.get("summary") or "")
    channel = _obj(entry.get("channel"))
    method = _notify_method(channel) if kind == "notify" else None
    level = _escalation_level(entry, channel, summary) if kind == "escalate" else None
    keys = _person_keys(kind, entry, channel)
    if kind == "notify" and keys == [None] and warnings is not None:
        warnings.append(f"{where}: notify entry {ident} names no user")

    def record(key: str | None, external_id: str) -> PageRecord:
        return PageRecord(
            external_id=external_id,
            incident_external_id=incident,
            kind=kind,
            at=at,
            person_key=key,
            method=method,
            escalation_level=level,
            summary=summary,
        )

    if len(keys) == 1:
        return [record(keys[0], ident)]
    return [record(k, f"{ident}/{(k or '').removeprefix(PERSON_PREFIX)}") for k in keys]


def _person_keys(kind: str, entry: dict[str, Any], channel: dict[str, Any]) -> list[str | None]:
    if kind == "notify":
        notification = channel.get("notification")
        ref = entry.get("user") or (notification or {}).get("user") or channel.get("user")
        return [user_key(ref)]
    if kind in _ASSIGNEE_KINDS:
        assignees = entry.get("assignees")
        keys = [user_key(a) for a in assignees] if isinstance(assignees, list) else []
        keys = [k for k in keys if k is not None]
        if keys:
            return list(dict.fromkeys(keys))
    return [user_key(entry.get("agent"))]


def _notify_method(channel: dict[str, Any]) -> str | None:
    notification = channel.get("notification")
    if isinstance(notification, dict) and isinstance(notification.get("type"), str):
        raw = notification["type"]
    else:
        raw = channel.get("type")
    if not isinstance(raw, str):
        return None
    return NOTIFICATION_METHODS.get(raw, raw.removesuffix("_notification"))


def _escalation_level(entry: dict[str, Any], channel: dict[str, Any], summary: str) -> int | None:
    for value in (entry.get("escalation_level"), channel.get("escalation_level")):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    for text in (summary, channel.get("summary"), channel.get("details")):
        if isinstance(text, str):
            match = _LEVEL_RE.search(text)
            if match:
                return int(match.group(1))
    return None


# --------------------------------------------------------------------------- alerts, notes


@dataclass(frozen=True, slots=True)
class PdAlert:
    id: str
    created_at: datetime
    status: str
    summary: str
    severity: str | None
    service: str | None
    alert_key: str | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PdNote:
    id: str
    created_at: datetime
    author_key: str | None
    author_name: str | None
    content: str


def parse_alerts(data: JsonInput, *, source: str | None = None) -> list[PdAlert]:
    items, src = unwrap_list(data, "alerts", source=source)
    alerts = []
    for index, item in enumerate(items, start=1):
        where = f"{src}: alert {index}"
        obj = _require_object(item, where, ("id",))
        body = _obj(obj.get("body"))
        details = body.get("details")
        alerts.append(
            PdAlert(
                id=obj["id"],
                created_at=parse_time(obj.get("created_at"), where=where, field_name="created_at"),
                status=str(obj.get("status") or ""),
                summary=str(obj.get("summary") or ""),
                severity=obj.get("severity"),
                service=_ref_summary(obj.get("service")),
                alert_key=obj.get("alert_key"),
                details=details if isinstance(details, dict) else {},
            )
        )
    return sorted(alerts, key=lambda a: (a.created_at, a.id))


def parse_notes(data: JsonInput, *, source: str | None = None) -> list[PdNote]:
    items, src = unwrap_list(data, "notes", source=source)
    notes = []
    for index, item in enumerate(items, start=1):
        where = f"{src}: note {index}"
        obj = _require_object(item, where, ("id",))
        user = obj.get("user")
        notes.append(
            PdNote(
                id=obj["id"],
                created_at=parse_time(obj.get("created_at"), where=where, field_name="created_at"),
                author_key=user_key(user),
                author_name=_ref_summary(user),
                content=str(obj.get("content") or ""),
            )
        )
    return sorted(notes, key=lambda n: (n.created_at, n.id))
