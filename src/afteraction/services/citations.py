"""Evidence cited by analysis notes (themes, contributing factors, ...) and timeline
entries: the one check that a citation is evidence of the incident, and what a citation
shows a person (its time, who, and its text; never an internal id).

A citation is `{"type", "id"}` with type one of `EVIDENCE_TYPES`:

- `message`: a message of a channel attached to the incident, inside the attached window,
  not hidden or deleted in the source (`incident_message`);
- `cue`: a cue of the incident's call transcript, never of an interview (`incident_cue`);
- `page`: a paging log entry of the incident, or of a PagerDuty incident linked to it (the
  same rule as the Transcript tab, `storage.transcript.incident_pages`);
- `person`: one of the incident's people, as the People tab counts them (the evidence
  bundle of `storage.analysis_bundle`);
- `entry`: an entry of the incident's timeline.

The incident is always looked up through `services.incidents.get_incident` first, so an
item is visible to whoever may see the incident it is evidence of, and to nobody else:
an item of another incident is refused with the same message whether or not it exists.
Writes that store citations (`services.analysis`, `services.timeline`) call
`check_evidence`; the pages that show a citation before it is saved call `preview`. What a
report cites, and the claim check compares with, is `cited_moments`: the stored citations
checked again, as moments on the timeline (`core.timeline.TimelineItem`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core import times
from afteraction.core.access import Actor
from afteraction.core.errors import NotFound, ValidationError
from afteraction.core.timeline import TimelineItem
from afteraction.services import incidents as repo
from afteraction.storage.analysis_bundle import build_incident_evidence
from afteraction.storage.analysis_tables import TimelineEntry
from afteraction.storage.evidence_tables import (
    Channel,
    IncidentChannel,
    Message,
    Page,
    TranscriptCue,
)
from afteraction.storage.tables import Incident, Person
from afteraction.storage.transcript import incident_pages

EVIDENCE_TYPES = ("message", "page", "cue", "person", "entry")
MAX_CITATIONS = 200
TYPE_LABELS = {
    "message": "message",
    "page": "page",
    "cue": "call",
    "person": "person",
    "entry": "timeline entry",
}


@dataclass(frozen=True, slots=True)
class Citation:
    """One cited item as a person sees it: `who` said or is it, `at` when, `text` what,
    `where` (a channel, the call, paging, the timeline). `ref` is the form value."""

    type: str
    id: int
    at: datetime | None
    who: str
    text: str
    where: str

    @property
    def ref(self) -> str:
        return f"{self.type}:{self.id}"

    def href(self, public_id: str) -> str:
        """Where it lives in incident `public_id`: the transcript at its moment, the
        person, the timeline entry."""
        base = f"/incidents/{public_id}"
        if self.type in ("message", "cue", "page"):
            at = times.local_input(self.at)
            return f"{base}/transcript?at={at}&time_zone=UTC#{self.type[0]}{self.id}"
        if self.type == "person":
            return f"{base}/people#person-{self.id}"
        return f"{base}/timeline#entry-{self.id}"


# -- one item of an incident ----------------------------------------------------------------


def _message_rows(incident_id: int, ids: Iterable[int]) -> Any:
    """The messages `ids` with what decides whether each is evidence of the incident."""
    return (
        select(
            Message.id,
            Message.at,
            Message.channel_id,
            Message.author_person_id,
            Message.hidden,
            Message.subtype,
            IncidentChannel.since,
            IncidentChannel.until,
            IncidentChannel.channel_id.label("attached"),
        )
        .outerjoin(
            IncidentChannel,
            (IncidentChannel.channel_id == Message.channel_id)
            & (IncidentChannel.incident_id == incident_id),
        )
        .where(Message.id.in_(list(ids)))
    )


def _message_refusal(row: Any) -> str | None:
    """Why message `row` (of `_message_rows`) is not evidence of the incident, or None."""
    outside = (row.since is not None and row.at < row.since) or (
        row.until is not None and row.at >= row.until
    )
    if row.attached is None or outside:
        return (
            f"message {row.id} is not evidence of this incident (its channel is not "
            "attached, or it falls outside the attached window)"
        )
    if row.hidden or row.subtype == "tombstone":
        return (
            f"message {row.id} was deleted or hidden in the source; its text is gone, so "
            "annotate a neighbouring message or a time range instead"
        )
    return None


def incident_message(
    session: Session, incident_id: int, message_id: int, name: str = "message_id"
) -> Any:
    """The message row (id, at, channel, author, hidden, subtype) if it is evidence of this
    incident: in a channel attached to it and inside the attached window."""
    row = session.execute(_message_rows(incident_id, [message_id])).first()
    if row is None:
        raise NotFound("message", str(message_id))
    refusal = _message_refusal(row)
    if refusal is not None:
        raise ValidationError(refusal, field=name)
    return row


def _cue_refusal(cue_id: int) -> str:
    return f"cue {cue_id} is not evidence of this incident"


def incident_cue(session: Session, incident_id: int, cue_id: int, name: str = "cue_id") -> Any:
    """The cue row (id, at) if it is from this incident's call (not an interview)."""
    cue = session.execute(
        select(TranscriptCue.id, TranscriptCue.at, TranscriptCue.incident_id).where(
            TranscriptCue.id == cue_id
        )
    ).first()
    if cue is None or cue.incident_id != incident_id:
        raise ValidationError(_cue_refusal(cue_id), field=name)
    return cue


# -- checking citations ---------------------------------------------------------------------

SHAPE = f"evidence links are {{type: {'/'.join(EVIDENCE_TYPES)}, id: number}}"


class _Checker:
    """Checks citations of one incident, one query per type cited; the incident's people
    are gathered once, and only when a person is cited."""

    def __init__(self, session: Session, incident_id: int) -> None:
        self.session, self.incident_id = session, incident_id
        self._people: set[int] | None = None

    def people(self) -> set[int]:
        if self._people is None:
            evidence = build_incident_evidence(self.session, self.incident_id, with_history=False)
            self._people = set(evidence.person_ids.values())
        return self._people

    def check(
        self, links: Iterable[Mapping[str, Any]]
    ) -> list[tuple[dict[str, Any] | None, str | None]]:
        """Each of `links` in order: (the citation as stored, None) when it is evidence of
        the incident, else (None, why not)."""
        shaped: list[tuple[str, int] | None] = []
        wanted: dict[str, set[int]] = {}
        for link in links:
            kind, ident = link.get("type"), link.get("id")
            if kind not in EVIDENCE_TYPES or not isinstance(ident, int) or isinstance(ident, bool):
                shaped.append(None)
                continue
            shaped.append((str(kind), ident))
            wanted.setdefault(str(kind), set()).add(ident)
        refusals = {kind: self._refusals(kind, ids) for kind, ids in wanted.items()}
        out: list[tuple[dict[str, Any] | None, str | None]] = []
        for item in shaped:
            if item is None:
                out.append((None, SHAPE))
                continue
            kind, ident = item
            refusal = refusals[kind].get(ident)
            out.append((None, refusal) if refusal else ({"type": kind, "id": ident}, None))
        return out

    def _refusals(self, kind: str, ids: set[int]) -> dict[int, str]:
        """id → why it is not evidence of the incident, for those of `ids` that are not."""
        session, incident_id = self.session, self.incident_id
        found: dict[int, str | None]
        if kind == "message":
            rows = session.execute(_message_rows(incident_id, ids))
            found = {row.id: _message_refusal(row) for row in rows}
        elif kind == "cue":
            cues = select(TranscriptCue.id, TranscriptCue.incident_id)
            rows = session.execute(cues.where(TranscriptCue.id.in_(ids)))
            found = {
                r.id: None if r.incident_id == incident_id else _cue_refusal(r.id) for r in rows
            }
            found |= {i: _cue_refusal(i) for i in ids if i not in found}
        elif kind == "page":
            pages = select(Page.id).where(Page.id.in_(ids), incident_pages(incident_id))
            found = dict.fromkeys(session.scalars(pages))
        elif kind == "person":
            found = dict.fromkeys(ids & self.people())
        else:
            entries = select(TimelineEntry.id).where(
                TimelineEntry.id.in_(ids), TimelineEntry.incident_id == incident_id
            )
            found = dict.fromkeys(session.scalars(entries))
        generic = f"{TYPE_LABELS[kind]} {{}} is not evidence of this incident"
        out = {i: refusal for i, refusal in found.items() if refusal}
        return out | {i: generic.format(i) for i in ids if i not in found}


def check_evidence(
    session: Session, incident_id: int, links: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The citations `links` ({"type", "id"}) as stored, each checked against this incident;
    the first that is not its evidence is a ValidationError naming `evidence`. A citation
    given twice is kept once."""
    if len(links) > MAX_CITATIONS:
        raise ValidationError(f"cite at most {MAX_CITATIONS} items", field="evidence")
    clean: list[dict[str, Any]] = []
    for checked, refusal in _Checker(session, incident_id).check(links):
        if checked is None:
            raise ValidationError(refusal or SHAPE, field="evidence")
        if checked not in clean:
            clean.append(checked)
    return clean


def preview(
    session: Session, actor: Actor, key: str | int, links: Sequence[Mapping[str, Any]]
) -> tuple[list[Citation], list[str]]:
    """What a note form shows before saving: the citations that are evidence of this
    incident, as a person reads them, and why each of the others was refused."""
    incident = repo.get_incident(session, actor, key)
    kept, refusals = _still_evidence(_Checker(session, incident.id), links[:MAX_CITATIONS])
    return citations(session, kept), refusals


def _still_evidence(
    checker: _Checker,
    links: Iterable[Mapping[str, Any]],
    types: Sequence[str] | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """(the citations among `links` that are evidence of the checker's incident, each once;
    why each of the others was refused). With `types`, citations of other types are
    skipped without a word."""
    if types is not None:
        links = [link for link in links if link.get("type") in types]
    kept: list[dict[str, Any]] = []
    refusals: list[str] = []
    for checked, refusal in checker.check(links):
        if checked is None:
            refusals.append(refusal or SHAPE)
        elif checked not in kept:
            kept.append(checked)
    return kept, refusals


MOMENT_TYPES = ("message", "page", "cue", "entry")
"""The citations that are moments (a person cited is not)."""
QUOTED_CHARACTERS = 160


def cited_moments(
    session: Session, incident: Incident, links: Iterable[Mapping[str, Any]]
) -> list[TimelineItem]:
    """The stored citations `links` that are moments and still evidence of `incident`,
    checked again as when they were stored (a message hidden or deleted since, a channel
    detached, a row gone: left out), in time order: `text` says where, who and, quoted,
    what; `kind` is the citation's type; `link` points at it. Interview material is never
    among them: a cue is one of the incident's call, never of an interview, and an
    interview's quotes are not citations. A person cited is no moment and is left out."""
    kept, _ = _still_evidence(_Checker(session, incident.id), links, MOMENT_TYPES)
    out = [
        TimelineItem(times.from_storage(c.at), _said(c), c.type, c.href(incident.public_id))
        for c in citations(session, kept)
        if c.at is not None
    ]
    return sorted(out, key=lambda item: item.at)


def _said(c: Citation) -> str:
    """Where, who and, quoted (curly quotes inside made straight), what."""
    text = " ".join(c.text.replace("“", '"').replace("”", '"').split())
    if len(text) > QUOTED_CHARACTERS:
        text = text[: QUOTED_CHARACTERS - 1].rstrip() + "…"
    if text.count("`") % 2:  # a code span cut in two would run on past the quotation
        head, _, tail = text.rpartition("`")
        text = head + tail
    where = f"{c.where}, {c.who}" if c.who else c.where
    return f"{where}: “{text}”" if text else where


# -- showing citations ----------------------------------------------------------------------


def citations(session: Session, links: Iterable[Mapping[str, Any]]) -> list[Citation]:
    """Stored citations in their order, as a person reads them; one whose row is gone is
    left out."""
    links = list(links)
    shown = _shown(session, links)
    refs = [(str(link.get("type")), int(link.get("id", 0))) for link in links]
    return [shown[ref][0] for ref in refs if ref in shown]


def evidence_labels(
    session: Session, links: Iterable[Mapping[str, Any]]
) -> dict[tuple[str, int], dict[str, Any]]:
    """(type, id) → {"at", "label", "channel_id", "person_id"} for showing and filtering
    stored evidence (one query per type)."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for ref, (found, channel_id, person_id) in _shown(session, list(links)).items():
        text = found.text[:80]
        label = f"{found.who}: {text}" if found.who and text else (found.who or text)
        out[ref] = {
            "at": found.at,
            "label": label,
            "channel_id": channel_id,
            "person_id": person_id,
        }
    return out


def _shown(
    session: Session, links: Sequence[Mapping[str, Any]]
) -> dict[tuple[str, int], tuple[Citation, int | None, int | None]]:
    """(type, id) → (the citation, its channel id, its person id), one query per type."""
    wanted: dict[str, set[int]] = {}
    for link in links:
        wanted.setdefault(str(link.get("type")), set()).add(int(link.get("id", 0)))
    out = {}
    for kind, reader in _READERS.items():
        if wanted.get(kind):
            for found in reader(session, wanted[kind]):
                out[(kind, found[0].id)] = found
    return out


Shown = Iterable[tuple[Citation, int | None, int | None]]


def _messages(session: Session, ids: set[int]) -> Shown:
    query = (
        select(
            Message.id,
            Message.at,
            Message.author_name,
            Message.text_plain,
            Message.channel_id,
            Message.author_person_id,
            Message.is_bot,
            Channel.name,
            Person.name.label("person"),
        )
        .join(Channel, Channel.id == Message.channel_id)
        .outerjoin(Person, Person.id == Message.author_person_id)
        .where(Message.id.in_(ids))
    )
    for row in session.execute(query):
        # named as the timeline's suggestions name them, never by a raw id
        who = row.person or row.author_name or ("a bot" if row.is_bot else "someone unknown")
        citation = Citation("message", row.id, row.at, who, row.text_plain[:300], f"#{row.name}")
        yield citation, row.channel_id, row.author_person_id


def _pages(session: Session, ids: set[int]) -> Shown:
    query = (
        select(Page.id, Page.at, Page.kind, Page.summary, Page.person_id, Person.name)
        .outerjoin(Person, Person.id == Page.person_id)
        .where(Page.id.in_(ids))
    )
    for row in session.execute(query):
        text = f"page {row.kind}: {row.summary[:280]}".rstrip(": ")
        yield Citation("page", row.id, row.at, row.name or "", text, "paging"), None, row.person_id


def _cues(session: Session, ids: set[int]) -> Shown:
    query = (
        select(
            TranscriptCue.id,
            TranscriptCue.at,
            TranscriptCue.speaker,
            TranscriptCue.text,
            Person.name,
            TranscriptCue.person_id,
        )
        .outerjoin(Person, Person.id == TranscriptCue.person_id)
        .where(TranscriptCue.id.in_(ids))
    )
    for row in session.execute(query):
        who = row.name or row.speaker or "unknown speaker"
        yield Citation("cue", row.id, row.at, who, row.text[:300], "call"), None, row.person_id


def _people(session: Session, ids: set[int]) -> Shown:
    query = select(Person.id, Person.name, Person.title).where(Person.id.in_(ids))
    for row in session.execute(query):
        yield Citation("person", row.id, None, row.name, row.title or "", "people"), None, row.id


def _entries(session: Session, ids: set[int]) -> Shown:
    query = select(
        TimelineEntry.id, TimelineEntry.at, TimelineEntry.text, TimelineEntry.person_id
    ).where(TimelineEntry.id.in_(ids))
    for row in session.execute(query):
        citation = Citation("entry", row.id, row.at, "", row.text[:300], "timeline")
        yield citation, None, row.person_id


_READERS: dict[str, Callable[[Session, set[int]], Shown]] = {
    "message": _messages,
    "page": _pages,
    "cue": _cues,
    "person": _people,
    "entry": _entries,
}
