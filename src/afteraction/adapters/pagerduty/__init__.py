"""PagerDuty REST v2 and webhook v3 payloads turned into plain evidence records.

Lives here: parsers for saved REST response bodies (incident, log entries, alerts, notes:
`incidents`; users, schedules, overrides, on-calls: `schedules`), a fetch function built on
the official `pagerduty` client that returns the same shapes, and webhook v3 signature
checking and event parsing (`live`); reading and unwrapping saved JSON is `_payload`.
Does not live here: persistence, identity matching across sources (see `roster.py`), HTTP
routes. Every parser takes either already-decoded JSON, JSON text/bytes, or a `Path`; it
accepts a whole response body (`{"log_entries": [...], "more": false}`), a single-entity
body (`{"log_entry": {...}}`), or a bare list. People are keyed "pagerduty:<user id>".

Errors: structural problems raise `ImportFailed` with `where` naming the file and the entry
("log_entries.json: entry 12"). Items that can be skipped safely are skipped and described in
the optional `warnings` list the caller passes in.

Callers import this package (`from afteraction.adapters import pagerduty as pd`); the names
below are its public surface.
"""

from __future__ import annotations

from afteraction.adapters.pagerduty._payload import (
    MAX_JSON_BYTES,
    PERSON_PREFIX,
    JsonInput,
    load_json,
    parse_time,
    read_limited,
    unwrap_list,
    user_key,
)
from afteraction.adapters.pagerduty.incidents import (
    NOTIFICATION_METHODS,
    PdAlert,
    PdIncident,
    PdNote,
    parse_alerts,
    parse_incident,
    parse_log_entries,
    parse_notes,
)
from afteraction.adapters.pagerduty.live import (
    PdBundle,
    WebhookEvent,
    fetch_incident_bundle,
    parse_incident_bundle,
    parse_webhook_v3,
    verify_webhook_signature,
)
from afteraction.adapters.pagerduty.schedules import parse_oncalls, parse_schedules, parse_users

__all__ = [
    "MAX_JSON_BYTES",
    "NOTIFICATION_METHODS",
    "PERSON_PREFIX",
    "JsonInput",
    "PdAlert",
    "PdBundle",
    "PdIncident",
    "PdNote",
    "WebhookEvent",
    "fetch_incident_bundle",
    "load_json",
    "parse_alerts",
    "parse_incident",
    "parse_incident_bundle",
    "parse_log_entries",
    "parse_notes",
    "parse_oncalls",
    "parse_schedules",
    "parse_time",
    "parse_users",
    "parse_webhook_v3",
    "read_limited",
    "unwrap_list",
    "user_key",
    "verify_webhook_signature",
]
