"""PagerDuty REST v2 and webhook v3 payloads turned into plain evidence records.

Lives here: parsers for saved REST response bodies (incident, log entries, alerts, notes,
users, schedules, overrides, on-calls), a fetch function built on the official `pagerduty`
client that returns the same shapes, webhook v3 signature checking and event parsing.
Does not live here: persistence, identity matching across sources (see `roster.py`), HTTP
routes. Every parser takes either already-decoded JSON, JSON text/bytes, or a `Path`; it
accepts a whole response body (`{"log_entries": [...], "more": false}`), a single-entity
body (`{"log_entry": {...}}`), or a bare list. People are keyed "pagerduty:<user id>".

Errors: structural problems raise `ImportFailed` with `where` naming the file and the entry
("log_entries.json: entry 12"). Items that can be skipped safely are skipped and described in
the optional `warnings` list the caller passes in.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from afteraction.core.errors import ImportFailed, PermissionDenied
from afteraction.core.evidence import PageRecord, PersonRecord, ShiftRecord

PERSON_PREFIX = "pagerduty:"

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

JsonInput = Any
"""Decoded JSON (dict or list), JSON text or bytes, or a Path to a saved response."""


# --------------------------------------------------------------------------- loading


MAX_JSON_BYTES = 64 * 1024 * 1024
"""Default cap on one JSON file read whole (the importers pass the configured one)."""


def read_limited(path: Path, max_bytes: int = MAX_JSON_BYTES) -> bytes:
    """A file's bytes, refusing it with a clear error once it passes `max_bytes` — checked
    before reading, and again while reading (a pipe or device has no size; a file may grow),
    so at most `max_bytes + 1` bytes are ever held."""
    try:
        with path.open("rb") as stream:
            size = path.stat().st_size
            if size > max_bytes:
                raise ImportFailed(_too_large(size, max_bytes), where=path.name)
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        raise ImportFailed(f"cannot read file ({exc.strerror})", where=path.name) from exc
    if len(data) > max_bytes:
        raise ImportFailed(_too_large(None, max_bytes), where=path.name)
    return data


def _too_large(size: int | None, limit: int) -> str:
    found = f"{size:,} bytes" if size is not None else "more than that"
    return (
        f"file is too large to read whole: {found}; the limit is {limit:,} bytes "
        "(AFTERACTION_MAX_JSON_FILE_BYTES)"
    )


def load_json(data: JsonInput, *, source: str) -> tuple[Any, str]:
    """Decode `data` if it is text, bytes or a path; return (value, source name)."""
    if isinstance(data, Path):
        source = data.name
        data = read_limited(data)
    if isinstance(data, str | bytes | bytearray | memoryview):
        try:
            return orjson.loads(data), source
        except orjson.JSONDecodeError as exc:
            where = f"{source}: line {exc.lineno} column {exc.colno}"
            raise ImportFailed(f"not valid JSON ({exc.msg})", where=where) from exc
    return data, source


def unwrap_list(data: JsonInput, key: str, *, source: str | None = None) -> tuple[list[Any], str]:
    """Return the list under `key` from a response body, a single entity, or a bare list."""
    value, src = load_json(data, source=source or f"{key}.json")
    if isinstance(value, list):
        return value, src
    if isinstance(value, dict):
        if key in value:
            items = value[key]
            if not isinstance(items, list):
                raise ImportFailed(f"{key!r} is not a list", where=src)
            return items, src
        singular = key[:-3] + "y" if key.endswith("ies") else key.removesuffix("s")
        if isinstance(value.get(singular), dict):
            return [value[singular]], src
        if key == "log_entries" and isinstance(value.get("messages"), list):
            return _v2_webhook_log_entries(value["messages"], src), src
    raise ImportFailed(
        f"expected a list or an object with {key!r}, got {_type_name(value)}", where=src
    )


def _v2_webhook_log_entries(messages: list[Any], src: str) -> list[Any]:
    entries: list[Any] = []
    for index, message in enumerate(messages, start=1):
        if not isinstance(message, dict) or not isinstance(message.get("log_entries"), list):
            raise ImportFailed(
                "webhook message without log_entries", where=f"{src}: message {index}"
            )
        entries.extend(message["log_entries"])
    return entries


_TYPE_NAMES = {"dict": "an object", "list": "a list", "str": "a string"}


def _type_name(value: Any) -> str:
    name = type(value).__name__
    return _TYPE_NAMES.get(name, name)


def _obj(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty dict."""
    return value if isinstance(value, dict) else {}


def parse_time(value: Any, *, where: str, field_name: str) -> datetime:
    """Parse an ISO 8601 timestamp that carries an offset (`Z` or `±hh:mm`)."""
    if not isinstance(value, str):
        raise ImportFailed(f"{field_name} missing or not a string", where=where)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ImportFailed(f"{field_name} {value!r} is not an ISO 8601 time", where=where) from exc
    if parsed.tzinfo is None:
        raise ImportFailed(f"{field_name} {value!r} has no time zone offset", where=where)
    return parsed


def _optional_time(value: Any, *, where: str, field_name: str) -> datetime | None:
    return None if value is None else parse_time(value, where=where, field_name=field_name)


def _ref_id(ref: Any) -> str | None:
    return ref.get("id") if isinstance(ref, dict) and isinstance(ref.get("id"), str) else None


def _ref_summary(ref: Any) -> str | None:
    if isinstance(ref, dict):
        return ref.get("summary") or ref.get("name") or None
    return None


def user_key(ref: Any) -> str | None:
    """ "pagerduty:<id>" for a user reference (not bots, services or integrations)."""
    if not isinstance(ref, dict) or ref.get("type") not in ("user_reference", "user"):
        return None
    ident = _ref_id(ref)
    return PERSON_PREFIX + ident if ident else None


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


def _require_object(item: Any, where: str, keys: Iterable[str]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ImportFailed(f"expected an object, got {_type_name(item)}", where=where)
    for key in keys:
        if not isinstance(item.get(key), str) or not item[key]:
            raise ImportFailed(f"missing {key!r}", where=where)
    return item


# --------------------------------------------------------------------------- users


def parse_users(data: JsonInput, *, source: str | None = None) -> list[PersonRecord]:
    """Users → PersonRecord(key="pagerduty:<id>", name, email, time_zone, title=job_title)."""
    items, src = unwrap_list(data, "users", source=source)
    people = []
    for index, item in enumerate(items, start=1):
        obj = _require_object(item, f"{src}: user {index}", ("id",))
        email = obj.get("email")
        people.append(
            PersonRecord(
                key=PERSON_PREFIX + obj["id"],
                name=str(obj.get("name") or obj.get("summary") or obj["id"]),
                email=email.lower() if isinstance(email, str) and email else None,
                time_zone=obj.get("time_zone"),
                title=obj.get("job_title") or None,
            )
        )
    return people


# --------------------------------------------------------------------------- schedules


@dataclass(frozen=True, slots=True)
class _Segment:
    start: datetime
    end: datetime
    person_key: str


def parse_schedules(
    data: JsonInput,
    *,
    since: datetime,
    until: datetime,
    overrides: JsonInput | None = None,
    source: str | None = None,
    warnings: list[str] | None = None,
) -> list[ShiftRecord]:
    """Schedules (list body or `{"schedule": {...}}`) → shifts clipped to [since, until).

    Uses `final_schedule.rendered_schedule_entries` when present (PagerDuty has already
    applied layer precedence and overrides). Otherwise overlays the layers' rendered entries
    — a layer later in `schedule_layers` covers the ones before it (overlaps are warned
    about, since that precedence is assumed) — then the overrides: `overrides_subschedule`
    entries and the `overrides` argument (a `/schedules/{id}/overrides` body; applied to
    every schedule given, so pass one schedule with its own overrides). `schedule` on each
    shift is the schedule's name (its id when unnamed).
    """
    _check_window(since, until)
    items, src = unwrap_list(data, "schedules", source=source)
    extra = _override_segments(overrides) if overrides is not None else []
    shifts: list[ShiftRecord] = []
    for index, item in enumerate(items, start=1):
        where = f"{src}: schedule {index}"
        obj = _require_object(item, where, ("id",))
        name = str(obj.get("name") or obj.get("summary") or obj["id"])
        segments = _schedule_segments(obj, extra, where, warnings)
        shifts.extend(_clip_shifts(segments, name, since, until, None))
    shifts.sort(key=lambda s: (s.start, s.schedule, s.person_key))
    return shifts


def _check_window(since: datetime | None, until: datetime | None) -> None:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ImportFailed(f"{name} needs a time zone offset", where=name)
    if since is not None and until is not None and until <= since:
        raise ImportFailed("until must be after since", where="until")


def _schedule_segments(
    obj: dict[str, Any], extra: list[_Segment], where: str, warnings: list[str] | None
) -> list[_Segment]:
    final = obj.get("final_schedule")
    if isinstance(final, dict) and isinstance(final.get("rendered_schedule_entries"), list):
        return _rendered(final["rendered_schedule_entries"], f"{where} final_schedule")
    segments: list[_Segment] = []
    has_rendered = False
    layers = obj.get("schedule_layers")
    for number, layer in enumerate(layers if isinstance(layers, list) else [], start=1):
        entries = layer.get("rendered_schedule_entries") if isinstance(layer, dict) else None
        if isinstance(entries, list):
            has_rendered = True
            top = _rendered(entries, f"{where} layer {number}")
            if warnings is not None and _overlaps(segments, top):
                warnings.append(f"{where}: layer {number} overlaps an earlier layer; it wins")
            segments = _overlay(segments, top)
    subschedule = obj.get("overrides_subschedule")
    if isinstance(subschedule, dict) and isinstance(
        subschedule.get("rendered_schedule_entries"), list
    ):
        segments = _overlay(
            segments, _rendered(subschedule["rendered_schedule_entries"], f"{where} overrides")
        )
    if not has_rendered and warnings is not None:
        warnings.append(
            f"{where}: schedule {obj['id']} has no rendered entries (fetch it with since/until)"
        )
    return _overlay(segments, extra)


def _rendered(entries: list[Any], where: str) -> list[_Segment]:
    segments = []
    for index, entry in enumerate(entries, start=1):
        here = f"{where} entry {index}"
        if not isinstance(entry, dict):
            raise ImportFailed(f"expected an object, got {_type_name(entry)}", where=here)
        key = user_key(entry.get("user"))
        if key is None:
            raise ImportFailed("entry has no user reference", where=here)
        start = parse_time(entry.get("start"), where=here, field_name="start")
        end = parse_time(entry.get("end"), where=here, field_name="end")
        if end > start:
            segments.append(_Segment(start, end, key))
    return segments


def _override_segments(data: JsonInput) -> list[_Segment]:
    items, src = unwrap_list(data, "overrides", source="overrides.json")
    return _rendered(items, src)


def _overlaps(base: list[_Segment], top: list[_Segment]) -> bool:
    return any(b.start < t.end and t.start < b.end for b in base for t in top)


def _overlay(base: list[_Segment], top: list[_Segment]) -> list[_Segment]:
    """Cut `top`'s intervals out of `base` and add `top` (top wins where they overlap)."""
    if not top:
        return base
    result: list[_Segment] = []
    for seg in base:
        pieces = [seg]
        for cover in top:
            pieces = [piece for p in pieces for piece in _subtract(p, cover)]
        result.extend(pieces)
    result.extend(top)
    return sorted(result, key=lambda s: (s.start, s.person_key))


def _subtract(seg: _Segment, cover: _Segment) -> list[_Segment]:
    if cover.end <= seg.start or cover.start >= seg.end:
        return [seg]
    pieces = []
    if seg.start < cover.start:
        pieces.append(_Segment(seg.start, cover.start, seg.person_key))
    if cover.end < seg.end:
        pieces.append(_Segment(cover.end, seg.end, seg.person_key))
    return pieces


def _clip_shifts(
    segments: Iterable[_Segment],
    schedule: str,
    since: datetime | None,
    until: datetime | None,
    level: int | None,
) -> list[ShiftRecord]:
    shifts = []
    for seg in segments:
        start = max(seg.start, since) if since is not None else seg.start
        end = min(seg.end, until) if until is not None else seg.end
        if end > start:
            shifts.append(ShiftRecord(seg.person_key, schedule, start, end, level))
    return shifts


# --------------------------------------------------------------------------- on-calls


def parse_oncalls(
    data: JsonInput,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    source: str | None = None,
    warnings: list[str] | None = None,
) -> list[ShiftRecord]:
    """On-calls → shifts with `escalation_level`, clipped to [since, until) when given.

    A null `start`/`end` means a permanent on-call (user directly on the escalation policy);
    it is clipped to the requested window, so that window must then be given. `schedule`
    is the schedule's name, or "escalation policy <name>" when there is no schedule.
    Entries without a user are skipped with a warning.
    """
    _check_window(since, until)
    items, src = unwrap_list(data, "oncalls", source=source)
    shifts: list[ShiftRecord] = []
    for index, item in enumerate(items, start=1):
        where = f"{src}: on-call {index}"
        if not isinstance(item, dict):
            raise ImportFailed(f"expected an object, got {_type_name(item)}", where=where)
        key = user_key(item.get("user"))
        if key is None:
            if warnings is not None:
                warnings.append(f"{where}: no user reference; skipped")
            continue
        start = _optional_time(item.get("start"), where=where, field_name="start") or since
        end = _optional_time(item.get("end"), where=where, field_name="end") or until
        if start is None or end is None:
            raise ImportFailed("permanent on-call needs since and until to clip to", where=where)
        level = item.get("escalation_level")
        shifts.extend(
            _clip_shifts(
                [_Segment(start, end, key)],
                _oncall_schedule_name(item),
                since,
                until,
                level if isinstance(level, int) and not isinstance(level, bool) else None,
            )
        )
    shifts.sort(key=lambda s: (s.start, s.escalation_level or 0, s.person_key))
    return shifts


def _oncall_schedule_name(item: dict[str, Any]) -> str:
    schedule = item.get("schedule")
    if isinstance(schedule, dict):
        return str(_ref_summary(schedule) or _ref_id(schedule) or "")
    policy = item.get("escalation_policy")
    return f"escalation policy {_ref_summary(policy) or _ref_id(policy) or '?'}"


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
