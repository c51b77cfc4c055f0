"""Tests for the language check over whole documents: kinds, HTML as prose, ignore comments
and the `.afteraction-language.toml` settings."""

from __future__ import annotations

import pytest

from afteraction.core.analysis.language import (
    CATEGORIES,
    CONFIG_KEYS,
    LanguageConfig,
    check_document,
    check_text,
    kind_of,
    parse_config,
    sniff_kind,
)
from afteraction.core.analysis.language._html import html_prose
from afteraction.core.errors import ValidationError


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("r.md", "markdown"),
        ("R.MARKDOWN", "markdown"),
        ("notes.txt", "text"),
        ("a/b.html", "html"),
        ("page.htm", "html"),
        ("README", "markdown"),
        ("v1.2/notes", "markdown"),
    ],
)
def test_kind_of_a_file_name(name: str, kind: str) -> None:
    assert kind_of(name) == kind


def test_sniffing_standard_input() -> None:
    assert sniff_kind("  <!DOCTYPE html><p>x</p>") == "html"
    assert sniff_kind("<p>We failed to act.</p>") == "html"
    assert sniff_kind("# Review\n\n<p>inline</p>") == "markdown"


def test_html_prose_keeps_length_and_lines() -> None:
    source = (
        '<div class="a>b">\n<p>A &amp; B didn&#8217;t check &mdash; twice.</p>'
        "<script>we failed to</script>\n<!-- we should have -->\n<code>x</code>&amp;</div>"
    )
    prose = html_prose(source)
    assert len(prose.text) == len(source)
    assert [i for i, c in enumerate(prose.text) if c == "\n"] == [
        i for i, c in enumerate(source) if c == "\n"
    ]
    assert "A & B didn’t check — twice.|" in " ".join(prose.text.split())
    assert "failed" not in prose.text and "should" not in prose.text and "x" not in prose.text
    assert prose.text.index("check") == source.index("check")  # realigned after the entity
    assert prose.text.rstrip().endswith("&    |")
    assert [prose.text[b] for b in prose.block_ends] == ["|", "|"]


def test_html_headings_are_judged_for_framing_only() -> None:
    page = "<h2>We failed to page</h2><h3>Root cause</h3><p>The team failed to act.</p>"
    found = check_document(page, kind="html")
    assert [f.category for f in found] == ["single_cause", "omission"]
    assert html_prose(page).headings[0] == (4, 21)


def test_unclosed_hidden_element_hides_the_rest() -> None:
    assert check_document("<pre>we failed to\nthe team failed to act", kind="html") == []


def test_plain_text_has_no_markdown_blocks() -> None:
    text = "# We failed to page\n\n    The team failed to act.\n"
    assert [f.line for f in check_document(text, kind="text")] == [1, 3]
    assert check_text(text) == []
    assert [f.line for f in check_text(text, markdown=False)] == [1, 3]


def test_html_comments_in_markdown_are_not_prose() -> None:
    assert check_document("Intro.\n<!--\nwe should have\nrolled back -->\n") == []


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown kind 'rst'"):
        check_document("x", kind="rst")


def test_ignore_covers_the_next_paragraph_or_block() -> None:
    md = (
        "<!-- afteraction-language: ignore -->\n\n"
        "The team failed to act.\nWe missed it.\n\nWe missed it."
    )
    assert [f.line for f in check_document(md)] == [6]
    page = (
        "<p>We missed it.</p><!-- afteraction-language: ignore --><p>We missed it.</p>"
        "<p>The team failed to act.</p>"
    )
    assert [f.text for f in check_document(page, kind="html")] == ["missed", "failed to"]
    assert check_document("We missed it.\n<!-- afteraction-language: ignore -->\n  \n") != []


def test_ignore_line_at_the_end_of_the_text() -> None:
    assert check_document("We missed it.\n<!-- afteraction-language: ignore-line -->") != []


def test_settings_enable_disable_allow_people() -> None:
    config = parse_config(
        'enable = ["omission", "legacy_framing", "naming_individuals"]\n'
        'disable = ["legacy_framing"]\nallow = ["failed to  ACT", ""]\npeople = ["Ana Lima"]\n'
    )
    assert config.categories == {"omission", "naming_individuals"}
    text = "This post-mortem: we failed to act, the team failed to act, Ana forgot to look."
    found = check_document(text, config=config)
    assert [(f.text, f.category) for f in found] == [("forgot", "naming_individuals")]
    assert parse_config("") == LanguageConfig()
    assert parse_config("").categories == frozenset(CATEGORIES)


def test_allowed_phrase_must_overlap_the_finding() -> None:
    config = LanguageConfig(allow=("rollback",))
    text = "The rollback was slow. The team failed to act."
    assert [f.text for f in check_document(text, config=config)] == ["failed to"]
    assert check_document("rollbacks: we failed to act", config=LanguageConfig(allow=("we",)))


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("colour = 1", "unknown key 'colour'; known keys: " + ", ".join(CONFIG_KEYS)),
        ('disable = ["blame"]', "disable: unknown category 'blame'"),
        ('allow = "root cause"', "allow must be a list of strings"),
        ("people = [1]", "people must be a list of strings"),
        ("allow = [", "not valid TOML"),
    ],
)
def test_bad_settings_are_clear_errors(toml: str, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        parse_config(toml, source="repo/.afteraction-language.toml")
    assert error.value.message.startswith("repo/.afteraction-language.toml: ")
    assert message in error.value.message


def test_html_edge_cases_keep_positions() -> None:
    source = "</h3><code>a&amp;b</code><p>A&amp;B&amp;C</p>\n<h1>Root cause</h1>"
    prose = html_prose(source)
    assert len(prose.text) == len(source) and prose.text.index("\n") == source.index("\n")
    assert "a&b" not in prose.text and "A&B&C" in prose.text
    assert prose.headings == [(len(source.split("\n")[0]) + 5, len(source) - 5)]


def test_ignore_comment_edge_cases() -> None:
    assert check_document("We missed it.\n<!-- afteraction-language: ignore -->") != []
    with pytest.raises(ValidationError, match="line 2: unknown ignore comment 'off'"):
        check_document("Intro.\n<!-- afteraction-language: off -->\n")
    text = "We missed it. <!-- afteraction-language: ignore-line -->\nWe missed it."
    assert [f.line for f in check_document(text)] == [2]
    text = "<!-- afteraction-language: ignore-line -->  \nWe missed it.\nWe missed it."
    assert [f.line for f in check_document(text)] == [3]
