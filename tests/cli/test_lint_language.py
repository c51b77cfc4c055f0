"""Tests for the `lint-language` command, run through a small Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from afteraction.cli.lint_language import lint_language

app = typer.Typer()
app.command("lint-language")(lint_language)


@app.callback()
def _root() -> None:
    """Keep `lint-language` as a named sub-command, as in the real CLI."""


runner = CliRunner()


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "report.md"
    path.write_text(
        "# Incident report\n\n"
        "The on-call engineer failed to acknowledge the page.\n\n"
        "> Sam: we should have rolled back\n\n"
        "The health check did not pass after the restart.\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    path = tmp_path / "clean.md"
    path.write_text("Requests failed to connect to the primary.\n", encoding="utf-8")
    return path


def test_json_lists_findings_and_exits_1(report: Path) -> None:
    result = runner.invoke(app, ["lint-language", str(report), "--json"])
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    assert len(rows) == 1
    row = rows[0]
    assert row["file"] == str(report)
    assert (row["line"], row["column"], row["end_column"]) == (3, 22, 31)
    assert row["text"] == "failed to"
    assert row["category"] == "omission"
    assert row["message"] and row["suggestion"] and row["fingerprint"]


def test_clean_file_exits_0(clean: Path) -> None:
    result = runner.invoke(app, ["lint-language", str(clean), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    result = runner.invoke(app, ["lint-language", str(clean)])
    assert result.exit_code == 0
    assert "No blaming language found in 1 file(s)." in result.stdout


def test_table_output_names_file_and_category(
    report: Path, clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(report.parent)
    result = runner.invoke(app, ["lint-language", report.name, clean.name])
    assert result.exit_code == 1
    assert "report.md:3:22" in result.stdout
    assert "omission" in result.stdout
    assert "1 finding(s) in 2 file(s)." in result.stdout


def test_people_option_enables_naming(tmp_path: Path) -> None:
    path = tmp_path / "n.md"
    path.write_text("Tomasz forgot to renew the certificate.\n", encoding="utf-8")
    result = runner.invoke(app, ["lint-language", str(path), "--json", "-p", "Tomasz Nowak"])
    assert [r["category"] for r in json.loads(result.stdout)] == ["naming_individuals"]


def test_non_utf8_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes("caf\xe9 failed to".encode("latin-1"))
    result = runner.invoke(app, ["lint-language", str(path)])
    assert result.exit_code == 2
    assert f"cannot read {path}: not valid UTF-8 text" in result.stderr


def test_missing_file_and_directory_are_usage_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.md"
    result = runner.invoke(app, ["lint-language", str(missing)])
    assert result.exit_code == 2
    assert f"cannot read {missing}: No such file or directory" in result.stderr
    result = runner.invoke(app, ["lint-language", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a directory" in result.stderr


def test_help_ends_with_example() -> None:
    result = runner.invoke(app, ["lint-language", "--help"])
    assert result.exit_code == 0
    assert "afteraction lint-language report.md --json" in result.stdout
