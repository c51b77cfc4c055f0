"""The claim check's driver: `check_claims()` runs the time, count, duration and person
rules over the masked text and places each finding (line, column, fingerprint)."""

from __future__ import annotations

import bisect
import difflib
import hashlib
import re

from afteraction.core.analysis.claims._counts import (
    _count_findings,
    _duration_findings,
    _person_pages,
)
from afteraction.core.analysis.claims._time import _check_time, _time_claims
from afteraction.core.analysis.claims.model import ClaimFinding, Evidence, mask

# -- person claims -----------------------------------------------------------------------


def _names_pattern(names: set[str]) -> re.Pattern[str] | None:
    full = sorted({n.strip() for n in names if len(n.split()) >= 2}, key=len, reverse=True)
    if not full:
        return None
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in full) + r")(?![\w-])")


def _person_findings(
    masked: str, evidence: Evidence, names: re.Pattern[str] | None
) -> list[ClaimFinding]:
    if names is None:
        return []
    took_part = {p.name for p in evidence.participants}
    known = took_part | set(evidence.on_record)
    out: list[ClaimFinding] = []
    for match in names.finditer(masked):
        name = match.group(0)
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(took_part), n=1, cutoff=0.8)
        out.append(
            ClaimFinding(
                kind="person",
                text=name,
                message=f"{name} took no part in this incident as far as the evidence shows.",
                evidence=f"The people analysis lists {len(took_part)} people (channels, "
                f"pages, roles, the call); {name} is not among them.",
                link=evidence.people_link,
                suggestion=f"Did you mean {close[0]}?" if close else "Check the name.",
                start=match.start(),
                end=match.end(),
                replacement=close[0] if close else None,
            )
        )
    return out


# -- driver ------------------------------------------------------------------------------


def check_claims(text: str, evidence: Evidence) -> list[ClaimFinding]:
    """The claims in Markdown `text` that disagree with `evidence`, in text order."""
    masked = mask(text)
    found: list[ClaimFinding] = []
    if evidence.events:
        ats = sorted(e.at for e in evidence.events)
        for claim in _time_claims(masked, evidence.zone, ats[0].astimezone(evidence.zone).year):
            finding = _check_time(text, claim, evidence, ats)
            if finding is not None:
                found.append(finding)
    names = _names_pattern({*evidence.directory, *(p.name for p in evidence.participants)})
    found += _count_findings(text, masked, evidence)
    found += _person_pages(text, masked, evidence, names)
    found += _duration_findings(text, masked, evidence)
    found += _person_findings(masked, evidence, names)
    return _placed(text, sorted(found, key=lambda f: (f.start, f.kind)))


_SENTENCE = re.compile(r"[.!?](?=\s)|\n")


def _placed(text: str, findings: list[ClaimFinding]) -> list[ClaimFinding]:
    """Line and column of each finding, and a fingerprint stable across unrelated edits
    (kind, the claim's words and three words either side), numbered when repeated."""
    line_starts = [0, *(m.end() for m in re.finditer(r"\n", text))]
    seen: dict[str, int] = {}
    out = []
    for f in findings:
        line = bisect.bisect_right(line_starts, f.start)
        end_line = bisect.bisect_right(line_starts, max(f.start, f.end - 1))
        head = _SENTENCE.split(text[max(0, f.start - 40) : f.start])[-1]
        tail = _SENTENCE.split(text[f.end : f.end + 40])[0]
        before = re.findall(r"\w+", head.lower())[-3:]
        after = re.findall(r"\w+", tail.lower())[:3]
        key = "|".join(["claim", f.kind, f.text.lower(), *before, "/", *after])
        seen[key] = seen.get(key, 0) + 1
        digest = hashlib.sha256(f"{key}|{seen[key]}".encode()).hexdigest()[:16]
        out.append(
            ClaimFinding(
                **{
                    **{k: getattr(f, k) for k in ClaimFinding.__dataclass_fields__},
                    "line": line,
                    "column": f.start - line_starts[line - 1] + 1,
                    "end_line": end_line,
                    "end_column": f.end - line_starts[end_line - 1] + 1,
                    "fingerprint": digest,
                }
            )
        )
    return out
