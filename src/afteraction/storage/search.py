"""Global search over everything afteraction stores, behind one interface, and lexical
"similar past incidents".

Lives here: `Hit`, `SearchResults`, the `DocumentKind` protocol with `register()` (other
modules add annotations, reports... by registering a kind), the built-in kinds (incidents,
action items, messages), `search()` and `similar_incidents()`.
Must not live here: presentation, or any privacy rule other than those of `visibility`.

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

Similar incidents are ranked by TF-IDF cosine similarity over title (weight 2), summary,
services (2), tags (1.5) and imported report text, among at most `SIMILAR_CANDIDATES`
visible incidents that share a service, a tag or a distinctive word. It is written by hand
because it needs no index and no model. With an `embed` function (the optional local
sentence-embedding model, `adapters.embeddings`, passed in by the web layer) the newest
`SEMANTIC_CANDIDATES` earlier visible incidents and as many of the best lexical matches are
compared by meaning (at most 600 texts embedded, once per process each), and the score
becomes the mean of the lexical and the semantic similarity (`blend`), so an incident that
says the same thing in other words is found too.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
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
from afteraction.core.errors import ValidationError
from afteraction.storage.evidence_tables import Channel, ImportedReport, IncidentChannel, Message
from afteraction.storage.tables import (
    ActionItem,
    Incident,
    IncidentService,
    IncidentTag,
    Service,
)
from afteraction.storage.visibility import in_window, visibility_clause

MAX_QUERY = 200
MAX_TERMS = 8
SIMILAR_CANDIDATES = 2000
SEMANTIC_CANDIDATES = 300
"""Earlier incidents compared by meaning even when they share no word, service or tag."""
SEMANTIC_FLOOR = 0.45
"""Below this cosine, meaning alone does not make an incident similar (all-MiniLM-L6-v2
gives about 0.0-0.3 for unrelated incident titles and 0.5-0.9 for the same failure)."""
Embed = Callable[[Sequence[str]], Sequence[Sequence[float]]]
"""texts -> unit vectors, one per text."""
SEARCH_CANDIDATES = 1000
"""Messages scored per search: the newest visible matches (see `_message_candidates`)."""
ARCHIVE_ROLES = frozenset({"admin", "investigator"})
FTS = table("messages_fts", column("rowid"), column("rank"))
"""The SQLite FTS5 index of `messages.text_plain` (created by migration 0002)."""
_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    "a an and are as at be but by for from has have in is it its of on or that the this to "
    "was were will with we our not after before during".split()
)


@dataclass(frozen=True, slots=True)
class Hit:
    kind: str
    key: str
    title: str
    snippet: str
    url: str | None
    at: datetime | None
    score: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SearchResults:
    query: str
    terms: tuple[str, ...]
    hits: list[Hit]
    by_kind: Mapping[str, list[Hit]]


class DocumentKind(Protocol):
    """A searchable kind of document. `search` returns at most `limit` hits the actor may
    see, best first; `terms` are the lower-cased words of `query`."""

    name: str
    label: str

    def search(
        self, session: Session, actor: Actor, query: str, terms: Sequence[str], limit: int
    ) -> list[Hit]: ...


_KINDS: dict[str, DocumentKind] = {}


def register(kind: DocumentKind) -> None:
    """Add (or replace) a document kind; searched in registration order."""
    _KINDS[kind.name] = kind


def kinds() -> list[tuple[str, str]]:
    return [(k.name, k.label) for k in _KINDS.values()]


def terms_of(query: str) -> tuple[str, ...]:
    if len(query) > MAX_QUERY:
        raise ValidationError(f"search text is limited to {MAX_QUERY} characters", field="q")
    words = tuple(dict.fromkeys(w.lower() for w in _WORD.findall(query)))[:MAX_TERMS]
    if not words:
        raise ValidationError("type at least one word to search for", field="q")
    return words


def search(
    session: Session,
    actor: Actor,
    query: str,
    *,
    kinds: Iterable[str] | None = None,
    limit: int = 20,
) -> SearchResults:
    """Search every registered kind (or `kinds`), at most `limit` hits per kind."""
    terms = terms_of(query)
    wanted = list(kinds) if kinds else list(_KINDS)
    unknown = [k for k in wanted if k not in _KINDS]
    if unknown:
        raise ValidationError(
            f"unknown kind {unknown[0]!r}; known: {', '.join(_KINDS)}", field="kind"
        )
    if not 1 <= limit <= 100:
        raise ValidationError("limit must be between 1 and 100", field="limit")
    by_kind = {k: _KINDS[k].search(session, actor, query, terms, limit) for k in wanted}
    hits = [h for k in wanted for h in by_kind[k]]
    return SearchResults(query, terms, hits, by_kind)


def snippet(body: str, terms: Sequence[str], width: int = 90) -> str:
    """About `width` characters of `body` around the first matching term."""
    lowered = body.lower()
    found = [i for t in terms if (i := lowered.find(t)) >= 0]
    start = max(0, min(found, default=0) - width // 3)
    piece = body[start : start + width].strip()
    return ("…" if start else "") + piece + ("…" if start + width < len(body) else "")


def _like_all(columns: Sequence[Any], terms: Sequence[str]) -> ColumnElement[bool]:
    clauses = []
    for term in terms:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        clauses.append(or_(*(c.ilike(pattern, escape="\\") for c in columns)))
    return and_(*clauses)


class IncidentKind:
    name = "incidents"
    label = "Incidents"

    def search(
        self, session: Session, actor: Actor, query: str, terms: Sequence[str], limit: int
    ) -> list[Hit]:
        del query
        rows = session.execute(
            select(Incident.number, Incident.title, Incident.summary, Incident.started_at)
            .where(visibility_clause(actor), _like_all([Incident.title, Incident.summary], terms))
            .order_by(Incident.number.desc())
            .limit(limit * 5)
        ).all()
        hits = [
            Hit("incidents", f"INC-{n}", title, snippet(summary or title, terms),
                f"/incidents/INC-{n}", at, _score(title, summary, terms))
            for n, title, summary, at in rows
        ]  # fmt: skip
        return sorted(hits, key=lambda h: -h.score)[:limit]


def _score(title: str, body: str, terms: Sequence[str]) -> float:
    low_title, low_body = title.lower(), (body or "").lower()
    return float(sum(2 * low_title.count(t) + low_body.count(t) for t in terms))


class ActionItemKind:
    name = "action_items"
    label = "Action items"

    def search(
        self, session: Session, actor: Actor, query: str, terms: Sequence[str], limit: int
    ) -> list[Hit]:
        del query
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
                _score(title, "", terms))
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

    def search(
        self, session: Session, actor: Actor, query: str, terms: Sequence[str], limit: int
    ) -> list[Hit]:
        del query
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


@dataclass(frozen=True, slots=True)
class Similar:
    public_id: str
    title: str
    severity: str
    started: datetime | None
    score: float
    shared: tuple[str, ...]
    semantic: float | None = None
    """Cosine similarity of meaning, when semantic ranking was used."""


def _tokens(title: str, summary: str, services: Iterable[str], tags: Iterable[str],
            extra: str = "") -> Counter[str]:  # fmt: skip
    weights: Counter[str] = Counter()
    for word in _WORD.findall(title.lower()):
        if word not in STOPWORDS and len(word) > 1:
            weights[word] += 2
    for word in _WORD.findall(f"{summary} {extra}".lower()):
        if word not in STOPWORDS and len(word) > 1:
            weights[word] += 1
    for service in services:
        weights[f"service:{service}"] += 2
    for tag in tags:
        weights[f"tag:{tag}"] += 1.5  # type: ignore[assignment]
    return weights


def _by_incident(session: Session, query: Any) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for incident_id, value in session.execute(query):
        found.setdefault(incident_id, []).append(value)
    return found


def similar_incidents(
    session: Session, actor: Actor, incident: Incident, limit: int = 5,
    *, embed: Embed | None = None,
) -> list[Similar]:  # fmt: skip
    """Visible incidents most like `incident` (not itself, none started after it), best
    first; an incident sharing nothing scores 0 and is left out. With `embed`, meaning counts
    too (see the module's docstring)."""
    target = _tokens(
        incident.title, incident.summary, [s.slug for s in incident.services], incident.tags,
        _report_text(session, [incident.id]).get(incident.id, ""),
    )  # fmt: skip
    words = [w for w, _ in target.most_common() if ":" not in w][:MAX_TERMS]
    shared_link = or_(
        exists().where(
            IncidentService.incident_id == Incident.id,
            IncidentService.service_id.in_([s.id for s in incident.services] or [-1]),
        ),
        exists().where(
            IncidentTag.incident_id == Incident.id, IncidentTag.tag.in_(incident.tags or [""])
        ),
        *(Incident.title.ilike(f"%{w}%") for w in words if w.isalnum()),
    )
    base = (
        select(Incident.id, Incident.number, Incident.title, Incident.summary,
               Incident.severity, Incident.started_at)
        .where(visibility_clause(actor), Incident.id != incident.id)
        .order_by(Incident.number.desc())
    )  # fmt: skip
    if incident.started_at is not None:
        base = base.where(
            or_(Incident.started_at.is_(None), Incident.started_at <= incident.started_at)
        )
    rows = list(session.execute(base.where(shared_link).limit(SIMILAR_CANDIDATES)))
    newest: set[int] = set()
    if embed is not None:
        seen = {r[0] for r in rows}
        for row in session.execute(base.limit(SEMANTIC_CANDIDATES)):
            newest.add(row[0])
            if row[0] not in seen:
                rows.append(row)
    if not rows:
        return []
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
    docs = {
        r[0]: _tokens(r[2], r[3], services.get(r[0], ()), tags.get(r[0], ()), reports.get(r[0], ""))
        for r in rows
    }
    idf = _idf([target, *docs.values()])
    target_vec = _vector(target, idf)
    vectors = {r[0]: _vector(docs[r[0]], idf) for r in rows}
    lexical_of = {
        i: sum(target_vec[t] * vec[t] for t in target_vec.keys() & vec.keys())
        for i, vec in vectors.items()
    }
    meaning: dict[int, float] = {}
    if embed is not None:  # meaning is compared for the best lexical matches and the newest
        best = sorted((i for i, v in lexical_of.items() if v > 0), key=lambda i: -lexical_of[i])
        chosen = set(best[:SEMANTIC_CANDIDATES]) | set(newest)
        rows = [r for r in rows if r[0] in chosen]
        texts = [_meaning_text(incident.title, incident.summary, "")]
        texts += [_meaning_text(r[2], r[3], reports.get(r[0], "")) for r in rows]
        first, *others = embed(texts)
        meaning = {r[0]: _dot(first, v) for r, v in zip(rows, others, strict=True)}
    scored = []
    for row in rows:
        vec = vectors[row[0]]
        lexical = lexical_of[row[0]]
        semantic = meaning.get(row[0])
        score = blend(lexical, semantic)
        if score > 0:
            shared = sorted(target_vec.keys() & vec.keys(), key=lambda t: -target_vec[t] * vec[t])
            scored.append(
                Similar(f"INC-{row[1]}", row[2], row[4], row[5], round(score, 4),
                        tuple(shared[:5]),
                        None if semantic is None else round(semantic, 4))
            )  # fmt: skip
    return sorted(scored, key=lambda s: (-s.score, s.public_id))[:limit]


def blend(lexical: float, semantic: float | None) -> float:
    """The similarity score: lexical alone without a model; with one, the mean of the
    lexical and the semantic similarity, where meaning alone must reach `SEMANTIC_FLOOR`
    (0 means "not similar" and is left out)."""
    if semantic is None:
        return lexical
    if lexical <= 0 and semantic < SEMANTIC_FLOOR:
        return 0.0
    return (lexical + max(semantic, 0.0)) / 2


def _meaning_text(title: str, summary: str, report: str) -> str:
    return f"{title}. {summary} {report[:1000]}".strip()


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _report_text(session: Session, ids: Sequence[int]) -> dict[int, str]:
    query = select(ImportedReport.incident_id, ImportedReport.title, ImportedReport.body_markdown)
    out: dict[int, str] = {}
    for incident_id, title, body in session.execute(
        query.where(ImportedReport.incident_id.in_(ids))
    ):
        out[incident_id] = f"{out.get(incident_id, '')} {title} {body}"
    return out


def _idf(docs: Sequence[Counter[str]]) -> dict[str, float]:
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(doc.keys())
    n = len(docs)
    return {term: math.log((n + 1) / (count + 1)) + 1 for term, count in df.items()}


def _vector(doc: Counter[str], idf: Mapping[str, float]) -> dict[str, float]:
    raw = {t: w * idf[t] for t, w in doc.items()}
    norm = math.sqrt(sum(v * v for v in raw.values())) or 1.0
    return {t: v / norm for t, v in raw.items()}
