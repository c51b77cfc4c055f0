"""Global search and "similar past incidents", for the search page, the search API and the
incident page's similar panel alike.

`search` checks the request (the query's words, known kinds, the limit) and asks each kind
for the hits the actor may see; `similar_incidents` ranks the visible incidents most like one
the actor may see. `embed_for` chooses, once per process from `settings.similarity`, whether
meaning counts too (the local embedding model, `adapters.embeddings`): the model is loaded on
the first similar-incidents request, not at start-up, and `semantic` without the extra
installed is a configuration error raised when the app is created, so it is seen at once.

Ranking lives in `core.ranking`, queries and privacy in `storage.search`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from afteraction.adapters.embeddings import EXTRA_HINT, local_embedder, semantic_available
from afteraction.config import Settings
from afteraction.core.access import Actor
from afteraction.core.errors import ValidationError
from afteraction.core.ranking import (
    SEMANTIC_FLOOR,
    Embed,
    Hit,
    SearchResults,
    Similar,
    blend,
    rank_similar,
    terms_of,
)
from afteraction.services.incidents import get_incident
from afteraction.storage import search as finder
from afteraction.storage.tables import Incident

__all__ = [
    "SEMANTIC_FLOOR",
    "Embed",
    "Hit",
    "SearchResults",
    "Similar",
    "blend",
    "embed_for",
    "kinds",
    "search",
    "similar_incidents",
    "similar_to",
]

MAX_LIMIT = 100


def kinds() -> list[tuple[str, str]]:
    """Each searchable kind as (name, label), in the order results list them."""
    return finder.kinds()


def search(
    session: Session,
    actor: Actor,
    query: str,
    *,
    kinds: Iterable[str] | None = None,
    limit: int = 20,
) -> SearchResults:
    """Search every kind (or `kinds`), at most `limit` hits per kind, only what `actor` may
    see. A query without a word, an unknown kind or a limit outside 1-100 is refused with the
    field named."""
    terms = terms_of(query)
    known = finder.kind_names()
    wanted = list(kinds) if kinds else known
    unknown = [k for k in wanted if k not in known]
    if unknown:
        raise ValidationError(
            f"unknown kind {unknown[0]!r}; known: {', '.join(known)}", field="kind"
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    by_kind = {k: finder.find(session, actor, k, terms, limit) for k in wanted}
    hits = [h for k in wanted for h in by_kind[k]]
    return SearchResults(query, terms, hits, by_kind)


def similar_incidents(
    session: Session,
    actor: Actor,
    incident: Incident,
    limit: int = 5,
    *,
    embed: Embed | None = None,
) -> list[Similar]:
    """Visible incidents most like `incident` (not itself, none started after it), best
    first; an incident sharing nothing is left out. With `embed`, meaning counts too."""
    target = finder.incident_text(session, incident)
    candidates, newest = finder.similar_candidates(
        session, actor, target, semantic=embed is not None
    )
    if not candidates:
        return []
    return rank_similar(target, candidates, limit, embed=embed, newest=newest)


def similar_to(
    session: Session, actor: Actor, key: str | int, limit: int = 5, *, embed: Embed | None = None
) -> tuple[Incident, list[Similar]]:
    """The incident `key` (NotFound unless `actor` may see it) and those most like it."""
    incident = get_incident(session, actor, key)
    return incident, similar_incidents(session, actor, incident, limit, embed=embed)


def _embed(texts: Sequence[str]) -> Sequence[Sequence[float]]:
    embedder = local_embedder()
    if embedder is None:  # pragma: no cover - checked by `embed_for` before it is chosen
        raise RuntimeError(f"the semantic extra is not installed: {EXTRA_HINT}")
    return embedder.vectors(texts)


def embed_for(settings: Settings) -> Embed | None:
    """The embedding function to rank similar incidents with, or None for lexical ranking."""
    if settings.similarity == "lexical":
        return None
    if semantic_available():
        return _embed
    if settings.similarity == "semantic":
        raise RuntimeError(
            "AFTERACTION_SIMILARITY=semantic needs the local embedding model: "
            f"{EXTRA_HINT} (or set AFTERACTION_SIMILARITY=auto or lexical)"
        )
    return None
