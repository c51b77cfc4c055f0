"""What a search finds and how it is ranked, written once: the query's words, a hit's snippet
and lexical score, and the "similar past incidents" ranking.

Lives here: `Hit`, `SearchResults`, `Similar`, `Embed`, `terms_of`, `snippet`, `text_score`,
`IncidentText` with `rank_similar`, and `blend`. Pure functions of their arguments.
Must not live here: queries or privacy rules (`storage.search` and `storage.visibility`),
the choice of embedding model (`services.search`).

Similar incidents are ranked by TF-IDF cosine similarity over title (weight 2), summary,
services (2), tags (1.5) and imported report text. It is written by hand because it needs no
index and no model. With an `embed` function (the optional local sentence-embedding model,
`adapters.embeddings`) the newest `SEMANTIC_CANDIDATES` earlier visible incidents and as
many of the best lexical matches are compared by meaning, and the score becomes the mean of
the lexical and the semantic similarity (`blend`), so an incident that says the same thing
in other words is found too.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from afteraction.core.errors import ValidationError

MAX_QUERY = 200
MAX_TERMS = 8
SEMANTIC_CANDIDATES = 300
"""Earlier incidents compared by meaning even when they share no word, service or tag."""
SEMANTIC_FLOOR = 0.45
"""Below this cosine, meaning alone does not make an incident similar (all-MiniLM-L6-v2
gives about 0.0-0.3 for unrelated incident titles and 0.5-0.9 for the same failure)."""
Embed = Callable[[Sequence[str]], Sequence[Sequence[float]]]
"""texts -> unit vectors, one per text."""
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


def terms_of(query: str) -> tuple[str, ...]:
    """The distinct lower-cased words of `query` (at most `MAX_TERMS`); a query too long or
    without a word is refused, naming the `q` field."""
    if len(query) > MAX_QUERY:
        raise ValidationError(f"search text is limited to {MAX_QUERY} characters", field="q")
    words = tuple(dict.fromkeys(w.lower() for w in _WORD.findall(query)))[:MAX_TERMS]
    if not words:
        raise ValidationError("type at least one word to search for", field="q")
    return words


def snippet(body: str, terms: Sequence[str], width: int = 90) -> str:
    """About `width` characters of `body` around the first matching term."""
    lowered = body.lower()
    found = [i for t in terms if (i := lowered.find(t)) >= 0]
    start = max(0, min(found, default=0) - width // 3)
    piece = body[start : start + width].strip()
    return ("…" if start else "") + piece + ("…" if start + width < len(body) else "")


def text_score(title: str, body: str | None, terms: Sequence[str]) -> float:
    """How often the terms occur, a title occurrence counting twice."""
    low_title, low_body = title.lower(), (body or "").lower()
    return float(sum(2 * low_title.count(t) + low_body.count(t) for t in terms))


@dataclass(frozen=True, slots=True)
class IncidentText:
    """What similarity compares of one incident."""

    id: int
    public_id: str
    title: str
    summary: str
    severity: str
    started: datetime | None
    services: Sequence[str] = ()
    tags: Sequence[str] = ()
    report: str = ""

    def weights(self) -> Counter[str]:
        weights: Counter[str] = Counter()
        for word in _WORD.findall(self.title.lower()):
            if word not in STOPWORDS and len(word) > 1:
                weights[word] += 2
        for word in _WORD.findall(f"{self.summary} {self.report}".lower()):
            if word not in STOPWORDS and len(word) > 1:
                weights[word] += 1
        for service in self.services:
            weights[f"service:{service}"] += 2
        for tag in self.tags:
            weights[f"tag:{tag}"] += 1.5  # type: ignore[assignment]
        return weights

    def meaning(self, *, with_report: bool = True) -> str:
        report = self.report[:1000] if with_report else ""
        return f"{self.title}. {self.summary} {report}".strip()


def distinctive_words(target: IncidentText) -> list[str]:
    """The target's heaviest words: a candidate sharing one of them is worth ranking."""
    return [w for w, _ in target.weights().most_common() if ":" not in w][:MAX_TERMS]


def rank_similar(
    target: IncidentText,
    candidates: Iterable[IncidentText],
    limit: int,
    *,
    embed: Embed | None = None,
    newest: Iterable[int] = (),
) -> list[Similar]:
    """`candidates` best first by similarity to `target`; one that shares nothing scores 0
    and is left out. With `embed`, the best `SEMANTIC_CANDIDATES` lexical matches and the
    `newest` ids are also compared by meaning."""
    docs = {c.id: c for c in candidates}
    weights = {i: d.weights() for i, d in docs.items()}
    target_weights = target.weights()
    idf = _idf([target_weights, *weights.values()])
    target_vec = _vector(target_weights, idf)
    vectors = {i: _vector(w, idf) for i, w in weights.items()}
    lexical_of = {
        i: sum(target_vec[t] * vec[t] for t in target_vec.keys() & vec.keys())
        for i, vec in vectors.items()
    }
    meaning: dict[int, float] = {}
    if embed is not None:
        best = sorted((i for i, v in lexical_of.items() if v > 0), key=lambda i: -lexical_of[i])
        chosen = set(best[:SEMANTIC_CANDIDATES]) | set(newest)
        compared = [d for i, d in docs.items() if i in chosen]
        docs = {d.id: d for d in compared}
        texts = [target.meaning(with_report=False), *(d.meaning() for d in compared)]
        first, *others = embed(texts)
        meaning = {d.id: _dot(first, v) for d, v in zip(compared, others, strict=True)}
    scored = []
    for i, doc in docs.items():
        vec = vectors[i]
        semantic = meaning.get(i)
        score = blend(lexical_of[i], semantic)
        if score > 0:
            shared = sorted(target_vec.keys() & vec.keys(), key=lambda t: -target_vec[t] * vec[t])
            scored.append(
                Similar(doc.public_id, doc.title, doc.severity, doc.started, round(score, 4),
                        tuple(shared[:5]), None if semantic is None else round(semantic, 4))
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


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


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
