"""Import PagerDuty schedules and on-calls as on-call shifts, under one `Source`.

Lives here: `import_oncall`. Does not live here: parsing (`adapters.pagerduty`), commits
(the caller wraps the call in `with writing(session):`).

Input: a folder holding `schedules.json` (a `/schedules` list or `/schedules/{id}` body
with rendered entries) and/or `oncalls.json` (a `/oncalls` body), optionally
`overrides.json` (applied to the schedules) and `users.json` (to link people by email);
PagerDuty's example names (`schedules_list_with_layers.json`, `schedule_get.json`,
`oncalls_list.json`, `schedule_overrides_list.json`, `users_list.json`) work too. Or one of
those files alone (recognised by its top-level key).

Shifts are unique on (schedule name, PagerDuty user id, start): importing the same or an
overlapping export adds only new shifts. When both files give the same shift, the on-call
entry (which carries the escalation level) wins. `since`/`until` clip every shift; without
them schedules are not clipped, and a permanent on-call (null start/end) is clipped to the
window the file covers (earliest start to latest end of its other entries), or refused when
there is none. People: the user's PagerDuty identity, else the user in
`users.json` matched by email then name (unknown users become people, listed as unmatched).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.adapters import pagerduty as pd
from afteraction.core.access import Actor
from afteraction.core.errors import ImportFailed
from afteraction.core.evidence import ShiftRecord
from afteraction.services.imports._people import PeopleIndex, resolve_identity
from afteraction.services.imports.pagerduty import MAX_FILE_BYTES
from afteraction.services.imports.sources import (
    ImportSummary,
    Progress,
    checksum_bytes,
    find_previous,
    finish_source,
    previous_summary,
    start_source,
)
from afteraction.storage.evidence import insert_rows
from afteraction.storage.evidence_tables import OnCallShift

KIND = "oncall"
SYSTEM = "pagerduty"
FILE_NAMES: Mapping[str, tuple[str, ...]] = {
    "oncalls": ("oncalls.json", "oncalls_list.json"),
    "schedules": ("schedules.json", "schedules_list_with_layers.json", "schedule_get.json"),
    "overrides": ("overrides.json", "schedule_overrides_list.json"),
    "users": ("users.json", "users_list.json"),
}
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

Part = tuple[Any, str]


def read_input(
    path: Path | str, *, max_file_bytes: int = MAX_FILE_BYTES
) -> tuple[dict[str, Part], str]:
    """(parts by kind, checksum) for a folder or a single saved response; each file is read
    whole, so one larger than `max_file_bytes` is refused."""
    path = Path(path)
    pieces: list[bytes] = []
    parts: dict[str, Part] = {}
    if path.is_dir():
        for key, names in FILE_NAMES.items():
            for name in names:
                candidate = path / name
                if candidate.is_file() and not candidate.is_symlink():
                    raw = pd.read_limited(candidate, max_file_bytes)
                    pieces += [name.encode(), b"\0", raw, b"\0"]
                    parts[key] = pd.load_json(raw, source=name)
                    break
    elif path.is_file():
        raw = pd.read_limited(path, max_file_bytes)
        pieces.append(raw)
        value, _ = pd.load_json(raw, source=path.name)
        parts[_kind_of(value, path.name)] = (value, path.name)
    else:
        raise ImportFailed("no such file or folder", where=str(path))
    if "oncalls" not in parts and "schedules" not in parts:
        raise ImportFailed("no schedules or on-calls found", where=path.name)
    return parts, checksum_bytes(*pieces)


def _kind_of(value: Any, source: str) -> str:
    if isinstance(value, dict):
        for key, kind in (
            ("oncalls", "oncalls"),
            ("schedules", "schedules"),
            ("schedule", "schedules"),
        ):
            if key in value:
                return kind
    if isinstance(value, list):
        first = value[0] if value else {}
        if isinstance(first, dict) and "schedule_layers" not in first and "start" in first:
            return "oncalls"
        return "schedules"
    raise ImportFailed("expected a schedules or on-calls response body", where=source)


def parse_shifts(
    parts: Mapping[str, Part],
    *,
    since: datetime | None,
    until: datetime | None,
    warnings: list[str],
) -> list[ShiftRecord]:
    """On-call shifts first (they carry levels), then schedule shifts."""
    shifts: list[ShiftRecord] = []
    if "oncalls" in parts:
        value, src = parts["oncalls"]
        first, last = (since, until) if since and until else _window_of(value, src)
        shifts += pd.parse_oncalls(
            value, since=since or first, until=until or last, source=src, warnings=warnings
        )
    if "schedules" in parts:
        value, src = parts["schedules"]
        overrides = parts["overrides"][0] if "overrides" in parts else None
        shifts += pd.parse_schedules(
            value,
            since=since or EARLIEST,
            until=until or LATEST,
            overrides=overrides,
            source=src,
            warnings=warnings,
        )
    return shifts


def _window_of(value: Any, src: str) -> tuple[datetime | None, datetime | None]:
    """The earliest start and latest end in an on-calls body: the window it was fetched for,
    to which permanent on-calls (null start/end) are clipped."""
    items, _ = pd.unwrap_list(value, "oncalls", source=src)
    starts: list[datetime] = []
    ends: list[datetime] = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            continue
        where = f"{src}: on-call {index}"
        if item.get("start") is not None:
            starts.append(pd.parse_time(item["start"], where=where, field_name="start"))
        if item.get("end") is not None:
            ends.append(pd.parse_time(item["end"], where=where, field_name="end"))
    return min(starts, default=None), max(ends, default=None)


def import_oncall(
    session: Session,
    actor: Actor,
    path: Path | str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> ImportSummary:
    """Import schedules/on-calls as `OnCallShift` rows (see the module docstring)."""
    parts, checksum = read_input(path, max_file_bytes=max_file_bytes)
    options = {
        "since": since.astimezone(UTC).isoformat() if since else None,
        "until": until.astimezone(UTC).isoformat() if until else None,
    }
    previous = find_previous(session, kind=KIND, checksum=checksum, options=options)
    if previous is not None:
        return previous_summary(previous)
    summary = ImportSummary(kind=KIND, source_id=None, origin=str(path))
    shifts = parse_shifts(parts, since=since, until=until, warnings=summary.warnings)
    users = []
    if "users" in parts:
        users = pd.parse_users(parts["users"][0], source=parts["users"][1])
    if progress is not None:
        progress(0, len(shifts), "parsed")
    source = start_source(
        session, actor, kind=KIND, origin=str(path), checksum=checksum, options=options
    )
    index = PeopleIndex.load(session)
    for user in users:
        _, how = resolve_identity(
            session, actor, index, user, system=SYSTEM, warnings=summary.warnings
        )
        summary.count("people created" if how == "created" else f"users matched by {how}")
        if how == "created":
            summary.unmatched.append(f"{user.key} {user.name} <{user.email or 'no email'}>")
    rows = _new_rows(session, source.id, shifts, index, summary)
    insert_rows(session, OnCallShift, rows)
    if progress is not None:
        progress(len(shifts), len(shifts), "shifts written")
    finish_source(session, actor, source, summary)
    return summary


def _key(shift: ShiftRecord) -> tuple[str, str, datetime]:
    return (
        shift.schedule[:200],
        shift.person_key.removeprefix(pd.PERSON_PREFIX)[:80],
        shift.start.astimezone(UTC),
    )


def _new_rows(
    session: Session,
    source_id: int,
    shifts: list[ShiftRecord],
    index: PeopleIndex,
    summary: ImportSummary,
) -> list[dict[str, Any]]:
    if not shifts:
        return []
    schedules = {_key(s)[0] for s in shifts}
    first = min(s.start for s in shifts)
    last = max(s.start for s in shifts)
    known = {
        (schedule, person, start.astimezone(UTC))
        for schedule, person, start in session.execute(
            select(OnCallShift.schedule, OnCallShift.person_external, OnCallShift.start).where(
                OnCallShift.schedule.in_(schedules),
                OnCallShift.start >= first,
                OnCallShift.start <= last,
            )
        )
    }
    rows: list[dict[str, Any]] = []
    unknown: set[str] = set()
    added: set[tuple[str, str, datetime]] = set()
    for shift in shifts:
        key = _key(shift)
        if key in known:
            summary.count("already present")
            continue
        if key in added:
            summary.count("duplicates within the files")
            continue
        added.add(key)
        person_id = index.by_identity.get((SYSTEM, key[1]))
        if person_id is None:
            unknown.add(shift.person_key)
        rows.append(
            {
                "source_id": source_id,
                "schedule": key[0],
                "person_external": key[1],
                "person_id": person_id,
                "start": shift.start,
                "end": shift.end,
                "escalation_level": shift.escalation_level,
            }
        )
        summary.count("shifts")
    summary.unmatched.extend(f"{key} (no PagerDuty identity)" for key in sorted(unknown))
    return rows
