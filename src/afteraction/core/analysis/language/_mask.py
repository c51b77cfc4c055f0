"""Masking: the text with everything that must not be judged turned into spaces (same
length), and where its headings are. Quoted evidence is never judged: fenced and indented
code, inline code, block quotes, text in double or curly quotes, URLs, HTML comments and log
lines. Plain text (not Markdown) keeps indented lines and `#` lines as prose."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
_BLOCK_QUOTE = re.compile(r"^ {0,3}>")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:\s|$)")
_TIMESTAMP = re.compile(r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d|^\W{0,2}\d\d:\d\d:\d\d\b")
_LEVEL = re.compile(r"\b(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|PANIC)\b")
_INLINE = re.compile(
    r"<!--[\s\S]*?-->"  # HTML comment
    r"|(`+)[^`]*?\1"  # code span
    r"|\"[^\"\n]{0,400}?(?:\n(?!\s*\n)[^\"\n]{0,400}?){0,4}\""  # "double quotes"
    r"|“[^”]{0,600}?”"  # curly quotes
    r"|\]\([^)\s]*\)|<?https?://[^\s>)]+>?"  # link targets and URLs
)


def _blank(s: str) -> str:
    return re.sub(r"[^\n]", " ", s)


def _is_log_line(line: str) -> bool:
    return bool(_TIMESTAMP.search(line) and _LEVEL.search(line))


def _mask(text: str, *, markdown: bool = True) -> tuple[str, list[tuple[int, int]]]:
    """Blank out evidence and code; return the masked text and the heading line spans.
    Without `markdown`, fences, indented code and `#` headings are not recognised."""
    out: list[str] = []
    headings: list[tuple[int, int]] = []
    fence: str | None = None
    prev_blank, prev_code, pos = True, False, 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        opener = _FENCE.match(body) if markdown else None
        indented = markdown and body.startswith(("    ", "\t")) and not _LIST_ITEM.match(body)
        code = indented and (prev_blank or prev_code) and bool(body.strip())
        if fence is not None or opener:
            if fence is None and opener:
                fence = opener.group(1)[0] * 3
            elif fence is not None and body.strip().startswith(fence):
                fence = None
            out.append(_blank(line))
        elif code or _BLOCK_QUOTE.match(body) or _is_log_line(body):
            out.append(_blank(line))
        else:
            if markdown and _HEADING.match(body):
                headings.append((pos, pos + len(line)))
            out.append(line)
        prev_code = code or (prev_code and not body.strip())
        prev_blank = not body.strip()
        pos += len(line)
    masked = "".join(out)
    return _INLINE.sub(lambda m: _blank(m.group(0)), masked), headings
