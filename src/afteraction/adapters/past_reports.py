"""Past incident reports imported as history: Markdown post-mortems and CSV incident lists.

Lives here: `parse_markdown_report` (Markdown with or without YAML front matter) and
`parse_incident_csv` (VOID-style lists: title, M/D/YYYY dates, impact, organisation).
Does not live here: persistence or rendering of the Markdown body (kept as text).

Front matter is read with PyYAML's `safe_load` (no object construction). Field names are
matched case-insensitively with these aliases: title/name; date/incident_date/started/
started_at/start; resolved/resolved_at/end/ended_at; published/published_at/publish_date/
report_date/written; severity/sev/level; company/organisation/organization/org;
impact/impact_type/impact_category; summary/description; tags/categories/keywords;
url/link/source/source_url; id/report_id. Other keys are kept in `metadata` as text.
CSV text that was UTF-8 read as Windows-1252 ("itâ€™s") is repaired ("it’s") with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from afteraction.adapters.roster import csv_table
from afteraction.core.errors import ImportFailed

_FIELDS: Mapping[str, str] = {
    "title": "title", "name": "title", "reporttitle": "title", "incidenttitle": "title",
    "date": "occurred", "incidentdate": "occurred", "started": "occurred",
    "startedat": "occurred", "start": "occurred", "startdate": "occurred",
    "eventdate": "occurred",
    "resolved": "resolved", "resolvedat": "resolved", "end": "resolved", "endedat": "resolved",
    "enddate": "resolved",
    "published": "published", "publishedat": "published", "publishdate": "published",
    "publicationdate": "published", "reportdate": "published", "written": "published",
    "writeupdate": "published", "publisheddate": "published", "dateofincident": "occurred",
    "severity": "severity", "sev": "severity", "level": "severity",
    "company": "organisation", "organisation": "organisation", "organization": "organisation",
    "org": "organisation",
    "impact": "impact", "impacttype": "impact", "impactcategory": "impact",
    "summary": "summary", "description": "summary",
    "tags": "tags", "categories": "tags", "keywords": "tags",
    "url": "url", "link": "url", "source": "url", "sourceurl": "url", "reporturl": "url",
    "id": "external_id", "reportid": "external_id", "voidid": "external_id",
}  # fmt: skip

_MOJIBAKE_RE = re.compile("[\u00c2\u00c3\u00c5\u00e2][\u0080-\u02ff\u2010-\u203a\u20ac\u2122]")
_HEADING_RE = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.M)


@dataclass(frozen=True)
class PastReport:
    title: str
    source: str
    body: str = ""
    occurred_on: date | None = None
    started_at: datetime | None = None
    resolved_at: datetime | None = None
    published_on: date | None = None
    severity: str | None = None
    organisation: str | None = None
    impact: str | None = None
    summary: str | None = None
    tags: tuple[str, ...] = ()
    url: str | None = None
    external_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def _squash(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", str(name)).casefold()


def _decode(raw: bytes, source: str) -> tuple[str, list[str]]:
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return raw.decode("cp1252", errors="replace"), [
            f"{source}: not UTF-8 (line {line}); read as Windows-1252"
        ]


def _read(path: Path | str) -> tuple[str, str, list[str]]:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"cannot read file ({exc.strerror})", where=path.name) from exc
    if not raw.strip():
        raise ImportFailed("the file is empty", where=path.name)
    text, warnings = _decode(raw, path.name)
    return text, path.name, warnings


# --------------------------------------------------------------------------- values


def _parse_moment(value: Any, where: str) -> tuple[date | None, datetime | None]:
    """(date, aware datetime or None) from YAML dates/datetimes or text; naive times are UTC."""
    if value is None or value == "":
        return None, None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.date(), moment
    if isinstance(value, date):
        return value, None
    text = str(value).strip()
    for fmt in ("%m/%d/%Y", "%Y/%m/%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y"):
        try:
            return datetime.strptime(text, fmt).date(), None  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(text.replace(" UTC", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{where}: {text!r} is not a date") from exc
    if len(text) == 10:
        return moment.date(), None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.date(), moment


def _tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    if isinstance(value, str):
        return tuple(t.strip() for t in re.split(r"[,;]", value) if t.strip())
    return ()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _build(
    fields: Mapping[str, Any],
    *,
    title: str,
    source: str,
    body: str,
    where: str,
    warnings: list[str],
    metadata: dict[str, str],
) -> PastReport:
    moments: dict[str, tuple[date | None, datetime | None]] = {}
    for name in ("occurred", "resolved", "published"):
        try:
            moments[name] = _parse_moment(fields.get(name), f"{where}, {name}")
        except ValueError as exc:
            warnings.append(f"{exc}; left empty")
            moments[name] = (None, None)
    return PastReport(
        title=title,
        source=source,
        body=body,
        occurred_on=moments["occurred"][0],
        started_at=moments["occurred"][1],
        resolved_at=moments["resolved"][1],
        published_on=moments["published"][0],
        severity=_text(fields.get("severity")),
        organisation=_text(fields.get("organisation")),
        impact=_text(fields.get("impact")),
        summary=_text(fields.get("summary")),
        tags=_tags(fields.get("tags")),
        url=_text(fields.get("url")),
        external_id=_text(fields.get("external_id")),
        metadata=metadata,
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------- Markdown


def split_front_matter(text: str, source: str) -> tuple[dict[str, Any], str]:
    """Split `---` YAML front matter (closed by `---` or `...`) from the Markdown body."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return {}, text
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            front = "\n".join(lines[1:index])
            return _load_yaml(front, source), "\n".join(lines[index + 1 :])
    raise ImportFailed("front matter is never closed with '---'", where=f"{source}: line 1")


def _load_yaml(front: str, source: str) -> dict[str, Any]:
    try:
        value = yaml.safe_load(front)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ImportFailed(f"front matter: {problem}", where=f"{source}: line {line}") from exc
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ImportFailed("front matter is not a mapping of keys", where=f"{source}: line 2")
    return value


def parse_markdown_report(path: Path | str) -> PastReport:
    """Read a Markdown post-mortem; title from front matter, else the first `# ` heading,
    else the file name. The body (without front matter) is kept unchanged."""
    text, source, warnings = _read(path)
    text = text.replace("\r\n", "\n")
    front, body = split_front_matter(text, source)
    fields: dict[str, Any] = {}
    metadata: dict[str, str] = {}
    for key, value in front.items():
        target = _FIELDS.get(_squash(key))
        if target and target not in fields:
            fields[target] = value
        else:
            metadata[str(key)] = value if isinstance(value, str) else str(value)
    heading = _HEADING_RE.search(body)
    title = _text(fields.get("title")) or (heading.group(1) if heading else Path(path).stem)
    return _build(
        fields,
        title=title,
        source=source,
        body=body.strip("\n") + "\n",
        where=source,
        warnings=warnings,
        metadata=metadata,
    )


# --------------------------------------------------------------------------- CSV lists


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was decoded as Windows-1252 ("â€™" → "’"); unchanged if not that."""
    if not _MOJIBAKE_RE.search(text):
        return text
    raw = bytearray()
    for char in text:
        try:
            raw.extend(char.encode("cp1252"))
        except UnicodeEncodeError:
            if ord(char) > 0xFF:
                return text
            raw.append(ord(char))  # bytes cp1252 leaves undefined, kept by latin-1 readers
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return text


def parse_incident_csv(path: Path | str) -> tuple[list[PastReport], list[str]]:
    """Read a VOID-style CSV incident list; one PastReport per row with a title.

    Rows without a title are skipped, unreadable dates left empty, mojibake repaired — each
    with a warning naming the row (its line number in the file).
    """
    text, source, warnings = _read(path)
    header, rows = csv_table(text, source)
    mapping: dict[str, str] = {}
    for name in header:
        target = _FIELDS.get(_squash(name))
        if target and target not in mapping.values():
            mapping[name] = target
    if "title" not in mapping.values():
        raise ImportFailed("no title column in the header", where=f"{source}: line 1")
    reports = []
    for line, row in rows:
        report = _csv_row(row, line, source, mapping, warnings)
        if report is not None:
            reports.append(report)
    return reports, warnings


def _csv_row(
    row: dict[str | None, Any], line: int, source: str, mapping: dict[str, str], warnings: list[str]
) -> PastReport | None:
    where = f"{source}: row {line}"
    fields: dict[str, Any] = {}
    metadata: dict[str, str] = {}
    row_warnings: list[str] = []
    for header, raw in row.items():
        if header is None or not isinstance(raw, str):
            continue
        value = repair_mojibake(raw.strip())
        if value != raw.strip():
            row_warnings.append(f"{where}: repaired mojibake in {header!r}")
        if header in mapping:
            fields[mapping[header]] = value
        else:
            metadata[header] = value
    if not fields.get("title"):
        if any(fields.values()) or any(metadata.values()):
            warnings.append(f"{where}: no title; row skipped")
        return None
    report = _build(
        fields,
        title=fields["title"],
        source=source,
        body=fields.get("summary") or "",
        where=where,
        warnings=row_warnings,
        metadata=metadata,
    )
    warnings.extend(report.warnings)
    return report
