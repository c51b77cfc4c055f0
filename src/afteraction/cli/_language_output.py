"""How `lint-language` prints findings: the JSON list, SARIF 2.1.0 for code-scanning tools,
GitHub workflow annotations, and the table for people. Only rendering lives here; the
command (`lint_language`) reads the documents and runs the check."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

import afteraction
from afteraction.core.analysis.language import CATEGORIES, Finding

JSON_FIELDS = ("line", "column", "end_column", "text", "category", "message", "suggestion")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

Located = tuple[str, Finding]  # the file name as given ("-" for standard input), a finding


def as_json(name: str, finding: Finding) -> dict[str, Any]:
    row: dict[str, Any] = {"file": name}
    row.update({field: getattr(finding, field) for field in JSON_FIELDS})
    row.update(end_line=finding.end_line, rule=finding.rule, fingerprint=finding.fingerprint)
    return row


def json_text(findings: list[Located]) -> str:
    return json.dumps([as_json(name, f) for name, f in findings], ensure_ascii=False)


def rule_id(finding: Finding) -> str:
    """The rule's id, or for a finding that names a person, the naming category's variant."""
    if finding.rule.startswith(finding.category + "."):
        return finding.rule
    return f"{finding.category}.{finding.rule.split('.', 1)[-1]}"


def _uri(name: str) -> str:
    return "stdin" if name == "-" else name.replace("\\", "/")


def sarif_text(findings: list[Located]) -> str:
    """One SARIF 2.1.0 run: the rules that fired, and a result per finding."""
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for name, f in findings:
        rid = rule_id(f)
        if rid not in rules:
            rules[rid] = {
                "id": rid,
                "name": rid.replace(".", "/"),
                "shortDescription": {"text": CATEGORIES[f.category]},
                "fullDescription": {"text": f.message},
                "help": {"text": f.suggestion},
                "defaultConfiguration": {"level": "warning"},
                "properties": {"category": f.category, "tags": ["language", f.category]},
            }
        region = {
            "startLine": f.line,
            "startColumn": f.column,
            "endLine": f.end_line,
            "endColumn": f.end_column,
            "snippet": {"text": f.text},
        }
        results.append(
            {
                "ruleId": rid,
                "ruleIndex": list(rules).index(rid),
                "level": "warning",
                "message": {"text": f"{f.message} Try instead: {f.suggestion}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": _uri(name)},
                            "region": region,
                        }
                    }
                ],
                "partialFingerprints": {"afteractionLanguage/v1": f.fingerprint},
            }
        )
    driver = {
        "name": "afteraction-language",
        "version": afteraction.__version__,
        "rules": list(rules.values()),
    }
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}
        ],
    }
    return json.dumps(log, ensure_ascii=False, indent=2)


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github_lines(findings: list[Located]) -> list[str]:
    """One `::warning` workflow command per finding, shown on the line in a pull request."""
    lines = []
    for name, f in findings:
        props = {
            "file": _uri(name),
            "line": f.line,
            "col": f.column,
            "endLine": f.end_line,
            "endColumn": f.end_column,
            "title": f"{rule_id(f)} ({f.category})",
        }
        head = ",".join(f"{k}={_escape_property(str(v))}" for k, v in props.items())
        lines.append(
            f"::warning {head}::{_escape_data(f'{f.message} Try instead: {f.suggestion}')}"
        )
    return lines


def print_table(findings: list[Located], file_count: int) -> None:
    console = Console()
    if not findings:
        console.print(f"No blaming language found in {file_count} file(s).")
        return
    table = Table("Where", "Text", "Category", "Why", "Try instead")
    for name, f in findings:
        where = f"{'<stdin>' if name == '-' else name}:{f.line}:{f.column}"
        table.add_row(where, f.text, f.category, f.message, f.suggestion)
    console.print(table)
    console.print(f"{len(findings)} finding(s) in {file_count} file(s).")
