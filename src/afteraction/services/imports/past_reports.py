"""Import past incident reports — Markdown post-mortems and CSV incident lists — as
historical incidents with their report text, under one `Source`.

Lives here: `import_reports`. Does not live here: parsing (`adapters.past_reports`),
commits (the caller wraps the call in `with writing(session):`).

Each report becomes a closed incident of type "default", declared through
`services.incidents.declare` (audited), with its text as an `ImportedReport`:
- milestones: started = detected = declared = the report's start time, else its incident
  date at 00:00 UTC, else its publication date; resolved = the report's end time, else the
  start; closed = the publication date when later than resolved, else resolved. A report
  with no date at all is recorded with today's date and a warning;
- severity: the report's own when it names one (`SEV1`…`SEV4`, `1`…`4`, `P1`…`P5`,
  critical/high/major/medium/moderate/minor/low), else `DEFAULT_SEVERITY` (SEV3);
- summary, impact (as customer impact) and tags come along; organisation, impact,
  publication date, URL and other fields are kept in `ImportedReport.meta`.
Mojibake in CSV cells is repaired with a warning. Idempotent twice over: the same files
(same checksum) return the earlier summary, and a report whose (file name, external id —
or title when it has none) was imported before is skipped as already present, so a longer
later copy of a list adds only its new rows. URLs in report text become references.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.adapters.past_reports import (
    PastReport,
    parse_incident_csv,
    parse_markdown_report,
)
from afteraction.adapters.references import ReferenceCounter
from afteraction.core.access import Actor
from afteraction.core.errors import ImportFailed
from afteraction.services import incidents as repo
from afteraction.services.imports.sources import (
    ImportSummary,
    Progress,
    checksum_bytes,
    find_previous,
    finish_source,
    previous_summary,
    start_source,
)
from afteraction.storage.evidence import merge_references
from afteraction.storage.evidence_tables import ImportedReport
from afteraction.storage.tables import Incident, SeverityLevel

KIND = "reports"
DEFAULT_SEVERITY = "SEV3"
MARKDOWN_SUFFIXES = (".md", ".markdown")
SEVERITY_WORDS: Mapping[str, str] = {
    "critical": "SEV1",
    "high": "SEV2",
    "major": "SEV2",
    "medium": "SEV3",
    "moderate": "SEV3",
    "minor": "SEV3",
    "low": "SEV4",
}
_SEV_RE = re.compile(r"^(?:sev|p|s)?\s*-?\s*(\d)$", re.IGNORECASE)
MAX_FILE_BYTES = 64 * 1024 * 1024


def expand(paths: Iterable[Path | str]) -> list[Path]:
    """Files to read: given files, and the Markdown/CSV files inside given folders."""
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            files += sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not p.is_symlink()
                and p.suffix.lower() in (*MARKDOWN_SUFFIXES, ".csv")
            )
        elif path.is_file():
            files.append(path)
        else:
            raise ImportFailed("no such file or folder", where=str(path))
    if not files:
        raise ImportFailed("no Markdown or CSV reports found", where=", ".join(map(str, paths)))
    return files


def read_reports(files: Sequence[Path], summary: ImportSummary) -> list[PastReport]:
    reports: list[PastReport] = []
    for path in files:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImportFailed(f"file is larger than {MAX_FILE_BYTES} bytes", where=path.name)
        suffix = path.suffix.lower()
        if suffix in MARKDOWN_SUFFIXES:
            report = parse_markdown_report(path)
            summary.warnings.extend(report.warnings)
            reports.append(report)
        elif suffix == ".csv":
            rows, warnings = parse_incident_csv(path)
            summary.warnings.extend(warnings)
            reports += rows
        else:
            summary.skip(path.name, "not a Markdown (.md) or CSV (.csv) file")
    return reports


def _checksum(files: Sequence[Path]) -> str:
    pieces: list[bytes] = []
    for path in sorted(files, key=lambda p: p.name):
        try:
            pieces += [path.name.encode(), b"\0", path.read_bytes(), b"\0"]
        except OSError as exc:
            raise ImportFailed(f"cannot read file ({exc.strerror})", where=path.name) from exc
    return checksum_bytes(*pieces)


def import_reports(
    session: Session,
    actor: Actor,
    paths: Iterable[Path | str],
    *,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import past reports as closed historical incidents (see the module docstring)."""
    files = expand(list(paths))
    checksum = _checksum(files)
    origin = ", ".join(str(f) for f in files)
    previous = find_previous(session, kind=KIND, checksum=checksum, options={})
    if previous is not None:
        return previous_summary(previous)
    summary = ImportSummary(kind=KIND, source_id=None, origin=origin)
    reports = read_reports(files, summary)
    source = start_source(session, actor, kind=KIND, origin=origin, checksum=checksum)
    known = _known_keys(session)
    severities = set(session.scalars(select(SeverityLevel.name)))
    for done, report in enumerate(reports, start=1):
        key = _key(report)
        if key in known:
            summary.count("already present")
            continue
        known.add(key)
        incident = _declare(session, actor, report, severities, summary)
        references = _attach(session, source.id, incident, report)
        if references:
            summary.count("references", references)
        summary.count("incidents created")
        if progress is not None:
            progress(done, len(reports), "reports")
    finish_source(session, actor, source, summary)
    return summary


def _key(report: PastReport) -> tuple[str, str]:
    return report.source, (report.external_id or report.title).strip()


def _known_keys(session: Session) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for title, external_id, meta in session.execute(
        select(ImportedReport.title, ImportedReport.external_id, ImportedReport.meta)
    ):
        file_name = str((meta or {}).get("file", ""))
        keys.add((file_name, (external_id or title).strip()))
    return keys


def severity_of(value: str | None, known: set[str]) -> str | None:
    """The severity a report names, or None when it names none we know."""
    if not value:
        return None
    text = value.strip()
    match = _SEV_RE.match(text)
    name = f"SEV{min(int(match.group(1)), 4)}" if match else SEVERITY_WORDS.get(text.casefold())
    return name if name in known else None


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), tzinfo=UTC) if day is not None else None


def milestones_of(report: PastReport) -> dict[str, datetime | None]:
    started = report.started_at or _midnight(report.occurred_on) or _midnight(report.published_on)
    if started is None:
        return {}
    resolved = report.resolved_at or started
    published = _midnight(report.published_on)
    closed = published if published is not None and published > resolved else resolved
    return {
        "started": started,
        "detected": started,
        "declared": started,
        "resolved": resolved,
        "closed": closed,
    }


def _declare(
    session: Session,
    actor: Actor,
    report: PastReport,
    severities: set[str],
    summary: ImportSummary,
) -> Incident:
    where = f"{report.source}: {report.title[:60]!r}"
    severity = severity_of(report.severity, severities)
    if report.severity and severity is None:
        summary.warnings.append(
            f"{where}: severity {report.severity!r} unknown; {DEFAULT_SEVERITY}"
        )
    milestones = milestones_of(report)
    if not milestones:
        summary.warnings.append(f"{where}: no date; recorded with today's date")
    data = repo.IncidentInput(
        title=report.title.strip()[:300] or report.source,
        severity=severity or DEFAULT_SEVERITY,
        summary=(report.summary or "")[: repo.LIMITS["summary"]],
        status="closed",
        customer_impact=(report.impact or "")[: repo.LIMITS["customer_impact"]],
        tags=[t.strip().lower()[:80] for t in report.tags if t.strip()],
        milestones=milestones,
        allow_out_of_order=True,
    )
    incident, problems = repo.declare(session, actor, data)
    summary.warnings.extend(f"{where}: milestones out of order: {p}" for p in problems)
    return incident


def _attach(session: Session, source_id: int, incident: Incident, report: PastReport) -> int:
    """Store the report text; add the references it holds; return how many were added."""
    meta: dict[str, Any] = {
        "file": report.source,
        "organisation": report.organisation,
        "impact": report.impact,
        "severity": report.severity,
        "published": report.published_on.isoformat() if report.published_on else None,
        "tags": list(report.tags),
        "fields": dict(report.metadata),
    }
    session.add(
        ImportedReport(
            incident_id=incident.id,
            source_id=source_id,
            title=report.title[:500],
            body_markdown=report.body,
            external_id=(report.external_id or "")[:200],
            url=(report.url or "")[:2000],
            meta=meta,
        )
    )
    counter = ReferenceCounter()
    at = incident.started_at
    for text in (report.body, report.summary or "", report.url or ""):
        counter.add(text, at=at)
    found = [(r.reference, r.count, r.first_seen) for r in counter.results()]
    added, _ = merge_references(session, incident_id=incident.id, source_id=source_id, found=found)
    return added
