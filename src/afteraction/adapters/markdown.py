"""Markdown to safe HTML: the one renderer for report text and notes, shared by the pages and
the report exports (HTML, PDF).

markdown-it-py in CommonMark mode with tables, raw HTML off, and the result cleaned by nh3
(ammonia), so user-written text can never inject markup. Nothing else lives here.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_markdown(text: str | None) -> Markup:
    """Markdown → sanitised HTML (raw HTML in the source is not rendered)."""
    html = _markdown.render(text or "")
    return Markup(nh3.clean(html, link_rel="nofollow noopener noreferrer"))
