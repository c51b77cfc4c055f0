"""The language check's driver and its results: `check_text()`, `Finding`, the nine
`CATEGORIES` and `open_findings()`. It masks the text (`_mask`), runs every rule (`_rules`)
with the subject classifier (`_subjects`), keeps one finding per span and fingerprints it."""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from afteraction.core.analysis.language._mask import _mask
from afteraction.core.analysis.language._rules import _RULES, _folded, _matches, _Rule
from afteraction.core.analysis.language._subjects import _WORD, _Ctx

CATEGORIES: dict[str, str] = {
    "counterfactual": "Counterfactual: what people should, could or would have done",
    "omission": "Omission framed as failure: what people failed to do or did not do",
    "normative": "Normative judgement of people's work (careless, improper, poor decision)",
    "attribution": "Attribution to people (human error, mistake by, fault of, to blame)",
    "single_cause": "Single cause framing (root cause, the cause, caused by a person)",
    "legacy_framing": "Legacy framing (post-mortem, RCA)",
    "interrogation": "Interrogation (why did you…, who broke…)",
    "hindsight": "Hindsight or condescension (obviously, clearly, just restart it)",
    "naming_individuals": "Naming an individual as the one responsible for a failure",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One flagged span. `line`/`column` are 1-based; `end_column` is exclusive and refers
    to `end_line` (the same line unless the phrase wraps). `start`/`end` index the text."""

    line: int
    column: int
    end_column: int
    text: str
    category: str
    message: str
    suggestion: str
    rule: str = ""
    start: int = 0
    end: int = 0
    end_line: int = 0
    fingerprint: str = field(default="", compare=False)


def open_findings(findings: Iterable[Finding], dismissed: Iterable[str]) -> list[Finding]:
    """The findings whose fingerprint is not among the `dismissed` fingerprints."""
    gone = set(dismissed)
    return [f for f in findings if f.fingerprint not in gone]


# ---------------------------------------------------------------- driver

_Hit = tuple[int, int, int, _Rule, str]  # start, end, rule order, rule, category


def check_text(text: str, *, people: Iterable[str] = (), markdown: bool = True) -> list[Finding]:
    """Find blaming phrasing in Markdown `text` (plain text without `markdown`); `people`
    are names for the naming check."""
    masked, headings = _mask(text, markdown=markdown)
    return _check(text, masked, headings, people)


def _check(
    text: str, masked: str, headings: list[tuple[int, int]], people: Iterable[str]
) -> list[Finding]:
    """Run every rule over `masked` (`text` with what is not judged blanked, same length)."""
    ctx = _Ctx(masked, headings, people)
    folded = _folded(ctx.text)
    hits: list[_Hit] = []
    for order, rule in enumerate(_RULES):
        for m in _matches(rule, ctx.text, folded):
            if ctx.in_heading(m.start()) and not rule.in_headings:
                continue
            verdict = rule.guard(ctx, m)
            if verdict is not None:
                hits.append((m.start(), m.end(), order, rule, verdict or rule.category))
    return _to_findings(text, _drop_overlaps(hits))


def _drop_overlaps(hits: list[_Hit]) -> list[_Hit]:
    """Keep one finding per span: the rule listed first wins."""
    if any(h[0] >= h[1] for h in hits):  # pragma: no cover - every rule matches something
        return _drop_overlaps_slowly(hits)
    # Kept spans never overlap and are not empty, so sorted by start they are sorted by end
    # too: a new span can only overlap the last kept span that starts before it ends.
    starts: list[int] = []
    ends: list[int] = []
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: h[2]):
        i = bisect.bisect_left(starts, hit[1])
        if i and ends[i - 1] > hit[0]:
            continue
        starts.insert(i, hit[0])
        ends.insert(i, hit[1])
        kept.append(hit)
    return sorted(kept, key=lambda h: (h[0], h[2]))


def _drop_overlaps_slowly(hits: list[_Hit]) -> list[_Hit]:  # pragma: no cover
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: h[2]):
        if all(hit[1] <= k[0] or hit[0] >= k[1] for k in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: (h[0], h[2]))


def _to_findings(text: str, hits: list[_Hit]) -> list[Finding]:
    line_starts = [0, *(m.end() for m in re.finditer(r"\n", text))]
    seen: dict[str, int] = {}
    findings = []
    for start, end, _order, rule, category in hits:
        line = bisect.bisect_right(line_starts, start)
        end_line = bisect.bisect_right(line_starts, end - 1)
        key = _fingerprint_key(text, start, end, category)
        seen[key] = seen.get(key, 0) + 1
        digest = hashlib.sha256(f"{key}|{seen[key]}".encode()).hexdigest()[:16]
        findings.append(
            Finding(
                line=line,
                column=start - line_starts[line - 1] + 1,
                end_column=end - line_starts[end_line - 1] + 1,
                text=text[start:end],
                category=category,
                message=rule.message if category == rule.category else _NAMING_MESSAGE,
                suggestion=rule.suggestion if category == rule.category else _NAMING_SUGGESTION,
                rule=rule.rule,
                start=start,
                end=end,
                end_line=end_line,
                fingerprint=digest,
            )
        )
    return findings


_NAMING_MESSAGE = "Names a person as the one who failed."
_NAMING_SUGGESTION = (
    "Describe what the person saw and did, and the conditions around it; "
    "keep the name out of the failure verb."
)


_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n\s*\n")


def _fingerprint_key(text: str, start: int, end: int, category: str) -> str:
    """Category + matched words + three words either side: stable across unrelated edits."""

    def norm(s: str) -> list[str]:
        return [w.lower() for w in _WORD.findall(s)]

    before = norm(_SENTENCE_END.split(text[max(0, start - 60) : start])[-1])[-3:]
    after = norm(_SENTENCE_END.split(text[end : end + 60])[0])[:3]
    return "|".join([category, " ".join(norm(text[start:end])), " ".join(before), " ".join(after)])
