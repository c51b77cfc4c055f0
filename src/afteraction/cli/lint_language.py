"""The `lint-language` command: run the blame-aware language check over Markdown, plain text
or HTML files, or standard input, wherever reports are written.

Only reading documents and the settings file, choosing the output and the exit code live
here; the check is `afteraction.core.analysis.language.check_document`, the rendering
`cli._language_output`. No database, settings or network. Registered as
`afteraction lint-language` by `cli/main.py`.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from afteraction.cli._language_output import (
    Located,
    github_lines,
    json_text,
    print_table,
    sarif_text,
)
from afteraction.core.analysis.language import (
    CONFIG_FILE,
    LanguageConfig,
    check_document,
    kind_of,
    parse_config,
    sniff_kind,
)
from afteraction.core.errors import ValidationError


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class InputFormat(StrEnum):
    auto = "auto"
    markdown = "markdown"
    text = "text"
    html = "html"


def lint_language(
    files: Annotated[
        list[Path],
        typer.Argument(help="Markdown, text or HTML files (UTF-8); - reads standard input."),
    ],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the findings as a JSON list (--format json).")
    ] = False,
    output: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="text, json, sarif (SARIF 2.1.0) or github."),
    ] = OutputFormat.text,
    input_format: Annotated[
        InputFormat,
        typer.Option("--input-format", help="How to read the input; auto goes by the file suffix."),
    ] = InputFormat.auto,
    config: Annotated[
        Path | None,
        typer.Option("--config", help=f"Settings file (default: {CONFIG_FILE} found upwards)."),
    ] = None,
    person: Annotated[
        list[str] | None,
        typer.Option("--person", "-p", help="A name from the people directory (repeatable)."),
    ] = None,
) -> None:
    """Flag blaming and counterfactual language in incident write-ups.

    Quoted evidence (block quotes, text in quotes), code and log lines are skipped, and so
    is what an afteraction-language ignore comment covers. Settings are read from
    .afteraction-language.toml in this folder or a parent (see docs/language-check.md).
    Exits with 1 when anything is flagged, 0 when the text is clean, 2 on a usage error
    (unreadable file, bad settings).

    Example: afteraction lint-language report.md --json
    """
    if json_output and output not in {OutputFormat.text, OutputFormat.json}:
        _usage(f"--json and --format {output.value} ask for two outputs; choose one")
    fmt = OutputFormat.json if json_output else output
    settings = _settings(config)
    findings: list[Located] = []
    for path in files:
        name, text = _read(path)
        kind = input_format.value if input_format is not InputFormat.auto else _kind(name, text)
        try:
            found = check_document(text, kind=kind, config=settings, people=person or ())
        except ValidationError as error:
            _usage(f"{name}: {error.message}")
        findings.extend((name, f) for f in found)
    _render(fmt, findings, len(files))
    if findings:
        raise typer.Exit(1)


def _kind(name: str, text: str) -> str:
    return sniff_kind(text) if name == "-" else kind_of(name)


def _render(fmt: OutputFormat, findings: list[Located], file_count: int) -> None:
    if fmt is OutputFormat.json:
        typer.echo(json_text(findings))
    elif fmt is OutputFormat.sarif:
        typer.echo(sarif_text(findings))
    elif fmt is OutputFormat.github:
        for line in github_lines(findings):
            typer.echo(line)
    else:
        print_table(findings, file_count)


def _usage(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _settings(path: Path | None) -> LanguageConfig:
    """The settings of `--config`, or of the nearest `.afteraction-language.toml`."""
    if path is None:
        here = Path.cwd()
        path = next(
            (d / CONFIG_FILE for d in (here, *here.parents) if (d / CONFIG_FILE).is_file()), None
        )
        if path is None:
            return LanguageConfig()
    _name, text = _read(path)
    try:
        return parse_config(text, source=str(path))
    except ValidationError as error:
        _usage(error.message)


def _read(path: Path) -> tuple[str, str]:
    """The name to report and the UTF-8 text, or a clear error naming it and exit code 2."""
    if str(path) == "-":
        try:
            return "-", sys.stdin.read()
        except UnicodeDecodeError:
            _usage("cannot read standard input: not valid UTF-8 text")
    try:
        return str(path), path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        reason = "not valid UTF-8 text"
    except IsADirectoryError:
        reason = "is a directory"
    except OSError as error:
        reason = error.strerror or str(error)
    _usage(f"cannot read {path}: {reason}")
