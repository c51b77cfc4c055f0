"""Import one PagerDuty incident — saved REST responses or a live fetch — as pages, people
links, an external-incident link and references, under one `Source`.

Lives here: `import_pagerduty` (folder, JSON file or `fetch_incident_bundle` bundle) and
`fetch_bundle` (live, with the official client). Does not live here: parsing (see
`adapters.pagerduty`), commits (the caller wraps the call in `with writing(session):`).

Input. A folder holding `incident.json` and optionally `log_entries.json`, `alerts.json`,
`notes.json`, `users.json` (the REST list/get bodies; the `incident_get.json`-style names
PagerDuty's own examples use are accepted too); a JSON file holding either one incident
body or a whole bundle (`{"incident", "log_entries", "alerts", "notes", "users"}`); or that
bundle as a mapping.

What is written:
- log entries → `Page` rows (kind = type without `_log_entry`), unique on
  (system "pagerduty", log entry id), so an overlapping later export adds only new entries;
- notes → `Page` rows of kind "note" (external id `note/<id>`, text in `summary`). Notes
  are evidence of what responders wrote, not the incident's own status updates, and
  `IncidentUpdate` rows carry no source — so they are not posted as updates;
- users → `Identity(system="pagerduty")` linked to a person by existing identity, then
  email, then full name; users that match nobody become new people (listed in
  `unmatched` so they can be linked by hand or by a roster import); a user matched to an
  erased person is counted as "matched to erased people", adds no name, and their name in
  the new pages' and notes' text is replaced with the pseudonym;
- the PagerDuty incident → `ExternalIncident(system="pagerduty")` with its fields and
  alerts in `data`; linked to `incident` when given, else to the incident it was linked to
  before, else (with `create_incident`) to a newly declared incident;
- URLs in log entry summaries and notes → the incident's references (counted, first seen).

A new incident is declared through `services.incidents.declare` (audited) with severity
from the priority name (P1→SEV1, P2→SEV2, P3→SEV3, P4/P5→SEV4), else from the urgency
(high→SEV2, low→SEV3), else SEV3; status from PagerDuty's (triggered→triage,
acknowledged→investigating, resolved→resolved); milestones: first trigger (or created_at)
→ started, detected and declared; first acknowledge → acknowledged; last resolve →
resolved (and mitigated, as a resolve implies impact stopped). An incident already linked
gets its empty acknowledged/resolved milestones filled from a later export.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.adapters import pagerduty as pd
from afteraction.adapters.references import ReferenceCounter
from afteraction.core.access import Actor
from afteraction.core.errors import ImportFailed
from afteraction.core.evidence import PageRecord, PersonRecord
from afteraction.services import incidents as repo
from afteraction.services.imports._people import PeopleIndex, resolve_identity
from afteraction.services.imports.sources import (
    ImportSummary,
    Progress,
    checksum_bytes,
    find_previous,
    finish_source,
    previous_summary,
    start_source,
)
from afteraction.storage import privacy
from afteraction.storage.evidence import existing_values, insert_rows, merge_references
from afteraction.storage.evidence_tables import ExternalIncident, Page
from afteraction.storage.tables import Incident

SYSTEM = "pagerduty"
KIND = "pagerduty"
PRIORITY_SEVERITY: Mapping[str, str] = {
    "P1": "SEV1",
    "P2": "SEV2",
    "P3": "SEV3",
    "P4": "SEV4",
    "P5": "SEV4",
}
URGENCY_SEVERITY: Mapping[str, str] = {"high": "SEV2", "low": "SEV3"}
DEFAULT_SEVERITY = "SEV3"
STATUS_MAP: Mapping[str, str] = {
    "triggered": "triage",
    "acknowledged": "investigating",
    "resolved": "resolved",
}
FILE_NAMES: Mapping[str, tuple[str, ...]] = {
    "incident": ("incident.json", "incident_get.json"),
    "log_entries": (
        "log_entries.json",
        "incident_log_entries_list.json",
        "log_entries_list.json",
    ),
    "alerts": ("alerts.json", "incident_alerts_list.json"),
    "notes": ("notes.json", "incident_notes_list.json"),
    "users": ("users.json", "users_list.json"),
}
MAX_FILE_BYTES = pd.MAX_JSON_BYTES
"""Default largest JSON file read whole; `Settings.max_json_file_bytes` overrides it."""

Part = tuple[Any, str]
"""(decoded JSON, source name used in error positions)."""


# --------------------------------------------------------------------------- reading


def read_input(
    path_or_bundle: Path | str | Mapping[str, Any], *, max_file_bytes: int = MAX_FILE_BYTES
) -> tuple[dict[str, Part], str, str]:
    """(parts by key, origin, checksum) for a folder, a JSON file or a bundle mapping. Each
    file is read whole, so one larger than `max_file_bytes` is refused before it is read."""
    if isinstance(path_or_bundle, Mapping):
        parts = {
            key: (path_or_bundle[key], f"bundle.{key}")
            for key in FILE_NAMES
            if path_or_bundle.get(key) is not None
        }
        raw = orjson.dumps(dict(path_or_bundle), option=orjson.OPT_SORT_KEYS)
        return _require_incident(parts, "bundle"), "pagerduty bundle", checksum_bytes(raw)
    path = Path(path_or_bundle)
    if path.is_dir():
        return _read_folder(path, max_file_bytes)
    if not path.exists():
        raise ImportFailed("no such file or folder", where=str(path))
    raw = _read_bytes(path, max_file_bytes)
    value, _ = pd.load_json(raw, source=path.name)
    if isinstance(value, dict) and "incident" in value and len(set(value) & set(FILE_NAMES)) > 1:
        parts = {k: (value[k], f"{path.name}: {k}") for k in FILE_NAMES if value.get(k) is not None}
    else:
        parts = {"incident": (value, path.name)}
    return _require_incident(parts, path.name), str(path), checksum_bytes(raw)


def _read_folder(folder: Path, max_file_bytes: int) -> tuple[dict[str, Part], str, str]:
    parts: dict[str, Part] = {}
    pieces: list[bytes] = []
    for key, names in FILE_NAMES.items():
        for name in names:
            candidate = folder / name
            if candidate.is_file() and not candidate.is_symlink():
                raw = _read_bytes(candidate, max_file_bytes)
                pieces += [name.encode(), b"\0", raw, b"\0"]
                parts[key] = pd.load_json(raw, source=name)
                break
    return _require_incident(parts, folder.name), str(folder), checksum_bytes(*pieces)


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    return pd.read_limited(path, max_bytes)


def _require_incident(parts: dict[str, Part], where: str) -> dict[str, Part]:
    if "incident" not in parts:
        raise ImportFailed("no incident (incident.json or an 'incident' key)", where=where)
    return parts


@dataclasses.dataclass(slots=True)
class Parsed:
    incident: pd.PdIncident
    pages: list[PageRecord]
    alerts: list[pd.PdAlert]
    notes: list[pd.PdNote]
    users: list[PersonRecord]
    warnings: list[str]


def parse_parts(parts: Mapping[str, Part]) -> Parsed:
    """Parse every part; the incident's milestones come from the log when there is one."""
    warnings: list[str] = []
    value, src = parts["incident"]
    incident = pd.parse_incident(value, source=src)
    pages: list[PageRecord] = []
    if "log_entries" in parts:
        value, src = parts["log_entries"]
        pages = pd.parse_log_entries(value, incident_id=incident.id, source=src, warnings=warnings)
    incident = _with_log_milestones(incident, pages)

    def parsed(key: str, parser: Any) -> list[Any]:
        if key not in parts:
            return []
        data, source = parts[key]
        return list(parser(data, source=source))

    return Parsed(
        incident=incident,
        pages=pages,
        alerts=parsed("alerts", pd.parse_alerts),
        notes=parsed("notes", pd.parse_notes),
        users=parsed("users", pd.parse_users),
        warnings=warnings,
    )


def _with_log_milestones(incident: pd.PdIncident, pages: list[PageRecord]) -> pd.PdIncident:
    own = [p for p in pages if p.incident_external_id == incident.id]
    trigger = next((p.at for p in own if p.kind == "trigger"), None)
    ack = next((p.at for p in own if p.kind == "acknowledge"), None)
    resolve = next((p.at for p in reversed(own) if p.kind == "resolve"), None)
    return dataclasses.replace(
        incident,
        first_trigger_at=trigger or incident.first_trigger_at,
        first_acknowledged_at=ack or incident.first_acknowledged_at,
        resolved_at=resolve or incident.resolved_at,
    )


def fetch_bundle(token: str, incident_id: str, *, client: Any = None) -> dict[str, Any]:
    """Fetch an incident with `pagerduty.RestApiV2Client` (or `client`), plus its users."""
    if client is None:
        import pagerduty

        client = pagerduty.RestApiV2Client(token)
    bundle = pd.fetch_incident_bundle(client, incident_id)
    user_ids = sorted(
        {
            p.person_key.removeprefix(pd.PERSON_PREFIX)
            for p in pd.parse_log_entries(bundle["log_entries"], incident_id=incident_id)
            if p.person_key
        }
    )
    bundle["users"] = [client.rget(f"/users/{user_id}") for user_id in user_ids]
    return bundle


# --------------------------------------------------------------------------- writing


def severity_for(incident: pd.PdIncident) -> str:
    """The documented priority → urgency → default severity mapping."""
    if incident.priority and incident.priority.strip().upper() in PRIORITY_SEVERITY:
        return PRIORITY_SEVERITY[incident.priority.strip().upper()]
    return URGENCY_SEVERITY.get(incident.urgency or "", DEFAULT_SEVERITY)


def milestones_for(incident: pd.PdIncident) -> dict[str, datetime | None]:
    found = incident.milestones()
    detected = found["detected"]
    milestones: dict[str, datetime | None] = {
        "started": detected,
        "detected": detected,
        "declared": detected,
        "acknowledged": found["acknowledged"],
        "resolved": found["resolved"],
    }
    if found["resolved"] is not None:
        milestones["mitigated"] = found["resolved"]
    return milestones


def import_pagerduty(
    session: Session,
    actor: Actor,
    path_or_bundle: Path | str | Mapping[str, Any],
    *,
    incident: str | None = None,
    create_incident: bool = True,
    progress: Progress | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> ImportSummary:
    """Import one PagerDuty incident (see the module docstring). Runs in the caller's
    transaction; raises ImportFailed (file and position) before writing anything on bad
    input, including a file larger than `max_file_bytes` (read whole, so capped)."""
    parts, origin, checksum = read_input(path_or_bundle, max_file_bytes=max_file_bytes)
    options = {"incident": incident, "create_incident": create_incident}
    previous = find_previous(session, kind=KIND, checksum=checksum, options=options)
    if previous is not None:
        summary = previous_summary(previous)
        summary.incident = previous.incident.public_id if previous.incident else None
        return summary
    parsed = parse_parts(parts)
    _report(progress, 0, len(parsed.pages), "parsed")
    summary = ImportSummary(kind=KIND, source_id=None, origin=origin)
    summary.warnings.extend(parsed.warnings)
    target = _target_incident(session, actor, parsed.incident, incident, create_incident, summary)
    source = start_source(
        session,
        actor,
        kind=KIND,
        origin=origin,
        checksum=checksum,
        incident_id=target.id if target else None,
        options=options,
    )
    index = PeopleIndex.load(session)
    people, erased = _link_users(session, actor, index, parsed.users, summary)
    _link_external(session, source.id, target, parsed, summary)
    counter = ReferenceCounter()
    scrub = privacy.pseudonymiser(erased.values())
    new_pages = _write_pages(session, source.id, target, parsed, index, people, summary, scrub)
    for text, at in new_pages:
        counter.add(text, at=at)
    _report(progress, len(parsed.pages), len(parsed.pages), "pages written")
    if target is not None:
        found = [(r.reference, r.count, r.first_seen) for r in counter.results()]
        added, _ = merge_references(
            session, incident_id=target.id, source_id=source.id, found=found
        )
        if added:
            summary.count("references", added)
    summary.incident = target.public_id if target else None
    finish_source(session, actor, source, summary)
    return summary


def _report(progress: Progress | None, done: int, total: int | None, what: str) -> None:
    if progress is not None:
        progress(done, total, what)


def _target_incident(
    session: Session,
    actor: Actor,
    pd_incident: pd.PdIncident,
    wanted: str | None,
    create: bool,
    summary: ImportSummary,
) -> Incident | None:
    linked = session.scalar(
        select(ExternalIncident).where(
            ExternalIncident.system == SYSTEM, ExternalIncident.external_id == pd_incident.id
        )
    )
    if wanted is not None:
        target = repo.get_incident(session, actor, wanted)
        if linked is not None and linked.incident_id != target.id:
            other = session.get(Incident, linked.incident_id)
            raise ImportFailed(
                f"PagerDuty incident {pd_incident.id} is already linked to "
                f"{other.public_id if other else 'another incident'}",
                where="incident",
            )
        return target
    if linked is not None:
        before = session.get(Incident, linked.incident_id)
        if before is not None:
            _fill_milestones(session, actor, before, pd_incident, summary)
        return before
    if not create:
        summary.warnings.append(
            f"PagerDuty incident {pd_incident.id} is linked to no incident; pages kept unlinked"
        )
        return None
    return _declare(session, actor, pd_incident, summary)


def _declare(
    session: Session, actor: Actor, pd_incident: pd.PdIncident, summary: ImportSummary
) -> Incident:
    title = pd_incident.title or f"PagerDuty incident {pd_incident.number or pd_incident.id}"
    data = repo.IncidentInput(
        title=title[:300],
        severity=severity_for(pd_incident),
        summary=f"Imported from PagerDuty incident #{pd_incident.number or pd_incident.id}"
        + (f" ({pd_incident.html_url})" if pd_incident.html_url else "")
        + (f" on {pd_incident.service}" if pd_incident.service else "")
        + ".",
        status=STATUS_MAP.get(pd_incident.status, "triage"),
        milestones=milestones_for(pd_incident),
        allow_out_of_order=True,
    )
    created, problems = repo.declare(session, actor, data)
    summary.count("incidents created")
    summary.warnings.extend(f"milestones out of order: {p}" for p in problems)
    return created


def _fill_milestones(
    session: Session,
    actor: Actor,
    target: Incident,
    pd_incident: pd.PdIncident,
    summary: ImportSummary,
) -> None:
    found = milestones_for(pd_incident)
    empty = {
        name: found[name]
        for name in ("acknowledged", "resolved")
        if found.get(name) is not None and getattr(target, f"{name}_at") is None
    }
    if empty:
        repo.set_milestones(
            session,
            actor,
            target.number,
            empty,
            allow_out_of_order=True,
            reason="PagerDuty import",
        )
        summary.count("milestones filled", len(empty))


def _link_users(
    session: Session,
    actor: Actor,
    index: PeopleIndex,
    users: list[PersonRecord],
    summary: ImportSummary,
) -> tuple[dict[str, int], dict[int, tuple[str, set[str]]]]:
    """(PagerDuty user key -> person id, erased person id -> (pseudonym, names met))."""
    people: dict[str, int] = {}
    erased: dict[int, tuple[str, set[str]]] = {}
    for user in users:
        if user.key in people:
            summary.skip(user.key, "duplicate user id")
            continue
        person_id, how = resolve_identity(
            session, actor, index, user, system=SYSTEM, warnings=summary.warnings
        )
        people[user.key] = person_id
        pseudonym = index.erased.get(person_id)
        if pseudonym is not None:
            erased.setdefault(person_id, (pseudonym, set()))[1].add(user.name)
            summary.count("matched to erased people")
            continue
        summary.count(f"users matched by {how}" if how != "created" else "people created")
        if how == "created":
            summary.unmatched.append(f"{user.key} {user.name} <{user.email or 'no email'}>")
    return people, erased


def _link_external(
    session: Session,
    source_id: int,
    target: Incident | None,
    parsed: Parsed,
    summary: ImportSummary,
) -> None:
    if target is None:
        return
    inc = parsed.incident
    row = session.scalar(
        select(ExternalIncident).where(
            ExternalIncident.system == SYSTEM, ExternalIncident.external_id == inc.id
        )
    )
    data = _external_data(inc, parsed.alerts, row.data if row is not None else None)
    if row is None:
        session.add(
            ExternalIncident(
                incident_id=target.id,
                system=SYSTEM,
                external_id=inc.id,
                url=inc.html_url or "",
                data=data,
                source_id=source_id,
            )
        )
        summary.count("external incidents")
    else:
        row.data = data
    summary.count("alerts", len(parsed.alerts))


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _external_data(
    inc: pd.PdIncident, alerts: list[pd.PdAlert], before: Mapping[str, Any] | None
) -> dict[str, Any]:
    merged = {a["id"]: a for a in (before or {}).get("alerts", []) if isinstance(a, dict)}
    for alert in alerts:
        merged[alert.id] = {
            "id": alert.id,
            "created_at": _iso(alert.created_at),
            "status": alert.status,
            "summary": alert.summary,
            "severity": alert.severity,
            "service": alert.service,
            "alert_key": alert.alert_key,
        }
    return {
        "number": inc.number,
        "title": inc.title,
        "status": inc.status,
        "urgency": inc.urgency,
        "priority": inc.priority,
        "service": inc.service,
        "escalation_policy": inc.escalation_policy,
        "created_at": _iso(inc.created_at),
        "resolved_at": _iso(inc.resolved_at),
        "alerts": sorted(merged.values(), key=lambda a: (a["created_at"] or "", a["id"])),
    }


def _write_pages(
    session: Session,
    source_id: int,
    target: Incident | None,
    parsed: Parsed,
    index: PeopleIndex,
    people: dict[str, int],
    summary: ImportSummary,
    scrub: Callable[[str], str],
) -> list[tuple[str, datetime]]:
    """Insert pages and notes not stored yet, their text passed through `scrub` (erased
    people's names); return (text, time) of the new ones."""
    records = list(parsed.pages) + [_note_record(note, parsed.incident.id) for note in parsed.notes]
    known = existing_values(
        session, Page.external_id, (r.external_id for r in records), Page.system == SYSTEM
    )
    rows: list[dict[str, Any]] = []
    texts: list[tuple[str, datetime]] = []
    seen: set[str] = set()
    unknown: set[str] = set()
    for record in records:
        if record.external_id in known:
            summary.count("already present")
            continue
        if record.external_id in seen:
            summary.skip(record.external_id, "duplicate log entry id in the same import")
            continue
        seen.add(record.external_id)
        person_id = _person_of(record.person_key, index, people, unknown)
        record = dataclasses.replace(record, summary=scrub(record.summary or ""))
        rows.append(_page_row(record, source_id, target, person_id))
        summary.count("notes" if record.kind == "note" else "pages")
        if record.summary:
            texts.append((record.summary, record.at))
    insert_rows(session, Page, rows)
    summary.unmatched.extend(f"{key} (not in users.json)" for key in sorted(unknown))
    return texts


def _note_record(note: pd.PdNote, incident_id: str) -> PageRecord:
    return PageRecord(
        external_id=f"note/{note.id}",
        incident_external_id=incident_id,
        kind="note",
        at=note.created_at,
        person_key=note.author_key,
        summary=note.content,
    )


def _person_of(
    key: str | None, index: PeopleIndex, people: dict[str, int], unknown: set[str]
) -> int | None:
    if key is None:
        return None
    if key in people:
        return people[key]
    found = index.by_identity.get((SYSTEM, key.removeprefix(pd.PERSON_PREFIX)))
    if found is None:
        unknown.add(key)
    return found


def _page_row(
    record: PageRecord, source_id: int, target: Incident | None, person_id: int | None
) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "system": SYSTEM,
        "external_id": record.external_id[:120],
        "external_incident_id": record.incident_external_id[:80],
        "incident_id": target.id if target else None,
        "kind": record.kind[:40],
        "at": record.at,
        "person_external": (
            record.person_key.removeprefix(pd.PERSON_PREFIX)[:80] if record.person_key else None
        ),
        "person_id": person_id,
        "method": record.method[:20] if record.method else None,
        "escalation_level": record.escalation_level,
        "summary": record.summary,
    }
