"""Meeting transcripts turned into TranscriptCues: WebVTT (W3C, Zoom, Microsoft Teams) and
Zoom chat exports.

Lives here: `parse_vtt`, `parse_zoom_chat`, `zoom_recording_start`. Does not live here:
matching speakers to people (`roster.match_identities`), persistence.

Speakers: a Teams/W3C voice span `<v Jane Doe>` wins; otherwise a Zoom `Name: ` prefix on
the first payload line (a name of at most six words and 60 characters that starts with a
letter); otherwise the cue has no speaker (`None`) — never inherited from the cue before.
Cue text keeps its line breaks; markup tags are dropped and entities decoded.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from afteraction.core.errors import ImportFailed
from afteraction.core.evidence import TranscriptCue
from afteraction.core.incidents import require_aware

_TIME = r"(?:(\d{1,3}):)?(\d{2}):(\d{2})[.,](\d{3})"
_TIMING_RE = re.compile(rf"^\s*{_TIME}\s+-->\s+{_TIME}(?:\s+.*)?$")
_VOICE_RE = re.compile(r"<v(?:\.[^\s>]*)?[ \t]+([^>]+)>")
_TAG_RE = re.compile(r"</?[^>]*>")
_ZOOM_SPEAKER_RE = re.compile(r"^([A-Za-z\u00c0-\uffff][^:\n]{0,59}?):[ \t]+(.*)$", re.S)
_ZOOM_FILE_RE = re.compile(r"GMT(\d{8})-(\d{6})")
_BLOCK_KEYWORDS = ("NOTE", "STYLE", "REGION")


def zoom_recording_start(name: str) -> datetime | None:
    """UTC start from a Zoom file name such as `GMT20240501-103000_Recording.transcript.vtt`."""
    match = _ZOOM_FILE_RE.search(name)
    if not match:
        return None
    try:
        return datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S").replace(
            tzinfo=UTC
        )
    except ValueError:
        return None


def _load(text_or_path: str | Path, default_source: str) -> tuple[str, str, str | None]:
    """Return (text, source name, file name or None)."""
    if isinstance(text_or_path, Path) or (
        "\n" not in text_or_path
        and "\r" not in text_or_path
        and not text_or_path.lstrip("\ufeff").startswith("WEBVTT")
        and text_or_path.strip() != ""
    ):
        path = Path(text_or_path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ImportFailed(f"cannot read file ({exc.strerror})", where=path.name) from exc
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise ImportFailed("not UTF-8 text", where=f"{path.name}: line {line}") from exc
        return text, path.name, path.name
    return text_or_path, default_source, None


def _lines(text: str) -> list[str]:
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _seconds(groups: tuple[str | None, ...]) -> float:
    hours, minutes, secs, millis = groups
    return (
        int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(secs or 0) + int(millis or 0) / 1000
    )


@dataclass(frozen=True, slots=True)
class _Block:
    line: int  # 1-based line number of the block's first line
    lines: list[str]


def _blocks(lines: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines, start=1):
        if line.strip() == "":
            if current:
                blocks.append(_Block(start, current))
                current = []
            continue
        if not current:
            start = number
        current.append(line)
    if current:
        blocks.append(_Block(start, current))
    return blocks


def parse_vtt(
    text_or_path: str | Path,
    *,
    recording_start: datetime | None = None,
    source: str | None = None,
    warnings: list[str] | None = None,
) -> list[TranscriptCue]:
    """Parse WebVTT text or a `.vtt` path (a str without line breaks is taken as a path).

    `at` is `recording_start` + the cue's start offset; when not given, the start is read
    from a Zoom file name (`GMT20240501-103000_…`, UTC). A missing `WEBVTT` signature raises
    ImportFailed; cues with broken timings are skipped and listed in `warnings`.
    """
    text, src, file_name = _load(text_or_path, source or "transcript.vtt")
    src = source or src
    if recording_start is None and file_name is not None:
        recording_start = zoom_recording_start(file_name)
    if recording_start is not None:
        require_aware(recording_start, field_name="recording_start")
    lines = _lines(text)
    first = lines[0] if lines else ""
    if not (first == "WEBVTT" or first.startswith(("WEBVTT ", "WEBVTT\t"))):
        raise ImportFailed("missing the 'WEBVTT' signature", where=f"{src}: line 1")
    cues: list[TranscriptCue] = []
    for block in _blocks(lines)[1:]:  # the first block is the signature and header
        cue = _cue(block, src, recording_start, warnings)
        if cue is not None:
            cues.append(cue)
    return cues


def _cue(
    block: _Block, src: str, start_at: datetime | None, warnings: list[str] | None
) -> TranscriptCue | None:
    head = block.lines[0]
    if head.split(maxsplit=1)[0] in _BLOCK_KEYWORDS and "-->" not in head:
        return None
    timing_index = 0 if "-->" in head else 1
    if timing_index >= len(block.lines) or "-->" not in block.lines[timing_index]:
        _warn(warnings, f"{src}: line {block.line}: block without a cue timing skipped")
        return None
    match = _TIMING_RE.match(block.lines[timing_index])
    where = f"{src}: line {block.line + timing_index}"
    if not match:
        _warn(warnings, f"{where}: bad cue timing {block.lines[timing_index]!r}; cue skipped")
        return None
    start, end = _seconds(match.groups()[:4]), _seconds(match.groups()[4:])
    if end < start:
        _warn(warnings, f"{where}: cue ends before it starts; cue skipped")
        return None
    speaker, body = _speaker_and_text("\n".join(block.lines[timing_index + 1 :]))
    return TranscriptCue(
        start_seconds=start,
        end_seconds=end,
        speaker=speaker,
        text=body,
        at=start_at + timedelta(seconds=start) if start_at is not None else None,
    )


def _warn(warnings: list[str] | None, message: str) -> None:
    if warnings is not None:
        warnings.append(message)


def _clean(payload: str) -> str:
    text = html.unescape(_TAG_RE.sub("", payload)).replace("\u00a0", " ")
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def _speaker_and_text(payload: str) -> tuple[str | None, str]:
    voice = _VOICE_RE.search(payload)
    if voice:
        return html.unescape(voice.group(1)).strip(), _clean(payload)
    text = _clean(payload)
    zoom = _ZOOM_SPEAKER_RE.match(text)
    if zoom and len(zoom.group(1).split()) <= 6:
        return zoom.group(1).strip(), zoom.group(2).strip()
    return None, text


# --------------------------------------------------------------------------- Zoom chat

_CHAT_FROM_RE = re.compile(
    r"^(\d{1,2}):(\d{2}):(\d{2})\s+From\s+(.+?)\s+to\s+(.+?)\s*:(?:[ \t]+(.*))?$"
)
_CHAT_PLAIN_RE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})\t+\s*([^\t]+?):\t(.*)$")
_PRIVATE_RE = re.compile(r"direct message|privately", re.IGNORECASE)


def parse_zoom_chat(
    text: str,
    *,
    meeting_start: datetime | None = None,
    include_private: bool = False,
    source: str = "chat.txt",
    warnings: list[str] | None = None,
) -> list[TranscriptCue]:
    """Parse a Zoom chat export; each message becomes a zero-length cue at its offset.

    Formats: `HH:MM:SS<TAB>Name:<TAB>text` (cloud recording), `HH:MM:SS<TAB> From  Name  to
    Everyone:<TAB>text` (older local saves) and `HH:MM:SS From Name to Everyone:` with the
    text on the following (indented) lines (newer saves). Lines that match no header continue
    the message before them. Direct/private messages are skipped (counted in `warnings`)
    unless `include_private`.
    """
    if meeting_start is not None:
        require_aware(meeting_start, field_name="meeting_start")
    cues: list[list[object]] = []  # [seconds, speaker, [lines]]
    skipped = 0
    private = False
    for number, line in enumerate(_lines(text), start=1):
        header = _chat_header(line)
        if header is not None:
            seconds, speaker, recipient, body = header
            private = recipient is not None and bool(_PRIVATE_RE.search(recipient))
            private = private and not include_private
            if private:
                skipped += 1
                continue
            cues.append([seconds, speaker, [body] if body else []])
        elif line.strip() and not private:
            if not cues:
                raise ImportFailed(
                    "text before the first message header", where=f"{source}: line {number}"
                )
            lines = cues[-1][2]
            assert isinstance(lines, list)
            lines.append(line.strip())
    if skipped:
        _warn(warnings, f"{source}: {skipped} private message(s) skipped")
    return [_chat_cue(c, meeting_start) for c in cues]


def _chat_header(line: str) -> tuple[float, str, str | None, str] | None:
    match = _CHAT_FROM_RE.match(line)
    if match:
        h, m, s, speaker, recipient, body = match.groups()
        return (
            int(h) * 3600 + int(m) * 60 + int(s),
            speaker.strip(),
            recipient,
            (body or "").strip(),
        )
    match = _CHAT_PLAIN_RE.match(line)
    if match:
        h, m, s, speaker, body = match.groups()
        return int(h) * 3600 + int(m) * 60 + int(s), speaker.strip(), None, body.strip()
    return None


def _chat_cue(cue: list[object], start: datetime | None) -> TranscriptCue:
    seconds, speaker, lines = cue
    assert isinstance(seconds, int | float) and isinstance(speaker, str) and isinstance(lines, list)
    return TranscriptCue(
        start_seconds=float(seconds),
        end_seconds=float(seconds),
        speaker=speaker,
        text="\n".join(lines),
        at=start + timedelta(seconds=float(seconds)) if start is not None else None,
    )
