"""Blame-aware language check (method.md section 3): find phrasing that blames people.

What lives here: `check_text()`, which reads Markdown written by an investigator and returns
`Finding`s (span, category, short reason, suggested rewording), the nine `CATEGORIES`, and
`open_findings()`, which drops findings whose fingerprint was dismissed. Nothing here stores
dismissals, reads files or rewrites text: the check never auto-rewrites.

How: the text is first *masked* (same length, excluded characters turned into spaces) so
that quoted evidence is never judged: fenced and indented code, inline code, block quotes,
text in double or curly quotes, URLs and log lines (timestamp plus level). Headings are judged
leniently (framing words only). Hand-written regular-expression rules then find candidate
phrases, and each rule's guard looks at *whom* the phrase is about with a small subject
classifier over the words before it (pronouns, "the on-call engineer", team words and names
from the people directory vs system nouns such as service, check, request, database). A plain
phrase list reaches high recall but flags about two neutral sentences for every real one;
precision matters more, because a checker that cries wolf gets switched off.

Why hand-written rules and not a library: no maintained Python library checks blaming or
counterfactual language (the closest tool, the `alex` linter, is JavaScript and only knows
condescending words), and core code may import only the standard library.

The check lives in `check` (driver, `Finding`, `CATEGORIES`); masking in `_mask`, the
subject classifier in `_subjects`, the rules in `_rules`. Whole documents (Markdown, plain
text, HTML via `_html`), ignore comments and `.afteraction-language.toml` settings are in
`documents` (`check_document`). Callers import from this package.
"""

from __future__ import annotations

from afteraction.core.analysis.language.check import (
    CATEGORIES,
    Finding,
    check_text,
    open_findings,
)
from afteraction.core.analysis.language.documents import (
    CONFIG_FILE,
    CONFIG_KEYS,
    KINDS,
    LanguageConfig,
    check_document,
    kind_of,
    parse_config,
    sniff_kind,
)

__all__ = [
    "CATEGORIES",
    "CONFIG_FILE",
    "CONFIG_KEYS",
    "KINDS",
    "Finding",
    "LanguageConfig",
    "check_document",
    "check_text",
    "kind_of",
    "open_findings",
    "parse_config",
    "sniff_kind",
]
