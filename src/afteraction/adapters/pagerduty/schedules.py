"""PagerDuty users, schedules (rendered entries with overrides laid on top, clipped to a
window) and on-calls, turned into people and on-call shifts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from afteraction.adapters.pagerduty._payload import (
    PERSON_PREFIX,
    JsonInput,
    _optional_time,
    _ref_id,
    _ref_summary,
    _require_object,
    _type_name,
    parse_time,
    unwrap_list,
    user_key,
)
from afteraction.core.errors import ImportFailed
from afteraction.core.evidence import PersonRecord, ShiftRecord

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
