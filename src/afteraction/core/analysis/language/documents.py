"""The language check over whole documents, wherever reports are written: Markdown, plain
text or HTML (`KINDS`, `kind_of()`), inline ignore comments, and the per-repository
settings of `.afteraction-language.toml` (`LanguageConfig`, `parse_config()`).

`check_document()` prepares the text for its kind (HTML becomes prose of the same length and
lines, see `_html`), blanks what ignore comments cover, runs the rules once, and keeps the
findings of enabled categories that no allowed phrase covers. Positions always refer to the
original document. Reading files and finding the config file belong to the caller.

Ignore comments (an HTML comment, in any of the three kinds):

- `<!-- afteraction-language: ignore -->` ignores the paragraph that follows it (up to the
  next blank line, or in HTML the end of the next block);
- `<!-- afteraction-language: ignore-line -->` ignores the line it is on, or the next line
  when the comment stands alone on its line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from afteraction.core.analysis.language._html import html_prose
from afteraction.core.analysis.language._mask import _mask
from afteraction.core.analysis.language.check import CATEGORIES, Finding, _check
from afteraction.core.errors import ValidationError

KINDS = ("markdown", "text", "html")
CONFIG_FILE = ".afteraction-language.toml"
CONFIG_KEYS = {
    "enable": "categories to check (default: all nine)",
    "disable": "categories not to check",
    "allow": "phrases never flagged, matched as whole words in any case",
    "people": "names from the people directory, for the naming check",
}
_SUFFIXES = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdown": "markdown",
    ".mkd": "markdown",
    ".mdx": "markdown",
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
}
_DIRECTIVE = re.compile(r"<!--\s*afteraction-language:\s*(?P<what>[\w-]*)\s*-->")
_DIRECTIVES = ("ignore", "ignore-line")
_PARAGRAPH_END = re.compile(r"\n[ \t]*(?:\n|$)")


@dataclass(frozen=True, slots=True)
class LanguageConfig:
    """What to check: the enabled categories, allowed phrases and people's names."""

    categories: frozenset[str] = frozenset(CATEGORIES)
    allow: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    _allowed: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        patterns = tuple(
            re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, p.split())) + r"(?!\w)", re.I)
            for p in self.allow
            if p.strip()
        )
        object.__setattr__(self, "_allowed", patterns)

    def keeps(self, text: str, finding: Finding) -> bool:
        """Whether `finding` in `text` is in an enabled category and no allowed phrase
        overlaps it."""
        if finding.category not in self.categories:
            return False
        for pattern in self._allowed:
            lo, hi = max(0, finding.start - 200), finding.end + 200
            for m in pattern.finditer(text, lo, hi):
                if m.start() < finding.end and m.end() > finding.start:
                    return False
        return True


def kind_of(name: str) -> str:
    """The kind of a file from its name: Markdown unless its suffix says text or HTML."""
    suffix = name[name.rfind(".") :].lower() if "." in name.rsplit("/", 1)[-1] else ""
    return _SUFFIXES.get(suffix, "markdown")


def sniff_kind(text: str) -> str:
    """The kind of text with no name (standard input): HTML when it starts like HTML."""
    head = text.lstrip()[:15].lower()
    html_start = head.startswith(("<!doctype html", "<html", "<body", "<p>", "<div"))
    return "html" if html_start else "markdown"


def parse_config(text: str, *, source: str = CONFIG_FILE) -> LanguageConfig:
    """The settings in TOML `text`; a `ValidationError` naming `source` for anything else."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValidationError(f"{source}: not valid TOML: {error}", field=source) from None
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown:
        known = ", ".join(CONFIG_KEYS)
        raise ValidationError(
            f"{source}: unknown key {unknown[0]!r}; known keys: {known}", field=unknown[0]
        )
    lists = {key: _strings(data, key, source) for key in CONFIG_KEYS}
    for key in ("enable", "disable"):
        bad = [c for c in lists[key] if c not in CATEGORIES]
        if bad:
            raise ValidationError(
                f"{source}: {key}: unknown category {bad[0]!r}; categories: "
                + ", ".join(CATEGORIES),
                field=key,
            )
    enabled = set(lists["enable"]) if "enable" in data else set(CATEGORIES)
    return LanguageConfig(
        frozenset(enabled - set(lists["disable"])),
        tuple(lists["allow"]),
        tuple(lists["people"]),
    )


def _strings(data: dict[str, Any], key: str, source: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{source}: {key} must be a list of strings", field=key)
    return value


def check_document(
    text: str,
    *,
    kind: str = "markdown",
    config: LanguageConfig | None = None,
    people: Iterable[str] = (),
) -> list[Finding]:
    """Findings in a whole document of `kind`, with its ignore comments and `config`."""
    if kind not in KINDS:
        raise ValidationError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}", field="kind")
    config = config or LanguageConfig()
    block_ends: list[int] = []
    prose, extra_headings = text, []
    if kind == "html":
        converted = html_prose(text)
        prose, extra_headings, block_ends = converted.text, converted.headings, converted.block_ends
    masked, headings = _mask(prose, markdown=kind == "markdown")
    masked = _apply_ignores(text, masked, block_ends)
    names = (*config.people, *people)
    found = _check(prose, masked, headings + extra_headings, names)
    if kind == "html":  # the spaces an entity left behind are not part of the phrase
        found = [replace(f, text=" ".join(f.text.split())) for f in found]
    return [f for f in found if config.keeps(prose, f)]


def _apply_ignores(original: str, masked: str, block_ends: list[int]) -> str:
    """`masked` with what the ignore comments of `original` cover turned into spaces."""
    if "afteraction-language" not in original:
        return masked
    spans = []
    for m in _DIRECTIVE.finditer(original):
        what = m.group("what")
        if what not in _DIRECTIVES:
            line = original.count("\n", 0, m.start()) + 1
            raise ValidationError(
                f"line {line}: unknown ignore comment {what!r}; use: " + ", ".join(_DIRECTIVES),
                field="ignore",
            )
        spans.append(_ignored_span(original, m, what, block_ends))
    chars = list(masked)
    for start, end in spans:
        chars[start:end] = [c if c == "\n" else " " for c in masked[start:end]]
    return "".join(chars)


def _ignored_span(
    original: str, m: re.Match[str], what: str, block_ends: list[int]
) -> tuple[int, int]:
    line_start = original.rfind("\n", 0, m.start()) + 1
    line_end = original.find("\n", m.end())
    line_end = len(original) if line_end == -1 else line_end
    alone = not (original[line_start : m.start()] + original[m.end() : line_end]).strip()
    if what == "ignore-line":
        if not alone:
            return line_start, line_end
        nxt = re.compile(r"[^\n]*\S[^\n]*").search(original, line_end)
        return (line_end, nxt.end()) if nxt else (line_end, line_end)
    first = re.compile(r"\S").search(original, m.end())
    if first is None:
        return m.end(), m.end()
    para = _PARAGRAPH_END.search(original, first.start())
    end = para.start() if para else len(original)
    block = next((b for b in block_ends if b >= first.start()), end)
    return m.end(), min(end, block + 1)
