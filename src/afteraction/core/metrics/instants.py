"""Instants as whole microseconds since 1970-01-01 UTC, and local calendar months over them.

Lives here: `to_micros` / `from_micros` (exact both ways), `month_bounds` (the instants
where each local month begins, and whether a clock change sits near one) and `local_months`
(the month of each instant, converted one by one). The array metrics place incidents in
months with these; storage writes the same microseconds into the `*_us` columns.
Must not live here: parsing user-given times, or any metric.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo

from afteraction.core.errors import ValidationError
from afteraction.core.metrics._common import month_start, next_month

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
DAY_US = 86_400_000_000
_EDGE_US = 2 * DAY_US
"""Around a month boundary, a zone whose offset changes within this span is converted
instant by instant (offsets never move by more than a day)."""


def to_micros(moment: datetime) -> int:
    """A timezone-aware datetime as whole microseconds since 1970-01-01 UTC."""
    if moment.utcoffset() is None:
        raise ValidationError(f"naive datetime {moment!r} refused", field="milestones")
    return (moment - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def local_day(micros: int, zone: tzinfo) -> date:
    return from_micros(micros).astimezone(zone).date()


def month_bounds(low: int, high: int, zone: tzinfo) -> tuple[list[date], list[int], bool]:
    """The local calendar months from the one holding instant `low` to the one holding
    `high` (epoch microseconds): their first days, the instants where each month after the
    first begins, and whether the zone's offset moves near one of those instants (then
    bisecting the bounds is not exact, and `local_months` must be used)."""
    first = month_start(local_day(low, zone))
    last = month_start(local_day(high, zone))
    starts, bounds, unsafe = [first], [], False
    while starts[-1] < last:
        nxt = next_month(starts[-1])
        bound = to_micros(datetime.combine(nxt, datetime.min.time(), tzinfo=zone))
        unsafe = unsafe or _offset_moves(zone, bound)
        starts.append(nxt)
        bounds.append(bound)
    return starts, bounds, unsafe


def local_months(placed: Iterable[int | None], starts: list[date], zone: tzinfo) -> list[int]:
    """Per instant, the index in `starts` of its local month (-1 when None), converting
    instant by instant."""
    position = {s: k for k, s in enumerate(starts)}
    return [-1 if at is None else position[month_start(local_day(at, zone))] for at in placed]


def _offset_moves(zone: tzinfo, bound: int) -> bool:
    before = from_micros(bound - _EDGE_US).astimezone(zone).utcoffset()
    after = from_micros(bound + _EDGE_US).astimezone(zone).utcoffset()
    return before != after
