"""Literal rewrites for the language findings whose suggestion is a phrase, so the report
editor can offer "accept": "post-mortem" → "learning review", "RCA" → "learning review",
"root cause" → "contributing factor", and the hindsight words that are simply dropped
("obviously", "clearly", "simply", "just restart" → "restart"). Every other finding asks the
writer to rephrase a whole sentence, which no rule can do for them, so it has no rewrite.

Keyed by the language check's rule ids (`core.analysis.language`); pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_Rewrite = Callable[[str], str | None]


def _plural(one: str, many: str) -> _Rewrite:
    return lambda text: many if text.lower().rstrip().endswith("s") else one


def _drop_just(text: str) -> str | None:
    new = re.sub(r"\bjust\s+", "", text, count=1, flags=re.I)
    return new if new != text else None


def _drop_word(words: tuple[str, ...]) -> _Rewrite:
    return lambda text: "" if text.lower() in words else None


_REWRITES: dict[str, _Rewrite] = {
    "legacy.postmortem": _plural("learning review", "learning reviews"),
    "legacy.rca": _plural("learning review", "learning reviews"),
    "legacy.rca_phrase": lambda _text: "learning review",
    "single_cause.root_cause": lambda text: (
        None
        if text.lower().endswith(("ed", "ing"))
        else _plural("contributing factor", "contributing factors")(text)
    ),  # fmt: skip
    "hindsight.obviously": _drop_word(("obviously", "of course")),
    "hindsight.clearly": _drop_word(("clearly",)),
    "hindsight.simply": _drop_word(("simply",)),
    "hindsight.just": _drop_just,
}


def rewrite(rule: str, text: str) -> str | None:
    """The text that can replace a finding of `rule` on `text` (empty: drop the words), or
    None when the finding needs the writer to rephrase."""
    found = _REWRITES.get(rule)
    new = found(text) if found else None
    if new and text[:1].isupper() and not text.isupper():
        new = new[:1].upper() + new[1:]
    return new
