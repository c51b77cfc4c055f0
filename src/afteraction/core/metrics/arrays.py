"""Many incidents as numpy columns: what the dashboard's figures are computed over.

Lives here: `IncidentArrays` (the incidents column by column, in number order: severity,
type and problem as codes, milestones as epoch microseconds in float64 with NaN for "not
recorded", service and team `Links`), `IncidentArrays.from_facts`, and the read-only
sequences the figures hand out without copying (`Values`, a sorted array of seconds, and
`Listed`, incidents made only when read). Storage fills `IncidentArrays` from the database;
`figures.ArrayMetrics` computes every figure over them.
Must not live here: queries, or the metric rules themselves (see `figures.py`).

Why float64: an instant in microseconds is exact in float64 below 2**53 (until the year
2255), and so is the difference of two such instants; `duration / 1e6` then rounds the
same exact quotient that Python's `int / int` rounds, so every figure equals, bit for bit,
what exact integer arithmetic gives. Instants beyond 2255 (or before 1685) are held to
float64's precision there (a few microseconds): they are never refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast, overload

import numpy as np
import numpy.typing as npt

from afteraction.core.errors import ValidationError
from afteraction.core.incidents import MILESTONES
from afteraction.core.metrics.durations import IncidentFacts
from afteraction.core.metrics.instants import to_micros

T = TypeVar("T")
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

NO_CODE = -1
"""The code of the "(none)" group: no service, or no team."""


class Listed(Sequence[T]):
    """What a group lists (missing incidents, or those out of order), made when read: a
    group of 40,000 out-of-order gaps is usually only counted. Equal to any sequence with
    the same items."""

    __slots__ = ("make", "samples")

    def __init__(self, make: Callable[[int], T], samples: Ints) -> None:
        self.make, self.samples = make, samples

    def __len__(self) -> int:
        return len(self.samples)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self.make(i) for i in self.samples[index].tolist()]
        return self.make(int(self.samples[index]))

    def __iter__(self) -> Iterator[T]:
        return map(self.make, self.samples.tolist())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or len(other) != len(self):
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Listed({list(self)!r})"


class Values(Sequence[float]):
    """A sorted float64 array as a read-only sequence of Python floats (a distribution's
    values: 100,000 of them are read in about 25 places for a strip chart, never all
    copied). Equal to any sequence with the same values."""

    __slots__ = ("array",)

    def __init__(self, array: Floats) -> None:
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    @overload
    def __getitem__(self, index: int) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> list[float]: ...
    def __getitem__(self, index: int | slice) -> float | list[float]:
        if isinstance(index, slice):
            return cast(list[float], self.array[index].tolist())
        return float(self.array[index])

    def __iter__(self) -> Iterator[float]:
        return iter(cast(list[float], self.array.tolist()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Values):
            return bool(np.array_equal(self.array, other.array))
        if not isinstance(other, Sequence) or len(other) != len(self):
            return False
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Values({list(self)!r})"


@dataclass(frozen=True, slots=True)
class Links:
    """incident ↔ entity links: per link the incident's position (ascending) and the
    entity's code, codes being indexes into `names` (sorted)."""

    position: Ints
    code: Ints
    names: list[str]

    def of(self, positions: Ints) -> tuple[Ints, Ints]:
        """(index into `positions`, code) for every link of each of `positions`; a
        position without links gives one row with code -1 (the "(none)" group)."""
        if len(self.position) < 2 or bool(np.all(self.position[1:] > self.position[:-1])):
            # at most one link a position (the usual case): one row each, from a table
            size = max(int(self.position.max(initial=-1)), int(positions.max(initial=-1))) + 1
            table = np.full(size, NO_CODE, np.int64)
            table[self.position] = self.code
            return np.arange(len(positions), dtype=np.int64), table[positions]
        lo = np.searchsorted(self.position, positions, "left")
        per = np.searchsorted(self.position, positions, "right") - lo
        width = np.maximum(per, 1)
        rows = np.repeat(np.arange(len(positions), dtype=np.int64), width)
        within = np.arange(len(rows), dtype=np.int64) - np.repeat(np.cumsum(width) - width, width)
        codes = np.full(len(rows), NO_CODE, np.int64)
        linked = np.repeat(per > 0, width)
        codes[linked] = self.code[(np.repeat(lo, width) + within)[linked]]
        return rows, codes

    @classmethod
    def of_names(cls, names_per_incident: Sequence[Sequence[str]]) -> Links:
        """Links from each incident's names (position = index in the sequence)."""
        names = sorted({name for names in names_per_incident for name in names})
        code = {name: k for k, name in enumerate(names)}
        pairs = [(p, code[n]) for p, found in enumerate(names_per_incident) for n in found]
        return cls(np.array([p for p, _ in pairs], np.int64),
                   np.array([c for _, c in pairs], np.int64), names)  # fmt: skip

    def slugs(self, position: int) -> tuple[str, ...]:
        lo, hi = np.searchsorted(self.position, [position, position + 1]).tolist()
        return tuple(sorted(self.names[c] for c in self.code[lo:hi].tolist()))


@dataclass(frozen=True, slots=True)
class IncidentArrays:
    """The matching incidents in number order, one array entry per incident. Codes index
    the sorted `severity_names` and `type_names`; `problem` holds problem ids (0 = none)
    named by `problem_keys`. `services` and `teams` are None when they were not read;
    `links` names the figure that needed them."""

    numbers: Ints
    severity: Ints
    severity_names: list[str]
    type: Ints
    type_names: list[str]
    problem: Ints
    problem_keys: dict[int, str]
    milestones: dict[str, Floats]
    placed: Floats
    services: Links | None
    teams: Links | None

    def public_id(self, position: int) -> str:
        return f"INC-{int(self.numbers[position])}"

    def links(self, kind: str) -> Links:
        """The "service" or "team" links; an error when they were not read."""
        found = self.services if kind == "service" else self.teams
        if found is None:
            raise ValueError(f"the incidents' {kind} links were not read")
        return found

    def column(self, name: str) -> Floats:
        """A milestone's column (all NaN when not read)."""
        found = self.milestones.get(name)
        return found if found is not None else np.full(len(self.numbers), np.nan)

    @classmethod
    def from_facts(cls, facts: Iterable[IncidentFacts]) -> IncidentArrays:
        """The same incidents as arrays (every milestone; placed as `placed_at`). Public ids
        must read "INC-<number>"; incidents are put in number order."""
        rows = sorted(facts, key=lambda f: _number(f.public_id))
        severities = sorted({f.severity for f in rows})
        types = sorted({f.type for f in rows})
        keys = sorted({f.problem for f in rows if f.problem})

        def instants(values: Iterable[object]) -> Floats:
            return np.array(
                [np.nan if v is None else float(to_micros(cast(Any, v))) for v in values],
                np.float64,
            )

        return cls(
            numbers=np.array([_number(f.public_id) for f in rows], np.int64),
            severity=np.array([severities.index(f.severity) for f in rows], np.int64),
            severity_names=severities,
            type=np.array([types.index(f.type) for f in rows], np.int64),
            type_names=types,
            problem=np.array(
                [keys.index(f.problem) + 1 if f.problem else 0 for f in rows], np.int64
            ),  # fmt: skip
            problem_keys={k + 1: key for k, key in enumerate(keys)},
            milestones={n: instants(f.milestones.get(n) for f in rows) for n in MILESTONES},
            placed=instants(f.placed_at() for f in rows),
            services=Links.of_names([f.services for f in rows]),
            teams=Links.of_names([f.teams for f in rows]),
        )


def _number(public_id: str) -> int:
    prefix, _, digits = public_id.partition("-")
    if prefix != "INC" or not digits.isdigit():
        raise ValidationError(f"public id {public_id!r} is not INC-<number>", field="public_id")
    return int(digits)
