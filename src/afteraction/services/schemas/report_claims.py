"""The claim check's result as the API and `afteraction report check --json` print it: one
finding per claim that disagrees with the evidence (its span, kind, what the evidence says,
a link to it, a suggested correction) and whether it was dismissed."""

from __future__ import annotations

from afteraction.core.analysis.claims import ClaimFinding
from afteraction.services.schemas.common import ReadModel


class ClaimFindingRead(ReadModel):
    kind: str
    text: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int
    end: int
    message: str
    evidence: str
    link: str
    suggestion: str
    replacement: str | None
    fingerprint: str
    dismissed: bool

    @classmethod
    def of(cls, finding: ClaimFinding, *, dismissed: bool) -> ClaimFindingRead:
        return cls(
            kind=finding.kind,
            text=finding.text,
            line=finding.line,
            column=finding.column,
            end_line=finding.end_line,
            end_column=finding.end_column,
            start=finding.start,
            end=finding.end,
            message=finding.message,
            evidence=finding.evidence,
            link=finding.link,
            suggestion=finding.suggestion,
            replacement=finding.replacement,
            fingerprint=finding.fingerprint,
            dismissed=dismissed,
        )


class ReportClaimsRead(ReadModel):
    """`zone` is the zone a time written without one is read in."""

    incident: str
    version: int
    zone: str
    open: int
    dismissed: int
    findings: list[ClaimFindingRead]
