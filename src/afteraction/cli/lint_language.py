"""The `lint-language` command: run the blame-aware language check over files.

Only reading files, printing findings and choosing the exit code live here; the check itself
is `afteraction.core.analysis.language.check_text`. No database, settings or network.
Registered as `afteraction lint-language` by `cli/main.py`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from afteraction.core.analysis.language import Finding, check_text

JSON_FIELDS = ("line", "column", "end_column", "text", "category", "message", "suggestion")


def lint_language(
    files: Annotated[list[Path], typer.Argument(help="Markdown or text files (UTF-8).")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the findings as a JSON list.")
    ] = False,
    person: Annotated[
        list[str] | None,
        typer.Option("--person", "-p", help="A name from the people directory (repeatable)."),
    ] = None,
) -> None:
    """Flag blaming and counterfactual language in incident write-ups.

    Quoted evidence (block quotes, text in quotes), code and log lines are skipped. Exits
    with 1 when anything is flagged, 0 when the text is clean, 2 when a file cannot be read.

    Example: afteraction lint-language report.md --json
    """
    texts = {path: _read(path) for path in files}
    findings = [
        (path, f) for path, text in texts.items() for f in check_text(text, people=person or ())
    ]
    if json_output:
        typer.echo(json.dumps([_as_json(path, f) for path, f in findings], ensure_ascii=False))
    else:
        _print_table(findings, len(files))
    if findings:
        raise typer.Exit(1)


def _read(path: Path) -> str:
    """The file as UTF-8 text, or a clear error naming it and exit code 2."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        reason = "not valid UTF-8 text"
    except IsADirectoryError:
        reason = "is a directory"
    except OSError as error:
        reason = error.strerror or str(error)
    typer.echo(f"error: cannot read {path}: {reason}", err=True)
    raise typer.Exit(2)


def _as_json(path: Path, finding: Finding) -> dict[str, Any]:
    row: dict[str, Any] = {"file": str(path)}
    row.update({name: getattr(finding, name) for name in JSON_FIELDS})
    row.update(end_line=finding.end_line, rule=finding.rule, fingerprint=finding.fingerprint)
    return row


def _print_table(findings: list[tuple[Path, Finding]], file_count: int) -> None:
    console = Console()
    if not findings:
        console.print(f"No blaming language found in {file_count} file(s).")
        return
    table = Table("Where", "Text", "Category", "Why", "Try instead")
    for path, f in findings:
        table.add_row(f"{path}:{f.line}:{f.column}", f.text, f.category, f.message, f.suggestion)
    console.print(table)
    console.print(f"{len(findings)} finding(s) in {file_count} file(s).")
