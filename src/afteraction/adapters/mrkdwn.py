"""Slack mrkdwn: decode message text to plain text and render it to safe HTML.

Lives here: tokenizing `<...>` control sequences, the one-time entity decoding of
`&lt; &gt; &amp;`, mention/channel/link extraction, and HTML rendering sanitised by nh3.
Decoding follows formats.md §1.7: tokenize on the raw text, split each sequence at the
first `|`, and only then unescape, once (`talks&amp;nbsp;` becomes the literal `&nbsp;`).

Must not live here: reading exports or calling Slack (see `slack_export`, `slack_api`).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import nh3

_CONTROL = re.compile(r"<([^<>]*)>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_BROADCASTS = {"here": "here", "channel": "channel", "everyone": "everyone", "group": "channel"}
_SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def escape_mrkdwn(text: str) -> str:
    """Plain text as mrkdwn that decodes back to it: `&`, `<` and `>` as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Replace `&amp;`, `&lt;` and `&gt;` once, in a single pass (never twice)."""
    if "&" not in text:
        return text
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


@dataclass(frozen=True, slots=True)
class Token:
    """One piece of mrkdwn text.

    kind: text, user, channel, broadcast, usergroup, date, command, link.
    `target` is the decoded id/url/command (the text itself for kind text), `label` the
    decoded part after the first `|` if any, `raw` the undecoded source.
    """

    kind: str
    raw: str
    target: str
    label: str | None = None


@dataclass(frozen=True, slots=True)
class DecodedText:
    plain: str
    mentions: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    broadcasts: tuple[str, ...] = ()
    usergroups: tuple[str, ...] = ()
    links: tuple[str, ...] = ()


def _classify(inner: str) -> Token:
    raw = f"<{inner}>"
    target_raw, sep, label_raw = inner.partition("|")
    target = unescape(target_raw)
    label = unescape(label_raw) if sep else None
    if target.startswith("@"):
        return Token("user", raw, target[1:], label)
    if target.startswith("#"):
        return Token("channel", raw, target[1:], label)
    if target.startswith("!"):
        return _classify_command(raw, target[1:], label)
    if _SCHEME.match(target):
        return Token("link", raw, target, label)
    return Token("text", raw, unescape(raw))


def _classify_command(raw: str, command: str, label: str | None) -> Token:
    if command in _BROADCASTS:
        return Token("broadcast", raw, _BROADCASTS[command], label)
    if command.startswith("subteam^"):
        return Token("usergroup", raw, command.removeprefix("subteam^"), label)
    if command.startswith("date^"):
        return Token("date", raw, command.removeprefix("date^"), label)
    return Token("command", raw, command, label)


def tokenize(text: str) -> list[Token]:
    """Split raw Slack text into text runs and control sequences (nothing unescaped twice)."""
    tokens: list[Token] = []
    pos = 0
    for match in _CONTROL.finditer(text):
        if match.start() > pos:
            chunk = text[pos : match.start()]
            tokens.append(Token("text", chunk, unescape(chunk)))
        tokens.append(_classify(match.group(1)))
        pos = match.end()
    if pos < len(text):
        chunk = text[pos:]
        tokens.append(Token("text", chunk, unescape(chunk)))
    return tokens


def display(token: Token, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    """The plain-text form of one token (mentions as @name where the name is known)."""
    if token.kind == "text":
        return token.target
    if token.kind == "user":
        return "@" + (users.get(token.target) or token.label or token.target)
    if token.kind == "channel":
        return "#" + (channels.get(token.target) or token.label or token.target)
    if token.kind == "broadcast":
        return "@" + token.target
    if token.kind == "usergroup":
        return token.label or "@" + token.target
    if token.kind == "date":
        return token.label or token.target
    if token.kind == "command":
        return f"<{token.label or token.target}>"
    return token.label or token.target.removeprefix("mailto:")


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items)) if items else ()


def walk_blocks(
    blocks: list[object], users: Mapping[str, str], channels: Mapping[str, str]
) -> tuple[list[str], dict[str, list[str]]]:
    """What a message's `rich_text` blocks say (formats.md §1.8): their lines of text, and
    the targets they name by kind (`BLOCK_TARGETS`' keys), in order, repeats kept. Block
    text is already plain (no entities, no `<...>` sequences): user, channel, usergroup
    and broadcast elements carry their ids. Other blocks and unknown element types are
    skipped, never guessed at; lists and quotes become lines. `blocks_decoded` puts the
    two together as a `DecodedText`."""
    lines: list[str] = []
    found: dict[str, list[str]] = {}
    for block in blocks:
        if isinstance(block, dict) and block.get("type") == "rich_text":
            _walk_rich_text(block.get("elements"), lines, found, users, channels)
    return lines, found


def blocks_decoded(lines: list[str], found: Mapping[str, Sequence[str]]) -> DecodedText:
    """`walk_blocks`' lines and targets as a `DecodedText`."""
    return DecodedText(
        plain="\n".join(line for line in lines if line),
        mentions=_unique(found.get("user", [])),
        channels=_unique(found.get("channel", [])),
        broadcasts=_unique(found.get("broadcast", [])),
        usergroups=_unique(found.get("usergroup", [])),
        links=_unique(found.get("link", [])),
    )


# Each kind of target `walk_blocks` finds, and the `DecodedText` field that lists it.
BLOCK_TARGETS = {
    "user": "mentions",
    "channel": "channels",
    "broadcast": "broadcasts",
    "usergroup": "usergroups",
    "link": "links",
}


_CONTAINERS = frozenset(
    {"rich_text_section", "rich_text_list", "rich_text_quote", "rich_text_preformatted"}
)


def _walk_rich_text(
    elements: object, lines: list[str], found: dict[str, list[str]],
    users: Mapping[str, str], channels: Mapping[str, str],
) -> None:  # fmt: skip
    if not isinstance(elements, list):
        return
    for element in elements:
        if not isinstance(element, dict):
            continue
        kind = element.get("type")
        if kind in _CONTAINERS:
            if kind == "rich_text_list":  # each item is a section on a line of its own
                for item in element.get("elements") or []:
                    start = len(lines)
                    _walk_rich_text([item], lines, found, users, channels)
                    if len(lines) > start:
                        lines[start] = "• " + lines[start]
                continue
            parts: list[str] = []
            _leaves(element.get("elements"), parts, found, users, channels)
            lines.append("".join(parts))


def _leaves(
    elements: object, parts: list[str], found: dict[str, list[str]],
    users: Mapping[str, str], channels: Mapping[str, str],
) -> None:  # fmt: skip
    if not isinstance(elements, list):
        return
    for leaf in elements:
        if not isinstance(leaf, dict):
            continue
        kind, value = leaf.get("type"), None
        if kind == "text":
            parts.append(str(leaf.get("text") or ""))
        elif kind == "user" and isinstance(value := leaf.get("user_id"), str):
            found.setdefault("user", []).append(value)
            parts.append("@" + (users.get(value) or value))
        elif kind == "channel" and isinstance(value := leaf.get("channel_id"), str):
            found.setdefault("channel", []).append(value)
            parts.append("#" + (channels.get(value) or value))
        elif kind == "usergroup" and isinstance(value := leaf.get("usergroup_id"), str):
            found.setdefault("usergroup", []).append(value)
            parts.append("@" + value)
        elif kind == "broadcast" and isinstance(value := leaf.get("range"), str):
            target = _BROADCASTS.get(value, value)
            found.setdefault("broadcast", []).append(target)
            parts.append("@" + target)
        elif kind == "link" and isinstance(value := leaf.get("url"), str):
            found.setdefault("link", []).append(value)
            parts.append(str(leaf.get("text") or value))
        elif kind == "emoji" and isinstance(value := leaf.get("name"), str):
            parts.append(f":{value}:")
        elif kind in _CONTAINERS:  # nested containers (quotes inside lists...)
            _leaves(leaf.get("elements"), parts, found, users, channels)


def decode(
    text: str, users: Mapping[str, str] | None = None, channels: Mapping[str, str] | None = None
) -> DecodedText:
    """Decode raw mrkdwn into plain text plus the ids, broadcasts and links it mentions."""
    if "<" not in text and "&" not in text:  # no sequence, no entity: the text is plain
        return DecodedText(plain=text)
    return DecodedText(*decode_parts(text, users or {}, channels or {}, {}))


ControlSequence = tuple[str, str, str]  # a control sequence's kind, target and plain form


def decode_parts(
    text: str,
    users: Mapping[str, str],
    channels: Mapping[str, str],
    memo: dict[str, ControlSequence],
) -> tuple[
    str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]
]:
    """`decode` as a tuple in `DecodedText`'s field order. `memo` keeps each control
    sequence's kind, target and plain form for these `users` and `channels`: a bulk import
    passes one dict for all its messages, where the same mentions come back thousands of
    times (`tokenize` + `display`, without a Token per sequence or text run)."""
    parts: list[str] = []
    by_kind: dict[str, list[str]] = {}
    pos = 0
    for match in _CONTROL.finditer(text):
        start = match.start()
        if start > pos:
            parts.append(unescape(text[pos:start]))
        inner = match.group(1)
        known = memo.get(inner)
        if known is None:
            token = _classify(inner)
            known = (token.kind, token.target, display(token, users, channels))
            if len(memo) < _MEMO_LIMIT:
                memo[inner] = known
        kind, target, shown = known
        found = by_kind.get(kind)
        if found is None:
            by_kind[kind] = [target]
        else:
            found.append(target)
        parts.append(shown)
        pos = match.end()
    if pos < len(text):
        parts.append(unescape(text[pos:]))
    get = by_kind.get  # most texts hold one or two kinds: the others are () at once
    return (
        "".join(parts),
        _unique(get("user") or ()),
        _unique(get("channel") or ()),
        _unique(get("broadcast") or ()),
        _unique(get("usergroup") or ()),
        _unique(get("link") or ()),
    )


_MEMO_LIMIT = 100_000


# --- HTML rendering -------------------------------------------------------------------

_PLACEHOLDER = re.compile("\x00(\\d+)\x00")
_PRE = re.compile(r"```(.+?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_MARKS = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])"), "del"),
)
_TAGS = {"a", "strong", "em", "del", "code", "pre", "blockquote", "br", "span"}
_ATTRIBUTES = {"a": {"href"}, "span": {"data-id"}}
_CLASSES = {"span": {"mention", "channel", "broadcast", "usergroup"}}


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _token_html(token: Token, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    shown = html.escape(display(token, users, channels), quote=False)
    if token.kind == "link":
        if token.target.lower().startswith(_SAFE_SCHEMES):
            return f'<a href="{_attr(token.target)}">{shown}</a>'
        return shown
    css = {"user": "mention", "channel": "channel", "broadcast": "broadcast"}.get(token.kind)
    if css is None and token.kind == "usergroup":
        css = "usergroup"
    if css is None:
        return shown
    return f'<span class="{css}" data-id="{_attr(token.target)}">{shown}</span>'


class _Protector:
    """Swaps finished HTML fragments for NUL-delimited placeholders while marks are applied."""

    def __init__(self) -> None:
        self.fragments: list[str] = []

    def hold(self, fragment: str) -> str:
        self.fragments.append(fragment)
        return f"\x00{len(self.fragments) - 1}\x00"

    def restore(self, text: str) -> str:
        while _PLACEHOLDER.search(text):
            text = _PLACEHOLDER.sub(lambda m: self.fragments[int(m.group(1))], text)
        return text


def _format_text(escaped: str, keep: _Protector) -> str:
    escaped = _PRE.sub(lambda m: keep.hold(f"<pre>{m.group(1).strip(chr(10))}</pre>"), escaped)
    escaped = _CODE.sub(lambda m: keep.hold(f"<code>{m.group(1)}</code>"), escaped)
    for pattern, tag in _MARKS:
        escaped = pattern.sub(rf"<{tag}>\1</{tag}>", escaped)
    return _quote_lines(escaped)


def _quote_lines(text: str) -> str:
    out: list[str] = []
    quote: list[str] = []
    for line in text.split("\n"):
        if line.startswith("&gt;"):
            quote.append(line.removeprefix("&gt;").removeprefix(" "))
            continue
        if quote:
            out.append("<blockquote>" + "<br>".join(quote) + "</blockquote>")
            quote = []
        out.append(line)
    if quote:
        out.append("<blockquote>" + "<br>".join(quote) + "</blockquote>")
    return "<br>".join(out).replace("</blockquote><br>", "</blockquote>")


def render_html(
    text: str, users: Mapping[str, str] | None = None, channels: Mapping[str, str] | None = None
) -> str:
    """Render raw mrkdwn as HTML that is safe to embed (sanitised by nh3 in the end).

    The HTML depends only on the text and the names of the users and channels it mentions,
    so it is kept for those (the last `RENDERED` texts): a page rendered again after a write
    renders its unchanged messages once, not on every render (tokenizing, marks and nh3
    cost about 0.1 ms a message)."""
    text = text.replace("\x00", "")
    return _render_known(text, _names_in(text, users or {}, channels or {}))


RENDERED = 8192
"""Rendered texts kept (a few hundred bytes each)."""


def _names_in(
    text: str, users: Mapping[str, str], channels: Mapping[str, str]
) -> tuple[tuple[str, str, str | None], ...]:
    """(`@` or `#`, id, known name) of each user and channel `text` mentions (read by
    `_classify`, as rendering reads them): what `render_html`'s output depends on besides
    the text."""
    if "<" not in text:
        return ()
    found = []
    for match in _CONTROL.finditer(text):
        token = _classify(match.group(1))
        if token.kind == "user":
            found.append(("@", token.target, users.get(token.target)))
        elif token.kind == "channel":
            found.append(("#", token.target, channels.get(token.target)))
    return tuple(found)


@functools.lru_cache(maxsize=RENDERED)
def _render_known(text: str, names: tuple[tuple[str, str, str | None], ...]) -> str:
    users = {key: name for kind, key, name in names if kind == "@" and name is not None}
    channels = {key: name for kind, key, name in names if kind == "#" and name is not None}
    return _render(text, users, channels)


def _render(text: str, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    keep = _Protector()
    parts: list[str] = []
    for token in tokenize(text):
        if token.kind == "text":
            parts.append(html.escape(token.target, quote=False))
        else:
            parts.append(keep.hold(_token_html(token, users, channels)))
    rendered = keep.restore(_format_text("".join(parts), keep))
    return nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="nofollow noopener",
        allowed_classes=_CLASSES,
        url_relative="deny",
    )
