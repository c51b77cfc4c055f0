"""HTML as prose for the language check: `html_prose()` turns an HTML document into text of
the same length and the same lines, so a finding's line and column point into the original
file. Tags and comments become spaces; the content of code, preformatted text, quotations,
scripts and styles becomes spaces too (evidence and code are never judged); entities are
decoded, and the characters they saved are given back as spaces at the next space, so only
the rest of a word holding an entity shifts. The end of a block (`</p>`, `</li>`, `<br>`, a
cell…) becomes `|`, which the check treats as a sentence bound, like a Markdown table cell.
No parser library: a tokenizer over tags, comments and entities is enough for prose."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"<!--[\s\S]*?(?:-->|$)|<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|<[!?][^>]*>?"
    r"|<(?P<end>/)?(?P<name>[A-Za-z][\w:.-]*)(?:[^>\"']|\"[^\"]*\"|'[^']*')*>"
    r"|&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
)
_UNJUDGED = frozenset(
    "script style pre code kbd samp tt var blockquote q textarea svg math head template "
    "noscript".split()
)
_BLOCK = frozenset(
    "p div li ul ol dl dd dt h1 h2 h3 h4 h5 h6 tr td th table thead tbody tfoot caption "
    "section article header footer main nav aside figure figcaption details summary "
    "title br hr".split()
)
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_VOID = frozenset("br hr img input meta link area base col embed source track wbr".split())
_SPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class HtmlProse:
    text: str  # same length and lines as the HTML; only prose left
    headings: list[tuple[int, int]]  # spans of heading content
    block_ends: list[int]  # offsets of the `|` written at the end of each block


def _blank(s: str) -> str:
    return re.sub(r"[^\n]", " ", s)


def html_prose(source: str) -> HtmlProse:
    """The prose of the HTML document `source`, position for position."""
    out = _Writer()
    headings: list[tuple[int, int]] = []
    block_ends: list[int] = []
    hidden: dict[str, int] = {}
    heading_start: int | None = None
    pos = 0
    for m in _TOKEN.finditer(source):
        text = source[pos : m.start()]
        out.text(_blank(text) if any(hidden.values()) else text)
        token, name = m.group(0), (m.group("name") or "").lower()
        pos = m.end()
        if token[0] == "&":
            if any(hidden.values()):
                out.text(_blank(token))
            else:
                out.entity(token)
            continue
        blank = _blank(token)
        closing = bool(m.group("end")) or name in _VOID or token.endswith("/>")
        if name in _BLOCK and closing:
            block_ends.append(out.size + out.owed)
            blank = "|" + blank[1:]
        out.tag(blank)
        if name in _UNJUDGED and name not in _VOID and not token.endswith("/>"):
            hidden[name] = max(0, hidden.get(name, 0) + (-1 if m.group("end") else 1))
        if name in _HEADINGS:
            if m.group("end") and heading_start is not None:
                headings.append((heading_start, out.size - len(blank)))
                heading_start = None
            elif not m.group("end"):
                heading_start = out.size
    tail = source[pos:]
    out.text(_blank(tail) if any(hidden.values()) else tail)
    return HtmlProse(out.done(), headings, block_ends)


class _Writer:
    """Collects the output and owes back, as spaces, the characters decoded entities saved."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.owed = 0

    def _put(self, s: str) -> None:
        self.parts.append(s)
        self.size += len(s)

    def text(self, data: str) -> None:
        if self.owed and data:
            space = _SPACE.search(data)
            if space:
                cut = space.start()
                data, self.owed = data[:cut] + " " * self.owed + data[cut:], 0
        self._put(data)

    def entity(self, token: str) -> None:
        decoded = html.unescape(token)
        self.owed += len(token) - len(decoded)
        self._put(decoded)

    def tag(self, blank: str) -> None:
        self._put(" " * self.owed + blank)
        self.owed = 0

    def done(self) -> str:
        self._put(" " * self.owed)
        return "".join(self.parts)
