"""When the demo's historical incidents happen and how their milestones fall: start times
weighted to working hours, heavy-tailed durations, milestones left missing as real records
leave them, final statuses, and the customer-impact intervals that follow from them.

Pure functions of a seeded `random.Random` and the dates given: no clock, no I/O. The
generator (`generate`) calls them in a fixed order, so the same seed gives the same history.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta


def lognormal_minutes(rng: random.Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median), sigma)


def start_times(rng: random.Random, count: int, first: datetime, last: datetime) -> list[datetime]:
    """Incident start times; more during European and American working hours."""
    hour_weights = [2, 2, 2, 2, 2, 2, 3, 4, 6, 8, 9, 9, 9, 9, 10, 10, 10, 9, 8, 7, 6, 5, 4, 3]
    span_days = (last - first).days
    starts = []
    for _ in range(count):
        day = first + timedelta(days=rng.randrange(span_days))
        hour = rng.choices(range(24), weights=hour_weights)[0]
        starts.append(day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60)))
    return sorted(starts)


def timings(rng: random.Random, severity: str, kind: str) -> dict[str, float]:
    """Minutes after `started` for each milestone (durations skewed, severity a weak factor)."""
    if kind in ("gameday", "maintenance"):
        total = rng.uniform(45, 240)
        return {
            "detected": 0,
            "declared": 0,
            "acknowledged": 1,
            "mitigated": total * 0.8,
            "resolved": total,
        }
    factor = {"SEV1": 1.2, "SEV2": 1.0, "SEV3": 0.9, "SEV4": 1.4}[severity]
    total = min(max(lognormal_minutes(rng, 80, 1.35) * factor, 4.0), 14 * 24 * 60)
    detect = 0.0 if rng.random() < 0.2 else min(lognormal_minutes(rng, 5, 1.1), 0.4 * total)
    ack = detect + min(lognormal_minutes(rng, 4, 1.0), 0.3 * (total - detect))
    declared = min(detect + lognormal_minutes(rng, 6, 1.0), total)
    mitigated = ack + (total - ack) * rng.betavariate(2, 2)
    return {
        "detected": detect,
        "declared": declared,
        "acknowledged": ack,
        "mitigated": mitigated,
        "resolved": total,
    }


def drop_some(rng: random.Random, milestones: dict[str, datetime | None], early: bool) -> None:
    """Leave some milestones missing, as real records do (more often in the early months)."""
    boost = 1.8 if early else 1.0
    for name, chance in (("detected", 0.045), ("acknowledged", 0.05), ("mitigated", 0.055)):
        if rng.random() < chance * boost:
            milestones[name] = None


def milestones(
    rng: random.Random, started: datetime, severity: str, kind: str, early: bool, limit: datetime
) -> dict[str, datetime | None]:
    offsets = timings(rng, severity, kind)
    ms: dict[str, datetime | None] = {"started": started}
    for name in ("detected", "declared", "acknowledged", "mitigated", "resolved"):
        ms[name] = min(started + timedelta(minutes=offsets[name]), limit).replace(microsecond=0)
    ms["closed"] = None
    if kind not in ("gameday", "maintenance"):
        drop_some(rng, ms, early)
    return ms


def settle(
    rng: random.Random, ms: dict[str, datetime | None], status: str, limit: datetime
) -> None:
    """Make milestones agree with the final status (active ones are not resolved yet)."""
    if status in ("triage", "declined", "merged"):
        for name in ("acknowledged", "mitigated", "resolved"):
            ms[name] = None
    elif status in ("investigating", "identified"):
        ms["acknowledged"] = ms["acknowledged"] or ms["declared"]
        ms["mitigated"] = ms["resolved"] = None
    elif status == "monitoring":
        ms["mitigated"] = ms["mitigated"] or ms["resolved"]
        ms["resolved"] = None
    if status == "closed":
        resolved = ms["resolved"]
        assert resolved is not None
        closed = min(resolved + timedelta(hours=lognormal_minutes(rng, 30, 1.0)), limit)
        ms["closed"] = closed.replace(microsecond=0)


def statuses(rng: random.Random, starts: list[datetime], today: date) -> list[str]:
    """Final status per incident: mostly closed, recent ones resolved, a handful active."""
    count = len(starts)
    statuses = ["closed"] * count
    recent = [i for i, s in enumerate(starts) if (today - s.date()).days <= 45]
    for i in recent:
        if rng.random() < 0.5:
            statuses[i] = "resolved"
    for i, status in zip(
        rng.sample(recent, 4), ("monitoring", "identified", "investigating", "triage"), strict=True
    ):
        statuses[i] = status
    older = [i for i in range(count) if i not in recent]
    picks = rng.sample(older, 8)
    for i, status in zip(picks, ["declined"] * 3 + ["merged"] * 2 + ["resolved"] * 3, strict=True):
        statuses[i] = status
    return statuses


def impacts(
    number: int, kind: str, ms: dict[str, datetime | None]
) -> tuple[tuple[datetime, datetime | None], ...]:
    """Customers are affected from started until mitigated; every seventh incident relapses
    between mitigation and resolution. No random draw, so the rest of the sample is unchanged;
    planned work and incidents without a start record no impact (missing, never zero)."""
    started, mitigated, resolved = ms.get("started"), ms.get("mitigated"), ms.get("resolved")
    if kind != "default" or started is None:
        return ()
    end = mitigated or resolved
    if (end is None and ms.get("closed") is not None) or (end is not None and end < started):
        return ()  # over but not recorded when customers stopped being affected, or garbled
    first = (started, end)
    if number % 7 or mitigated is None or resolved is None or resolved <= mitigated:
        return (first,)
    gap = resolved - mitigated
    return (first, (mitigated + gap / 3, mitigated + gap / 2))
