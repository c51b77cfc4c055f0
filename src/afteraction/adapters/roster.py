"""HR roster CSV files turned into people, teams and dated team memberships, and identity
matching between roster people and chat/paging identities.

Lives here: `parse_roster` (CSV → `Roster`) and `match_identities`. Does not live here:
persistence, Slack or PagerDuty parsing (their adapters produce the identities matched here).

Columns (header names are matched case-, space-, `_`- and `-`-insensitively; a `columns`
mapping can name others): name, email, location, title, team, department, manager (name or
email), startDate, endDate, timezone (`time_zone`, `tz`). Unrecognised columns are kept in
`Roster.extra_columns`. Team history, two ways:
- `previousTeam` + `teamChangeDate`: previous team from startDate to the change date, then
  `team` from the change date to endDate;
- `teamHistory`: `;`-separated entries `YYYY-MM-DD Team name`, each team from its date to the
  next entry's date (the last to endDate). It should end with the current `team`.
Dates: `YYYY-MM-DD`, `YYYY/MM/DD` or US `M/D/YYYY`.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from afteraction.core.errors import ImportFailed
from afteraction.core.evidence import MembershipRecord, PersonRecord

CsvRow = dict[str | None, Any]
"""One row of `csv.DictReader`: extra cells under None."""

_ALIASES: Mapping[str, str] = {
    "name": "name",
    "fullname": "name",
    "displayname": "name",
    "employeename": "name",
    "email": "email",
    "emailaddress": "email",
    "workemail": "email",
    "mail": "email",
    "location": "location",
    "office": "location",
    "title": "title",
    "jobtitle": "title",
    "team": "team",
    "department": "department",
    "dept": "department",
    "manager": "manager",
    "manageremail": "manager",
    "managername": "manager",
    "reportsto": "manager",
    "startdate": "start_date",
    "hiredate": "start_date",
    "start": "start_date",
    "enddate": "end_date",
    "terminationdate": "end_date",
    "leavedate": "end_date",
    "end": "end_date",
    "timezone": "time_zone",
    "tz": "time_zone",
    "previousteam": "previous_team",
    "teamchangedate": "team_change_date",
    "teamhistory": "team_history",
}


@dataclass
class Roster:
    people: list[PersonRecord] = field(default_factory=list)
    memberships: list[MembershipRecord] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    extra_columns: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class IdentityMatch:
    identity_key: str
    person_key: str
    by: str  # "email" or "name"


def normalise_name(name: str) -> str:
    """Casefold, strip accents and punctuation, collapse spaces: "José  O'Neil" → "jose o neil"."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", plain.casefold()).split())


def person_key_for(name: str, email: str | None) -> str:
    return email.strip().lower() if email else f"name:{name.strip()}"


# --------------------------------------------------------------------------- reading


def _read_text(path_or_stream: Path | str | IO[str] | IO[bytes]) -> tuple[str, str, list[str]]:
    """Return (text, source name, warnings) for a path or a text/binary stream."""
    if isinstance(path_or_stream, str | Path):
        path = Path(path_or_stream)
        try:
            raw: str | bytes = path.read_bytes()
        except OSError as exc:
            raise ImportFailed(f"cannot read file ({exc.strerror})", where=path.name) from exc
        source = path.name
    else:
        raw = path_or_stream.read()
        source = str(getattr(path_or_stream, "name", "roster.csv"))
    if not raw.strip():
        raise ImportFailed("the file is empty", where=source)
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff"), source, []
    return decode_bytes(raw, source)


def csv_table(text: str, source: str) -> tuple[list[str], Iterator[tuple[int, CsvRow]]]:
    """A CSV text's header and its (line number, row) pairs. A line the csv module cannot
    read (a field past its size limit, a NUL byte) is an ImportFailed naming the file and
    line, not a crash."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = list(reader.fieldnames or [])
    except csv.Error as error:
        raise ImportFailed(f"not readable as CSV ({error})", where=f"{source}: line 1") from None

    def rows() -> Iterator[tuple[int, CsvRow]]:
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                where = f"{source}: line {reader.line_num + 1}"  # the line it failed on
                raise ImportFailed(f"not readable as CSV ({error})", where=where) from None
            yield reader.line_num, row

    return header, rows()


def decode_bytes(raw: bytes, source: str) -> tuple[str, str, list[str]]:
    """UTF-8 (BOM optional); otherwise cp1252 with a warning naming the first bad byte."""
    try:
        return raw.decode("utf-8-sig"), source, []
    except UnicodeDecodeError as exc:
        text = raw.decode("cp1252", errors="replace")
        line = raw[: exc.start].count(b"\n") + 1
        return text, source, [f"{source}: not UTF-8 (line {line}); read as Windows-1252"]


def _parse_date(value: str, where: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    raise ImportFailed(f"{value!r} is not a date (YYYY-MM-DD or M/D/YYYY)", where=where)


# --------------------------------------------------------------------------- parsing


def parse_roster(
    path_or_stream: Path | str | IO[str] | IO[bytes],
    *,
    columns: Mapping[str, str] | None = None,
) -> Roster:
    """Parse an HR roster CSV. `columns` maps a header name to a field name (see module doc).

    Raises ImportFailed on a missing name/email header, a bad date (naming row and column)
    or a duplicate email (naming both rows). Rows with neither name nor email are skipped
    with a warning; managers that match nobody are kept as unresolved with a warning.
    """
    text, source, warnings = _read_text(path_or_stream)
    header, rows = csv_table(text, source)
    mapping = _map_header(header, columns or {})
    if "name" not in mapping.values() and "email" not in mapping.values():
        raise ImportFailed("no 'name' or 'email' column in the header", where=f"{source}: line 1")
    roster = Roster(warnings=warnings)
    rows_by_key: dict[str, int] = {}
    managers: dict[str, tuple[str, int]] = {}
    for line, row in rows:
        _read_row(row, line, source, mapping, roster, rows_by_key, managers)
    _resolve_managers(roster, managers, source)
    roster.teams = list(dict.fromkeys(m.team for m in roster.memberships))
    return roster


def _map_header(header: Iterable[str], columns: Mapping[str, str]) -> dict[str, str]:
    custom = {_squash(k): v for k, v in columns.items()}
    mapping: dict[str, str] = {}
    for name in header:
        squashed = _squash(name or "")
        target = custom.get(squashed) or _ALIASES.get(squashed)
        if target and target not in mapping.values():
            mapping[name] = target
    return mapping


def _squash(header: str) -> str:
    return re.sub(r"[\s_\-.]+", "", header.strip().removeprefix("\ufeff")).casefold()


def _read_row(
    row: dict[str | None, str | list[str] | None],
    line: int,
    source: str,
    mapping: dict[str, str],
    roster: Roster,
    rows_by_key: dict[str, int],
    managers: dict[str, tuple[str, int]],
) -> None:
    where = f"{source}: row {line}"
    values: dict[str, str] = {}
    extra: dict[str, str] = {}
    for header, raw in row.items():
        if header is None:  # more cells than headers
            roster.warnings.append(f"{where}: {len(raw or [])} cell(s) beyond the header ignored")
            continue
        value = raw.strip() if isinstance(raw, str) else ""
        if header in mapping:
            values[mapping[header]] = value
        else:
            extra[header] = value
    name, email = values.get("name", ""), values.get("email", "") or None
    if not name and not email:
        if any(v for v in values.values()):
            roster.warnings.append(f"{where}: no name and no email; row skipped")
        return
    key = person_key_for(name or (email or ""), email)
    if key in rows_by_key:
        raise ImportFailed(
            f"duplicate {'email' if email else 'name'} {key!r} in rows {rows_by_key[key]} and "
            f"{line}",
            where=where,
        )
    rows_by_key[key] = line
    start = _parse_date(values.get("start_date", ""), f"{where}, column startDate")
    end = _parse_date(values.get("end_date", ""), f"{where}, column endDate")
    roster.people.append(
        PersonRecord(
            key=key,
            name=name or (email or "").split("@")[0],
            email=email.lower() if email else None,
            time_zone=values.get("time_zone") or None,
            title=values.get("title") or None,
            department=values.get("department") or None,
            location=values.get("location") or None,
            start_date=start,
            end_date=end,
        )
    )
    if values.get("manager"):
        managers[key] = (values["manager"], line)
    if extra:
        roster.extra_columns[key] = extra
    roster.memberships.extend(_memberships(key, values, start, end, where, roster.warnings))


def _memberships(
    key: str,
    values: dict[str, str],
    start: date | None,
    end: date | None,
    where: str,
    warnings: list[str],
) -> list[MembershipRecord]:
    team = values.get("team", "")
    if values.get("team_history"):
        history = _history(values["team_history"], where)
        if team and history and history[-1][1] != team:
            warnings.append(f"{where}: teamHistory ends with {history[-1][1]!r}, team is {team!r}")
        return [
            MembershipRecord(key, name, since, history[i + 1][0] if i + 1 < len(history) else end)
            for i, (since, name) in enumerate(history)
        ]
    change = _parse_date(values.get("team_change_date", ""), f"{where}, column teamChangeDate")
    previous = values.get("previous_team", "")
    if previous and change is not None:
        records = [MembershipRecord(key, previous, start, change)]
        if team:
            records.append(MembershipRecord(key, team, change, end))
        return records
    if previous:
        warnings.append(f"{where}: previousTeam without teamChangeDate ignored")
    return [MembershipRecord(key, team, start, end)] if team else []


def _history(text: str, where: str) -> list[tuple[date, str]]:
    entries = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        stamp, _, team = part.partition(" ")
        when = _parse_date(stamp, f"{where}, column teamHistory")
        if when is None or not team.strip():
            raise ImportFailed(f"teamHistory entry {part!r} is not 'YYYY-MM-DD Team'", where=where)
        entries.append((when, team.strip()))
    return sorted(entries, key=lambda e: e[0])


def _resolve_managers(roster: Roster, managers: dict[str, tuple[str, int]], source: str) -> None:
    by_email = {p.email: p.key for p in roster.people if p.email}
    by_name: dict[str, list[str]] = {}
    for person in roster.people:
        by_name.setdefault(normalise_name(person.name), []).append(person.key)
    resolved: dict[str, str] = {}
    for key, (value, line) in managers.items():
        if "@" in value:
            found = [by_email[value.lower()]] if value.lower() in by_email else []
        else:
            found = by_name.get(normalise_name(value), [])
        if len(found) == 1:
            resolved[key] = found[0]
        else:
            problem = "matches several people" if found else "is not in the roster"
            roster.warnings.append(f"{source}: row {line}: manager {value!r} {problem}")
    roster.people = [
        replace(p, manager_key=resolved[p.key]) if p.key in resolved else p for p in roster.people
    ]


# --------------------------------------------------------------------------- identities


def match_identities(
    people: Iterable[PersonRecord], identities: Iterable[PersonRecord]
) -> tuple[list[IdentityMatch], list[PersonRecord]]:
    """Match Slack/PagerDuty identities to roster people.

    By email first (case-insensitive), then by normalised full name (casefolded, accents
    and punctuation stripped) — only names of two or more words that belong to exactly one
    roster person; a first name alone never matches. Returns (matches, unmatched identities).
    """
    people = list(people)
    by_email = {p.email.lower(): p.key for p in people if p.email}
    by_name: dict[str, list[str]] = {}
    for person in people:
        by_name.setdefault(normalise_name(person.name), []).append(person.key)
    matches: list[IdentityMatch] = []
    unmatched: list[PersonRecord] = []
    for identity in identities:
        email = (identity.email or "").lower()
        if email and email in by_email:
            matches.append(IdentityMatch(identity.key, by_email[email], "email"))
            continue
        name = normalise_name(identity.name)
        candidates = by_name.get(name, []) if len(name.split()) >= 2 else []
        if len(candidates) == 1:
            matches.append(IdentityMatch(identity.key, candidates[0], "name"))
        else:
            unmatched.append(identity)
    return matches, unmatched
