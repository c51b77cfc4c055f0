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


# ------------------------------------------------------------------ inputs


def test_standard_input_is_read_for_a_dash() -> None:
    text = "Intro.\n\nThe on-call engineer failed to acknowledge the page.\n"
    result = runner.invoke(app, ["lint-language", "-", "--json"], input=text)
    assert result.exit_code == 1
    [row] = json.loads(result.stdout)
    assert (row["file"], row["line"], row["column"], row["text"]) == ("-", 3, 22, "failed to")


def test_html_findings_point_at_the_line_and_column_of_the_file(tmp_path: Path) -> None:
    page = tmp_path / "review.html"
    page.write_text(
        "<html><head><title>We failed to see it</title></head><body>\n"
        "  <h1>What happened</h1>\n"
        "    <p>At 02:14 the operator didn&rsquo;t escalate, and <em>the team</em>\n"
        "    failed to notice.</p>\n"
        "    <pre>we should have rolled back</pre>\n"
        "    <blockquote>Sam: we should have rolled back</blockquote>\n"
        "</body></html>\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["lint-language", str(page), "--json"])
    lines = page.read_text(encoding="utf-8").splitlines()
    rows = json.loads(result.stdout)
    assert [(r["line"], r["text"]) for r in rows] == [(3, "didn’t escalate"), (4, "failed to")]
    assert lines[2][rows[0]["column"] - 1 :].startswith("didn&rsquo;t escalate")
    assert lines[3][rows[1]["column"] - 1 : rows[1]["end_column"] - 1] == "failed to"


def test_html_on_standard_input_is_recognised() -> None:
    text = "<!doctype html><p>The team failed to act.</p><pre>we failed to</pre>"
    result = runner.invoke(app, ["lint-language", "-", "--json"], input=text)
    assert [r["column"] for r in json.loads(result.stdout)] == [28]


def test_plain_text_indented_lines_are_prose(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Notes:\n\n    The team failed to act.\n", encoding="utf-8")
    result = runner.invoke(app, ["lint-language", str(notes), "--json"])
    assert [r["line"] for r in json.loads(result.stdout)] == [3]
    result = runner.invoke(
        app, ["lint-language", str(notes), "--json", "--input-format", "markdown"]
    )
    assert json.loads(result.stdout) == []  # an indented Markdown block is code


# ------------------------------------------------------------------ outputs


def test_sarif_is_a_2_1_0_log_with_rules_and_located_results(report: Path) -> None:
    result = runner.invoke(app, ["lint-language", str(report), "--format", "sarif"])
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    assert log["$schema"].endswith("sarif-2.1.0.json")
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "afteraction-language" and driver["version"]
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert rule_ids == ["omission.failed_to"]
    assert all(
        rule["shortDescription"]["text"] and rule["help"]["text"] for rule in driver["rules"]
    )
    [res] = run["results"]
    assert res["ruleId"] in rule_ids and driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
    assert res["level"] in {"none", "note", "warning", "error"}
    assert "Try instead:" in res["message"]["text"]
    [location] = res["locations"]
    physical = location["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == str(report)
    region = physical["region"]
    assert (region["startLine"], region["startColumn"], region["endColumn"]) == (3, 22, 31)
    assert res["partialFingerprints"]["afteractionLanguage/v1"]


def test_sarif_of_a_clean_file_has_an_empty_run(clean: Path) -> None:
    result = runner.invoke(app, ["lint-language", str(clean), "--format", "sarif"])
    assert result.exit_code == 0
    [run] = json.loads(result.stdout)["runs"]
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []


def test_naming_findings_get_their_own_sarif_rule(tmp_path: Path) -> None:
    path = tmp_path / "n.md"
    path.write_text("Tomasz forgot to renew the certificate.\n", encoding="utf-8")
    result = runner.invoke(app, ["lint-language", str(path), "-f", "sarif", "-p", "Tomasz Nowak"])
    [res] = json.loads(result.stdout)["runs"][0]["results"]
    assert res["ruleId"] == "naming_individuals.verb"


def test_github_annotations_escape_their_properties(tmp_path: Path) -> None:
    path = tmp_path / "a, b: c.md"
    path.write_text("Intro.\n\nThe team failed to act.\n", encoding="utf-8")
    result = runner.invoke(app, ["lint-language", str(path), "--format", "github"])
    assert result.exit_code == 1
    [line] = result.stdout.splitlines()
    head, message = line.split("::", 2)[1:]
    assert head.startswith("warning file=")
    assert "a%2C b%3A c.md" in head
    assert ",line=3,col=10,endLine=3,endColumn=19," in head
    assert message.startswith("Frames what a person did not do as a failure.")


def test_json_and_another_format_is_a_usage_error(report: Path) -> None:
    result = runner.invoke(app, ["lint-language", str(report), "--json", "-f", "sarif"])
    assert result.exit_code == 2
    assert "choose one" in result.stderr
    result = runner.invoke(app, ["lint-language", str(report), "--format", "xml"])
    assert result.exit_code == 2


# ------------------------------------------------------------------ settings and ignores


def test_settings_file_is_found_in_a_parent_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".afteraction-language.toml").write_text(
        'disable = ["legacy_framing"]\nallow = ["root cause"]\n', encoding="utf-8"
    )
    folder = tmp_path / "reviews" / "2026"
    folder.mkdir(parents=True)
    (folder / "r.md").write_text(
        "This post-mortem names the root cause. The team failed to act.\n", encoding="utf-8"
    )
    monkeypatch.chdir(folder)
    result = runner.invoke(app, ["lint-language", "r.md", "--json"])
    assert [r["text"] for r in json.loads(result.stdout)] == ["failed to"]


def test_config_option_and_its_errors(tmp_path: Path, report: Path) -> None:
    settings = tmp_path / "lang.toml"
    settings.write_text('enable = ["counterfactual"]\n', encoding="utf-8")
    result = runner.invoke(app, ["lint-language", str(report), "--config", str(settings)])
    assert result.exit_code == 0
    settings.write_text('enable = ["blame"]\n', encoding="utf-8")
    result = runner.invoke(app, ["lint-language", str(report), "--config", str(settings)])
    assert result.exit_code == 2
    assert "unknown category 'blame'" in result.stderr
    settings.write_text("strict = true\n", encoding="utf-8")
    result = runner.invoke(app, ["lint-language", str(report), "--config", str(settings)])
    assert result.exit_code == 2
    assert f"{settings}: unknown key 'strict'" in result.stderr
    result = runner.invoke(app, ["lint-language", str(report), "--config", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_people_from_the_settings_file_enable_naming(tmp_path: Path) -> None:
    settings = tmp_path / "lang.toml"
    settings.write_text('people = ["Tomasz Nowak"]\n', encoding="utf-8")
    path = tmp_path / "n.md"
    path.write_text("Tomasz forgot to renew the certificate.\n", encoding="utf-8")
    result = runner.invoke(app, ["lint-language", str(path), "--json", "--config", str(settings)])
    assert [r["category"] for r in json.loads(result.stdout)] == ["naming_individuals"]


def test_ignore_comments(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_text(
        "<!-- afteraction-language: ignore -->\n"
        "We should have rolled back.\n"
        "The team failed to act.\n"
        "\n"
        "The team failed to look. <!-- afteraction-language: ignore-line -->\n"
        "<!-- afteraction-language: ignore-line -->\n"
        "The team failed to see.\n"
        "The team failed to hear.\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["lint-language", str(path), "--json"])
    assert [r["line"] for r in json.loads(result.stdout)] == [8]


def test_unknown_ignore_comment_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_text("Intro.\n<!-- afteraction-language: skip -->\n", encoding="utf-8")
    result = runner.invoke(app, ["lint-language", str(path)])
    assert result.exit_code == 2
    assert f"{path}: line 2: unknown ignore comment 'skip'" in result.stderr


# ------------------------------------------------------------------ in other repositories

REPO = Path(__file__).resolve().parents[2]


def test_pre_commit_hook_runs_this_command() -> None:
    import tomllib

    import yaml

    from afteraction.cli.main import app as real_app

    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert (hook["id"], hook["language"]) == ("afteraction-language", "python")
    program, command = hook["entry"].split()
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert program in scripts["scripts"]
    assert command in typer.main.get_command(real_app).commands  # type: ignore[attr-defined]
    assert set(hook["types_or"]) == {"markdown", "plain-text", "html"}


def test_the_guide_documents_every_format_setting_and_comment() -> None:
    from afteraction.cli.lint_language import InputFormat, OutputFormat
    from afteraction.core.analysis.language import CATEGORIES, CONFIG_KEYS

    guide = (REPO / "docs" / "language-check.md").read_text(encoding="utf-8")
    for word in [*OutputFormat, *InputFormat, *CONFIG_KEYS, *CATEGORIES]:
        assert f"`{word}`" in guide or f"{word} =" in guide, word
    for needed in ("ignore-line -->", "ignore -->", "id: afteraction-language", "upload-sarif"):
        assert needed in guide
