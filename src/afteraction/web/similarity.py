"""Which ranking "similar past incidents" uses in this process, from `settings.similarity`:
lexical only, or also by meaning with the local embedding model (`adapters.embeddings`).

The model is loaded on the first similar-incidents request, not at start-up (loading takes
seconds and most requests never need it); `semantic` without the extra installed is a
configuration error raised when the app is created, so it is seen at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request

from afteraction.adapters.embeddings import EXTRA_HINT, local_embedder, semantic_available
from afteraction.config import Settings
from afteraction.storage.search import Embed


def _embed(texts: Sequence[str]) -> Sequence[Sequence[float]]:
    embedder = local_embedder()
    if embedder is None:  # pragma: no cover - checked by `embed_for` before it is chosen
        raise RuntimeError(f"the semantic extra is not installed: {EXTRA_HINT}")
    return embedder.vectors(texts)


def embed_for(settings: Settings) -> Embed | None:
    """The embedding function to rank with, or None for lexical ranking."""
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


def request_embed(request: Request) -> Embed | None:
    embed: Embed | None = getattr(request.app.state, "embed", None)
    return embed
