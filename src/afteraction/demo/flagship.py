"""The flagship demo incident, read from `data/flagship/`: the record its responders kept
(`incident.yaml`) and the analysis its investigator has under way (`analysis.yaml`, with the
interview notes it names): annotations, notes and the messages they cite, planned interviews,
and the claims the story makes, each with the value the product must compute for it.

The story is of one SEV1: a retry-policy config push that exhausted the ledger connection
pool. Its raw evidence (Slack export, PagerDuty REST responses, HR roster, review-meeting
transcript and chat) is kept as files in real formats in `evidence/flagship/`, which the
real importers read (`afteraction.demo.flagship_evidence`). Nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from afteraction.core.incidents import MILESTONES
from afteraction.demo.model import (
    DemoActionItem,
    DemoIncident,
    DemoOrg,
    DemoPerson,
    DemoReference,
    DemoRole,
    DemoUpdate,
)
from afteraction.demo.story import (
    StoryError,
    day,
    directory,
    fields,
    items,
    moment,
    read,
    read_text,
)

INCIDENT = "flagship/incident.yaml"
ANALYSIS = "flagship/analysis.yaml"
_LISTS = ("services", "teams", "tags", "impacts", "roles", "updates", "action_items", "references")
_ACTION_ITEM = ("title", "kind", "owner", "due", "status")
_SCALARS = ("title", "severity", "status", "type", "private", "problem", "summary")


def flagship_of(org: DemoOrg) -> DemoIncident:
    return next(incident for incident in org.incidents if incident.flagship)


class _Record:
    """Reads `incident.yaml`: people by roster key, times moved by `shift`."""

    def __init__(self, shift: timedelta) -> None:
        self.shift = shift
        self.keys: list[str] = []

    def person(self, key: object) -> str:
        self.keys.append(str(key))
        return directory().email(str(key))

    def at(self, value: object, where: str) -> datetime:
        return moment(value, f"{INCIDENT}: {where}") + self.shift

    def maybe_at(self, value: object, where: str) -> datetime | None:
        return None if value is None else self.at(value, where)

    def rows(
        self, top: dict[str, Any], name: str, keys: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        """The entries of the list `name`, each with `keys` and perhaps `optional` ones."""
        where = f"{INCIDENT}: {name}"
        return [
            fields(row, f"{where}[{i}]", keys, optional)
            for i, row in enumerate(items(top.get(name), where))
        ]


def build_flagship_incident(number: int, people: Iterable[DemoPerson], today: date) -> DemoIncident:
    """The flagship as a tracked incident, numbered `number`, for a demo built for `today`;
    every person it names must be among `people`."""
    top = fields(
        read(INCIDENT),
        INCIDENT,
        (*_SCALARS, "customer_impact", "milestones"),
        _LISTS,
    )
    record = _Record(directory().shift(today))
    given = fields(top["milestones"], f"{INCIDENT}: milestones", MILESTONES)
    ms = {name: record.maybe_at(given[name], f"milestones: {name}") for name in MILESTONES}
    incident = DemoIncident(
        number=number,
        title=top["title"],
        summary=top["summary"],
        severity=top["severity"],
        status=top["status"],
        type=top["type"],
        private=bool(top["private"]),
        services=tuple(top.get("services") or ()),
        teams=tuple(top.get("teams") or ()),
        tags=tuple(top.get("tags") or ()),
        customer_impact=top["customer_impact"],
        milestones=ms,
        roles=tuple(
            DemoRole(
                r["role"],
                record.person(r["person"]),
                record.at(r["start"], "roles"),
                record.maybe_at(r["end"], "roles"),
            )
            for r in record.rows(top, "roles", ("role", "person", "start", "end"))
        ),
        updates=tuple(
            DemoUpdate(
                record.at(u["at"], "updates"), u["status"], u["body"], record.person(u["author"])
            )
            for u in record.rows(top, "updates", ("at", "status", "author", "body"))
        ),
        action_items=tuple(
            DemoActionItem(
                a["title"],
                a["kind"],
                record.person(a["owner"]),
                day(a["due"], f"{INCIDENT}: action_items: due") + record.shift,
                a["status"],
                a.get("url", ""),
            )
            for a in record.rows(top, "action_items", _ACTION_ITEM, ("url",))
        ),
        references=tuple(
            DemoReference(r["kind"], r["url"], r["title"])
            for r in record.rows(top, "references", ("kind", "url", "title"))
        ),
        problem=top["problem"],
        flagship=True,
        impacts=tuple(
            (record.at(i["start"], "impacts"), record.maybe_at(i["end"], "impacts"))
            for i in record.rows(top, "impacts", ("start", "end"))
        ),
    )
    known = {person.email for person in people}
    missing = sorted({directory().email(k) for k in record.keys} - known)
    if missing:
        raise ValueError(f"flagship cast missing from the organisation: {missing}")
    return incident


@dataclass(frozen=True, slots=True)
class Annotation:
    """A tag and note on the message with Slack timestamp `ts`, whose text holds `quote`."""

    ts: str
    quote: str
    tag: str
    note: str


@dataclass(frozen=True, slots=True)
class Note:
    """An analysis note and the messages (Slack timestamps) it cites."""

    kind: str
    text: str
    cites: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlannedInterview:
    """An interview the investigator planned: the person (roster key), confidential notes."""

    person: str
    notes: str


@dataclass(frozen=True, slots=True)
class Claim:
    """A fact stated in the story (`says`, quoted from `source`) and the value the product
    must compute for it from the evidence. `fact` names what is computed; `person` (roster
    key), `ts`, `milestone` and `role` say of what."""

    source: str
    says: str
    fact: str
    value: object
    person: str | None = None
    ts: str | None = None
    milestone: str | None = None
    role: str | None = None


CLAIM_SOURCES = ("note", "record", "transcript", "interview")
CLAIM_FACTS = (
    "pages", "notifications", "phone_calls", "pages_prev_24h", "first_page", "first_involved",
    "first_message", "on_call", "local_time", "tenure_days", "left_team", "message",
    "milestone", "role", "interviews",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class FlagshipAnalysis:
    """The investigator's work so far (`analysis.yaml` and the interview notes it names)."""

    annotations: tuple[Annotation, ...]
    notes: tuple[Note, ...]
    interviews: tuple[PlannedInterview, ...]
    claims: tuple[Claim, ...]


def flagship_analysis() -> FlagshipAnalysis:
    top = fields(read(ANALYSIS), ANALYSIS, ("annotations", "notes", "interviews", "claims"))
    annotations = [
        fields(row, f"{ANALYSIS}: annotations[{i}]", ("ts", "quote", "tag", "note"))
        for i, row in enumerate(items(top["annotations"], f"{ANALYSIS}: annotations"))
    ]
    notes = [
        fields(row, f"{ANALYSIS}: notes[{i}]", ("kind", "text", "cites"))
        for i, row in enumerate(items(top["notes"], f"{ANALYSIS}: notes"))
    ]
    interviews = [
        fields(row, f"{ANALYSIS}: interviews[{i}]", ("person",), ("notes",))
        for i, row in enumerate(items(top["interviews"], f"{ANALYSIS}: interviews"))
    ]
    return FlagshipAnalysis(
        annotations=tuple(
            Annotation(str(a["ts"]), str(a["quote"]), a["tag"], a["note"] or "")
            for a in annotations
        ),
        notes=tuple(
            Note(n["kind"], n["text"], tuple(str(ts) for ts in items(n["cites"], ANALYSIS)))
            for n in notes
        ),
        interviews=tuple(
            PlannedInterview(
                str(i["person"]),
                read_text(f"flagship/{i['notes']}").strip() if i.get("notes") else "",
            )
            for i in interviews
        ),
        claims=tuple(
            _claim(row, f"{ANALYSIS}: claims[{i}]")
            for i, row in enumerate(items(top["claims"], f"{ANALYSIS}: claims"))
        ),
    )


def _claim(value: object, where: str) -> Claim:
    row = fields(
        value, where, ("source", "says", "fact", "value"), ("person", "ts", "milestone", "role")
    )
    if row["source"] not in CLAIM_SOURCES:
        raise StoryError(f"{where}: source must be one of {', '.join(CLAIM_SOURCES)}")
    if row["fact"] not in CLAIM_FACTS:
        raise StoryError(f"{where}: fact must be one of {', '.join(CLAIM_FACTS)}")
    if row["fact"] == "message" and not row.get("ts"):
        raise StoryError(f"{where}: a message claim names the message's ts")
    if row["fact"] == "milestone" and row.get("milestone") not in MILESTONES:
        raise StoryError(f"{where}: a milestone claim names one of {', '.join(MILESTONES)}")
    if row["fact"] == "role" and not (row.get("role") and row.get("person")):
        raise StoryError(f"{where}: a role claim names the role and the person")
    value = row["value"]
    if isinstance(value, datetime):
        value = moment(value, f"{where}: value")
    return Claim(
        source=str(row["source"]),
        says=" ".join(str(row["says"]).split()),
        fact=str(row["fact"]),
        value=value,
        person=row.get("person"),
        ts=str(row["ts"]) if row.get("ts") else None,
        milestone=row.get("milestone"),
        role=row.get("role"),
    )
