"""The queries behind global search and "similar past incidents": which documents and which
incidents an actor may find, behind one interface.

Lives here: the `DocumentKind` protocol with `register()` (other modules add annotations,
reports... by registering a kind), the built-in kinds (incidents, action items, messages),
`find()`, and the candidates and texts `similar_candidates()` reads for ranking.
Must not live here: how hits and similar incidents are ranked or what a query's words are
(`core.ranking`), validation of a request and the choice of model (`services.search`),
presentation, or any privacy rule other than those of `visibility`.

Engines: messages use SQLite FTS5 (`messages_fts`, ranked by bm25) or PostgreSQL full text
(`to_tsvector('simple', text_plain)`, GIN index, ranked by ts_rank); only the newest
`SEARCH_CANDIDATES` visible matches are scored, so a common word stays fast. Incidents and action
items are few enough for a case-insensitive match of every word on both databases.

Privacy (decided here, documented in docs/metrics.md):
- incidents and their action items: only those `visibility_clause(actor)` allows;
- a message inside the window (`since`/`until`) for which its channel is attached to an
  incident the actor can see: visible, with a link to that incident; the window is the one
  the incident's transcript shows (`visibility.in_window`), so a channel attached to a
  public incident for one window and to a private one for another shows the public window
  only;
- a message that only windows of incidents the actor cannot see hold: never;
- archive messages (held by no incident's window, or in channels attached to no incident):
  investigators and admins only, because they were imported for investigation and were
  never reviewed for an incident.

Similar incidents are chosen among at most `SIMILAR_CANDIDATES` visible incidents, none
started after the target, that share a service, a tag or a distinctive word with it; with
semantic ranking, also the newest `core.ranking.SEMANTIC_CANDIDATES` of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    and_,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from afteraction.core.access import Actor
from afteraction.core.ranking import (
    SEMANTIC_CANDIDATES,
    Hit,
    IncidentText,
    distinctive_words,
    snippet,
    text_score,
)
from afteraction.storage.evidence_tables import Channel, ImportedReport, IncidentChannel, Message
from afteraction.storage.tables import (
    ActionItem,
    Incident,
    IncidentService,
    IncidentTag,
    Service,
)
from afteraction.storage.visibility import in_window, visibility_clause

SIMILAR_CANDIDATES = 2000
SEARCH_CANDIDATES = 1000
"""Messages scored per search: the newest visible matches (see `_message_candidates`)."""
ARCHIVE_ROLES = frozenset({"admin", "investigator"})
FTS = table("messages_fts", column("rowid"), column("rank"))
"""The SQLite FTS5 index of `messages.text_plain` (created by migration 0002)."""


class DocumentKind(Protocol):
    """A searchable kind of document. `search` returns at most `limit` hits the actor may
    see, best first; `terms` are the lower-cased words of the query (`core.ranking.terms_of`)."""

    name: str
    label: str

    def search(
        self, session: Session, actor: Actor, terms: Sequence[str], limit: int
    ) -> list[Hit]: ...


_KINDS: dict[str, DocumentKind] = {}


def register(kind: DocumentKind) -> None:
    """Add (or replace) a document kind; searched in registration order."""
    _KINDS[kind.name] = kind


def kinds() -> list[tuple[str, str]]:
    return [(k.name, k.label) for k in _KINDS.values()]


def kind_names() -> list[str]:
    return list(_KINDS)


def find(session: Session, actor: Actor, kind: str, terms: Sequence[str], limit: int) -> list[Hit]:
    """At most `limit` hits of `kind` matching every one of `terms` that `actor` may see."""
    return _KINDS[kind].search(session, actor, terms, limit)


def _like_all(columns: Sequence[Any], terms: Sequence[str]) -> ColumnElement[bool]:
    clauses = []
    for term in terms:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        clauses.append(or_(*(c.ilike(pattern, escape="\\") for c in columns)))
    return and_(*clauses)


class IncidentKind:
    name = "incidents"
    label = "Incidents"

    def search(self, session: Session, actor: Actor, terms: Sequence[str], limit: int) -> list[Hit]:
        rows = session.execute(
            select(Incident.number, Incident.title, Incident.summary, Incident.started_at)
            .where(visibility_clause(actor), _like_all([Incident.title, Incident.summary], terms))
            .order_by(Incident.number.desc())
            .limit(limit * 5)
        ).all()
        hits = [
            Hit("incidents", f"INC-{n}", title, snippet(summary or title, terms),
                f"/incidents/INC-{n}", at, text_score(title, summary, terms))
            for n, title, summary, at in rows
        ]  # fmt: skip
        return sorted(hits, key=lambda h: -h.score)[:limit]


class ActionItemKind:
    name = "action_items"
    label = "Action items"

    def search(self, session: Session, actor: Actor, terms: Sequence[str], limit: int) -> list[Hit]:
        rows = session.execute(
            select(ActionItem.id, ActionItem.title, ActionItem.status, Incident.number,
                   ActionItem.created_at)
            .join(Incident, Incident.id == ActionItem.incident_id)
            .where(visibility_clause(actor), _like_all([ActionItem.title], terms))
            .order_by(ActionItem.id.desc())
            .limit(limit)
        ).all()  # fmt: skip
        return [
            Hit("action_items", str(i), title, f"{status} · INC-{n}", f"/incidents/INC-{n}", at,
                text_score(title, "", terms))
            for i, title, status, n, at in rows
        ]  # fmt: skip


def message_visibility(actor: Actor) -> ColumnElement[bool]:
    """Which messages `actor` may find (see the module docstring). An admin sees every
    incident, so every message is either in a visible window or in the archive."""
    shown: ColumnElement[bool] = Message.hidden.is_(False)
    if actor.is_admin:
        return shown
    held = (
        select(IncidentChannel.channel_id)
        .join(Incident, Incident.id == IncidentChannel.incident_id)
        .where(IncidentChannel.channel_id == Message.channel_id, in_window())
    )
    allowed: ColumnElement[bool] = held.where(visibility_clause(actor)).exists()
    if actor.role in ARCHIVE_ROLES:
        allowed = or_(allowed, ~held.exists())
    return and_(allowed, shown)


def fts5_query(terms: Sequence[str]) -> str:
    """Every term as a quoted FTS5 string (implicit AND): no operator can be injected."""
    return " ".join('"' + t.replace('"', '""') + '"' for t in terms)


class MessageKind:
    name = "messages"
    label = "Messages"

    def search(self, session: Session, actor: Actor, terms: Sequence[str], limit: int) -> list[Hit]:
        columns = (Message.id, Message.channel_id, Message.text_plain, Message.at,
                   Message.author_name, Channel.name)  # fmt: skip
        candidates = _message_candidates(session, actor, terms)
        found = (
            select(*columns, candidates.c.score)
            .join_from(candidates, Message, Message.id == candidates.c.id)
            .join(Channel, Channel.id == Message.channel_id)
            .order_by(candidates.c.score.desc(), Message.id.desc())
            .limit(limit)
        )
        rows = session.execute(found).all()
        links = _message_incidents(session, actor, {r[0] for r in rows})
        return [
            Hit("messages", str(mid), f"#{channel} · {author or 'unknown'}",
                snippet(body, terms), links.get(mid), at, float(score or 0))
            for mid, cid, body, at, author, channel, score in rows
        ]  # fmt: skip


def _message_candidates(session: Session, actor: Actor, terms: Sequence[str]) -> Any:
    """The newest `SEARCH_CANDIDATES` visible messages matching every term, with their score.

    The match and the visibility rule are applied together, newest first, and the scan stops
    at the cap; only those candidates are scored (SQLite: bm25 through FTS5's `rank`, which
    FTS5 computes only for the rows returned; PostgreSQL: ts_rank) and the caller orders
    them by score. Scoring every match would cost time proportional to how common the words
    are; capping keeps a query fast on millions of messages while ranking the recent ones.
    """
    if session.get_bind().dialect.name == "postgresql":
        vector = func.to_tsvector(literal_column("'simple'"), Message.text_plain)
        tsquery = func.plainto_tsquery(literal_column("'simple'"), " ".join(terms))
        newest = (
            select(Message.id)
            .where(vector.op("@@")(tsquery), message_visibility(actor))
            .order_by(Message.id.desc())
            .limit(SEARCH_CANDIDATES)
            .subquery()
        )
        return (
            select(Message.id.label("id"), func.ts_rank(vector, tsquery).label("score"))
            .join_from(newest, Message, Message.id == newest.c.id)
            .subquery()
        )
    match = text("messages_fts MATCH :match").bindparams(match=fts5_query(terms))
    return (
        select(FTS.c.rowid.label("id"), (-FTS.c.rank).label("score"))
        .join_from(FTS, Message, Message.id == FTS.c.rowid)
        .where(match, message_visibility(actor))
        .order_by(FTS.c.rowid.desc())
        .limit(SEARCH_CANDIDATES)
        .subquery()
    )


def _message_incidents(session: Session, actor: Actor, message_ids: set[int]) -> dict[int, str]:
    """Each message's link: the newest visible incident whose window holds it."""
    if not message_ids:
        return {}
    query = (
        select(Message.id, func.max(Incident.number))
        .join(IncidentChannel, IncidentChannel.channel_id == Message.channel_id)
        .join(Incident, Incident.id == IncidentChannel.incident_id)
        .where(Message.id.in_(message_ids), in_window(), visibility_clause(actor))
        .group_by(Message.id)
    )
    return {m: f"/incidents/INC-{n}" for m, n in session.execute(query)}


register(IncidentKind())
register(MessageKind())
register(ActionItemKind())


# -- similar incidents ---------------------------------------------------------------------------


def incident_text(session: Session, incident: Incident) -> IncidentText:
    """What similarity compares of `incident`, its imported report text included."""
    return IncidentText(
        incident.id, f"INC-{incident.number}", incident.title, incident.summary,
        incident.severity, incident.started_at, [s.slug for s in incident.services],
        list(incident.tags), _report_text(session, [incident.id]).get(incident.id, ""),
    )  # fmt: skip


def similar_candidates(
    session: Session, actor: Actor, target: IncidentText, *, semantic: bool = False
) -> tuple[list[IncidentText], set[int]]:
    """The visible incidents worth ranking against `target` (not itself, none started after
    it) and, with `semantic`, the ids of the newest ones, compared by meaning even when they
    share nothing."""
    words = distinctive_words(target)
    service_ids = select(Service.id).where(Service.slug.in_(list(target.services) or [""]))
    shared_link = or_(
        exists().where(
            IncidentService.incident_id == Incident.id,
            IncidentService.service_id.in_(service_ids),
        ),
        exists().where(
            IncidentTag.incident_id == Incident.id, IncidentTag.tag.in_(list(target.tags) or [""])
        ),
        *(Incident.title.ilike(f"%{w}%") for w in words if w.isalnum()),
    )
    base = (
        select(Incident.id, Incident.number, Incident.title, Incident.summary,
               Incident.severity, Incident.started_at)
        .where(visibility_clause(actor), Incident.id != target.id)
        .order_by(Incident.number.desc())
    )  # fmt: skip
    if target.started is not None:
        base = base.where(or_(Incident.started_at.is_(None), Incident.started_at <= target.started))
    rows = list(session.execute(base.where(shared_link).limit(SIMILAR_CANDIDATES)))
    newest: set[int] = set()
    if semantic:
        seen = {r[0] for r in rows}
        for row in session.execute(base.limit(SEMANTIC_CANDIDATES)):
            newest.add(row[0])
            if row[0] not in seen:
                rows.append(row)
    if not rows:
        return [], newest
    ids = [r[0] for r in rows]
    services = _by_incident(
        session,
        select(IncidentService.incident_id, Service.slug)
        .join(Service, Service.id == IncidentService.service_id)
        .where(IncidentService.incident_id.in_(ids)),
    )
    tags = _by_incident(
        session,
        select(IncidentTag.incident_id, IncidentTag.tag).where(IncidentTag.incident_id.in_(ids)),
    )
    reports = _report_text(session, ids)
    texts = [
        IncidentText(i, f"INC-{number}", title, summary, severity, started,
                     services.get(i, ()), tags.get(i, ()), reports.get(i, ""))
        for i, number, title, summary, severity, started in rows
    ]  # fmt: skip
    return texts, newest


def _by_incident(session: Session, query: Any) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for incident_id, value in session.execute(query):
        found.setdefault(incident_id, []).append(value)
    return found


def _report_text(session: Session, ids: Sequence[int]) -> dict[int, str]:
    query = select(ImportedReport.incident_id, ImportedReport.title, ImportedReport.body_markdown)
    out: dict[int, str] = {}
    for incident_id, title, body in session.execute(
        query.where(ImportedReport.incident_id.in_(ids))
    ):
        out[incident_id] = f"{out.get(incident_id, '')} {title} {body}"
    return out
