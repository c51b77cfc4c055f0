"""On-call load per person and per team, and fatigue warnings.

Lives here: classifying a page as off hours or night in the person's own time zone, load
figures over a window (`oncall_load`, `team_load`), off-call work (`off_call_work`) and
`fatigue_warnings`.
Must not live here: schedule or log parsing (importers), storage, presentation.

Definitions (also in `definitions.DEFINITIONS`):
- a page is `core.analysis.involvement`'s (`pages_from_log`: `notify` entries to one person
  for one PagerDuty incident within 5 minutes of the first are one page), and so is a
  person's first involvement in an incident (`first_involved`), which `Involvement` carries;
- off hours: local time before 08:00 or from 20:00; night: local 00:00 to before 06:00; the
  local time uses the person's IANA time zone, and a missing or unknown zone makes the page
  count under `unknown_time_zone` instead (never guessed);
- a run of consecutive pages continues while each page comes less than `run_gap` (1 h)
  after the previous one to the same person;
- weeks are ISO weeks (Monday 00:00 UTC), listed with zeros across the whole window.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from afteraction.core.analysis.involvement import MERGE_WINDOW, Page, pages_from_log
from afteraction.core.errors import ValidationError
from afteraction.core.evidence import MembershipRecord, PageRecord, PersonRecord, ShiftRecord
from afteraction.core.metrics._common import aware, teams_on, week_label, week_start
from afteraction.core.times import zone_or_none


@dataclass(frozen=True, slots=True)
class LoadRules:
    """How pages are counted; hours are local, `day_start_hour` ≤ day < `day_end_hour`."""

    day_start_hour: int = 8
    day_end_hour: int = 20
    night_end_hour: int = 6
    run_gap: timedelta = timedelta(hours=1)
    merge_window: timedelta = MERGE_WINDOW


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Fatigue warning thresholds; a warning is raised when a figure exceeds one.

    `pages_in_12h = 2` follows the Google SRE book ("Being On-Call": at most two incidents
    per 12-hour shift); the others are starting points to tune per organisation.
    """

    pages_per_week: int = 10
    off_hours_pages_per_week: int = 5
    night_pages_per_week: int = 1
    pages_in_12h: int = 2
    longest_run: int = 3


@dataclass(frozen=True, slots=True)
class Involvement:
    """A person's first involvement in an incident (`involvement.first_involved`)."""

    person_key: str
    incident_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class OffCallWork:
    """Incident ids a person worked on call, off call, or where schedules do not say."""

    on_call: tuple[str, ...] = ()
    off_call: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Load:
    """On-call load of a person (`key` = person key) or a team (`key` = team name)."""

    key: str
    people: tuple[str, ...]
    pages: int
    pages_per_week: float
    weekly: tuple[tuple[str, int], ...]
    weekly_off_hours: tuple[tuple[str, int], ...]
    weekly_night: tuple[tuple[str, int], ...]
    off_hours: int
    night: int
    unknown_time_zone: int
    heatmap: Mapping[tuple[int, int], int]
    longest_run: int
    longest_run_start: datetime | None
    busiest_12h: int
    off_call: OffCallWork = field(default_factory=OffCallWork)


@dataclass(frozen=True, slots=True)
class FatigueWarning:
    key: str
    kind: str
    value: int
    threshold: int
    period: str = ""


def _local_hour(at: datetime, zone: ZoneInfo | None) -> int | None:
    return None if zone is None else aware(at, "at").astimezone(zone).hour


def is_off_hours(
    at: datetime, time_zone: str | None, rules: LoadRules = LoadRules()
) -> bool | None:
    """True if `at` is outside day hours in `time_zone`; None when the zone is unknown."""
    hour = _local_hour(at, zone_or_none(time_zone))
    if hour is None:
        return None
    return not rules.day_start_hour <= hour < rules.day_end_hour


def is_night(at: datetime, time_zone: str | None, rules: LoadRules = LoadRules()) -> bool | None:
    """True if `at` is from 00:00 to before `night_end_hour` local; None if zone unknown."""
    hour = _local_hour(at, zone_or_none(time_zone))
    return None if hour is None else hour < rules.night_end_hour


def pages_before(pages: Iterable[Page], person_key: str, at: datetime, window: timedelta) -> int:
    """Pages to `person_key` in [at − window, at): e.g. the preceding 24 h or 7 days."""
    return sum(1 for p in pages if p.person_key == person_key and at - window <= p.at < at)


def _longest_run(times: Sequence[datetime], gap: timedelta) -> tuple[int, datetime | None]:
    best, best_start, length, start = 0, None, 0, None
    previous: datetime | None = None
    for moment in times:
        if previous is None or moment - previous >= gap:
            length, start = 0, moment
        length += 1
        if length > best:
            best, best_start = length, start
        previous = moment
    return best, best_start


def _busiest(times: Sequence[datetime], window: timedelta) -> int:
    best, low = 0, 0
    for high, moment in enumerate(times):
        while moment - times[low] >= window:
            low += 1
        best = max(best, high - low + 1)
    return best


def _weeks(start: datetime, end: datetime) -> list[str]:
    first = week_start(start.astimezone(UTC).date())
    last = week_start((end - timedelta(microseconds=1)).astimezone(UTC).date())
    count = (last - first).days // 7 + 1
    return [week_label(first + timedelta(days=7 * i)) for i in range(count)]


def _series(weeks: list[str], counter: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple((week, counter[week]) for week in weeks)


def _check_window(start: datetime, end: datetime) -> None:
    aware(start, "start")
    aware(end, "end")
    if end <= start:
        raise ValidationError("the window must end after it starts", field="end")


def _load(
    key: str,
    pages: Sequence[Page],
    zones: Mapping[str, ZoneInfo | None],
    window: tuple[datetime, datetime],
    rules: LoadRules,
) -> Load:
    start, end = window
    weeks = _weeks(start, end)
    weekly: Counter[str] = Counter()
    off_hours: Counter[str] = Counter()
    night: Counter[str] = Counter()
    heatmap: Counter[tuple[int, int]] = Counter()
    unknown = 0
    for page in pages:
        week = week_label(page.at.astimezone(UTC).date())
        weekly[week] += 1
        zone = zones.get(page.person_key)
        if zone is None:
            unknown += 1
            continue
        local = page.at.astimezone(zone)
        heatmap[(local.weekday(), local.hour)] += 1
        if not rules.day_start_hour <= local.hour < rules.day_end_hour:
            off_hours[week] += 1
        if local.hour < rules.night_end_hour:
            night[week] += 1
    runs = [_person_runs(pages, person, rules) for person in sorted(zones)]
    run, run_start, _ = max(runs, key=lambda r: r[0], default=(0, None, 0))
    busiest = max((r[2] for r in runs), default=0)
    return Load(
        key=key,
        people=tuple(sorted(zones)),
        pages=len(pages),
        pages_per_week=len(pages) / ((end - start) / timedelta(days=7)),
        weekly=_series(weeks, weekly),
        weekly_off_hours=_series(weeks, off_hours),
        weekly_night=_series(weeks, night),
        off_hours=sum(off_hours.values()),
        night=sum(night.values()),
        unknown_time_zone=unknown,
        heatmap=dict(heatmap),
        longest_run=run,
        longest_run_start=run_start,
        busiest_12h=busiest,
    )


def _person_runs(
    pages: Sequence[Page], person: str, rules: LoadRules
) -> tuple[int, datetime | None, int]:
    times = [p.at for p in pages if p.person_key == person]
    run, start = _longest_run(times, rules.run_gap)
    return run, start, _busiest(times, timedelta(hours=12))


def _zones(keys: Iterable[str], people: Mapping[str, PersonRecord]) -> dict[str, ZoneInfo | None]:
    return {k: zone_or_none(people[k].time_zone if k in people else None) for k in keys}


def oncall_load(
    pages: Iterable[PageRecord],
    people: Mapping[str, PersonRecord],
    *,
    start: datetime,
    end: datetime,
    shifts: Iterable[ShiftRecord] = (),
    involvements: Iterable[Involvement] = (),
    rules: LoadRules = LoadRules(),
) -> dict[str, Load]:
    """Load per person over [start, end), for everyone paged or involved in that window."""
    _check_window(start, end)
    merged = [
        p for p in pages_from_log(pages, merge_window=rules.merge_window) if start <= p.at < end
    ]
    worked = [i for i in involvements if start <= aware(i.at, "at") < end]
    off_call = off_call_work(worked, shifts)
    keys = {p.person_key for p in merged} | set(off_call)
    result = {}
    for key in sorted(keys):
        mine = [p for p in merged if p.person_key == key]
        load = _load(key, mine, _zones([key], people), (start, end), rules)
        result[key] = _with_off_call(load, [off_call.get(key, OffCallWork())])
    return result


def team_load(
    pages: Iterable[PageRecord],
    people: Mapping[str, PersonRecord],
    memberships: Sequence[MembershipRecord],
    *,
    start: datetime,
    end: datetime,
    shifts: Iterable[ShiftRecord] = (),
    involvements: Iterable[Involvement] = (),
    rules: LoadRules = LoadRules(),
) -> dict[str, Load]:
    """Load per team: each page (and involvement) counts for the teams its person belonged
    to on that UTC date. Local times stay each person's own; runs are per person (the team
    shows its longest). Pages to people in no team are not counted in any team."""
    _check_window(start, end)
    merged = [
        p for p in pages_from_log(pages, merge_window=rules.merge_window) if start <= p.at < end
    ]
    by_team: dict[str, list[Page]] = {}
    for page in merged:
        for team in teams_on(memberships, page.person_key, page.at.astimezone(UTC).date()):
            by_team.setdefault(team, []).append(page)
    worked: dict[str, list[Involvement]] = {}
    for item in involvements:
        if start <= aware(item.at, "at") < end:
            for team in teams_on(memberships, item.person_key, item.at.astimezone(UTC).date()):
                worked.setdefault(team, []).append(item)
    shift_list = list(shifts)
    result = {}
    for team in sorted(set(by_team) | set(worked)):
        mine = by_team.get(team, [])
        keys = {p.person_key for p in mine} | {i.person_key for i in worked.get(team, [])}
        load = _load(team, mine, _zones(keys, people), (start, end), rules)
        result[team] = _with_off_call(
            load, list(off_call_work(worked.get(team, []), shift_list).values())
        )
    return result


def _with_off_call(load: Load, parts: list[OffCallWork]) -> Load:
    merged = OffCallWork(
        tuple(i for p in parts for i in p.on_call),
        tuple(i for p in parts for i in p.off_call),
        tuple(i for p in parts for i in p.unknown),
    )
    return replace(load, off_call=merged)


def off_call_work(
    involvements: Iterable[Involvement], shifts: Iterable[ShiftRecord]
) -> dict[str, OffCallWork]:
    """Per person, incidents first joined while on call, off call, or unknown.

    On call = a shift of theirs (any schedule, any escalation level) covers the moment of
    first involvement. Outside the span covered by the imported shifts (earliest start to
    latest end of all of them), the answer is unknown rather than "off call".
    """
    shift_list = list(shifts)
    span_start = min((s.start for s in shift_list), default=None)
    span_end = max((s.end for s in shift_list), default=None)
    sorted_items = sorted(involvements, key=lambda i: (i.person_key, i.at, i.incident_id))
    buckets: dict[str, dict[str, list[str]]] = {}
    for item in sorted_items:
        person = buckets.setdefault(item.person_key, {"on": [], "off": [], "unknown": []})
        if span_start is None or span_end is None or not span_start <= item.at < span_end:
            person["unknown"].append(item.incident_id)
        elif any(
            s.person_key == item.person_key and s.start <= item.at < s.end for s in shift_list
        ):
            person["on"].append(item.incident_id)
        else:
            person["off"].append(item.incident_id)
    return {
        key: OffCallWork(tuple(b["on"]), tuple(b["off"]), tuple(b["unknown"]))
        for key, b in buckets.items()
    }


def fatigue_warnings(load: Load, thresholds: Thresholds = Thresholds()) -> list[FatigueWarning]:
    """Warnings for every figure in `load` above its threshold, weeks oldest first."""
    found: list[FatigueWarning] = []
    weekly_checks = (
        ("pages_per_week", load.weekly, thresholds.pages_per_week),
        ("off_hours_pages_per_week", load.weekly_off_hours, thresholds.off_hours_pages_per_week),
        ("night_pages_per_week", load.weekly_night, thresholds.night_pages_per_week),
    )
    for kind, series, limit in weekly_checks:
        found.extend(
            FatigueWarning(load.key, kind, n, limit, week) for week, n in series if n > limit
        )
    if load.busiest_12h > thresholds.pages_in_12h:
        found.append(
            FatigueWarning(load.key, "pages_in_12h", load.busiest_12h, thresholds.pages_in_12h)
        )
    if load.longest_run > thresholds.longest_run:
        when = load.longest_run_start.isoformat() if load.longest_run_start else ""
        found.append(
            FatigueWarning(load.key, "longest_run", load.longest_run, thresholds.longest_run, when)
        )
    return found
