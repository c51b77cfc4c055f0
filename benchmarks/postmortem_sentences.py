"""The sentences of the real public post-mortems in `../shared/fixtures/postmortems`, split
one way, for the language check's evaluation set of real prose.

The labels (`tests/core/analysis/data/postmortem_labels.tsv`) hold a file, a sentence hash
and a label, never the text: the text stays in the fixtures, and this module finds it again.
The split is deterministic, so a hash names the same sentence on every machine:

- YAML front matter, fenced code blocks, tables, link-only lines, HTML comments and
  headings are left out (headings are labels, not prose);
- each paragraph or list item is one block; a block is split after `.`, `!` or `?` when
  the next word starts with a capital letter, a digit or a quote;
- a sentence is kept when it has at least four words;
- its hash is the first 16 hex digits of the SHA-256 of its words joined by single spaces.

    python benchmarks/postmortem_sentences.py [--tsv]   # count, or list id, file, hash, text
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "postmortems"

_FENCE = re.compile(r"^\s*(```|~~~)")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)]?\s+(?=[\"“'(]?[A-Z0-9])")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_LINK_ONLY = re.compile(r"^\s*(?:!?\[[^\]]*\]\([^)]*\)\s*)+$")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "approx.", "Mr.", "Ms.", "Dr.", "St.", "No.")


@dataclass(frozen=True, slots=True)
class Sentence:
    file: str  # relative to ROOT, with forward slashes
    hash: str
    text: str


def sentence_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]


def _blocks(text: str) -> Iterator[str]:
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[0].strip() == "---":  # YAML front matter
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
        lines = lines[end + 1 :]
    block: list[str] = []
    fenced = False
    in_comment = False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        if "<!--" in line and "-->" not in line:
            in_comment = True
            continue
        if in_comment:
            in_comment = "-->" not in line
            continue
        stripped = line.strip()
        new_item = bool(_LIST_MARK.match(line))
        skip = (
            not stripped or stripped.startswith(("#", "|", "<", ">")) or _LINK_ONLY.match(stripped)
        )
        if skip or new_item:
            if block:
                yield " ".join(block)
            block = []
            if skip:
                continue
            stripped = _LIST_MARK.sub("", line).strip()
        block.append(stripped)
    if block:
        yield " ".join(block)


def _split(block: str) -> Iterator[str]:
    start = 0
    for m in _BOUNDARY.finditer(block):
        before = block[start : m.start()]
        if before.endswith(_ABBREVIATIONS):
            continue
        yield block[start : m.start()]
        start = m.end()
    yield block[start:]


def sentences(root: Path = ROOT) -> list[Sentence]:
    """Every sentence of every `.md` file under `root`, in path order."""
    out: list[Sentence] = []
    for path in sorted(root.rglob("*.md")):
        name = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        seen: set[str] = set()
        for block in _blocks(text):
            for raw in _split(block):
                words = raw.split()
                if len(words) < 4:
                    continue
                sentence = " ".join(words)
                digest = sentence_hash(sentence)
                if digest in seen:
                    continue
                seen.add(digest)
                out.append(Sentence(name, digest, sentence))
    return out


def main(argv: list[str]) -> int:
    if not ROOT.is_dir():
        print(f"no post-mortems at {ROOT}", file=sys.stderr)
        return 2
    found = sentences()
    if "--tsv" in argv:
        for i, s in enumerate(found, 1):
            print(f"{i}\t{s.file}\t{s.hash}\t{s.text}")
    else:
        print(f"{len(found)} sentences in {len({s.file for s in found})} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
