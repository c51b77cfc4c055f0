"""The language check's evaluation set of real prose: two readers' labels merged into
`tests/core/analysis/data/postmortem_labels.tsv`, and the loader the tests and
`language_check.py` score it with.

Each reader labelled every sentence that `postmortem_sentences.py` splits out of the real
public post-mortems (`id<TAB>hash<TAB>label<TAB>category`, label `flag` or `ok`, category one
of the check's nine or `-`), against method.md section 3 and without seeing the check's
output. Merging keeps the sentences both readers labelled, reports raw agreement and Cohen's
kappa on flag/ok, drops the sentences they disagree on, and writes one row per kept sentence:
file, hash, label, category, split. No sentence text is stored; the loader finds it again in
the fixtures by its hash.

The split is decided by the hash alone, once, before any tuning: a sentence whose hash is
0 modulo 3 is in the test part, every other one in the development part. Rules are tuned on
the development part only; the test part is scored at the end.

    python benchmarks/language_labels.py labels_A.tsv labels_B.tsv   # write the data file
    python benchmarks/language_labels.py --show dev     # the check's mistakes on the dev part
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from postmortem_sentences import ROOT, Sentence, sentences

DATA = Path(__file__).resolve().parents[1] / "tests" / "core" / "analysis" / "data"
LABELS = DATA / "postmortem_labels.tsv"
COLUMNS = ("file", "hash", "label", "category", "split")
SPLITS = ("dev", "test")


@dataclass(frozen=True, slots=True)
class Labelled:
    file: str
    hash: str
    flag: bool
    category: str  # one of the check's categories, or "" for ok
    split: str
    text: str = ""


def split_of(digest: str) -> str:
    """The part a sentence belongs to, from its hash alone."""
    return "test" if int(digest, 16) % 3 == 0 else "dev"


def read_reader(path: Path) -> dict[int, tuple[str, str, str]]:
    """One reader's labels by sentence id: (hash, label, category)."""
    out: dict[int, tuple[str, str, str]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 4 or parts[2] not in {"flag", "ok"} or not parts[0].isdigit():
            raise SystemExit(f"{path}:{number}: expected id, hash, flag|ok, category")
        out[int(parts[0])] = (parts[1], parts[2], "" if parts[3] == "-" else parts[3])
    return out


def kappa(pairs: list[tuple[bool, bool]]) -> float:
    """Cohen's kappa of two readers' yes/no answers."""
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    yes_a = sum(a for a, _ in pairs) / n
    yes_b = sum(b for _, b in pairs) / n
    expected = yes_a * yes_b + (1 - yes_a) * (1 - yes_b)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def merge(a: Path, b: Path, found: list[Sentence]) -> tuple[list[Labelled], list[str]]:
    """The agreed rows and a summary of how they were reached."""
    first, second = read_reader(a), read_reader(b)
    both = sorted(set(first) & set(second))
    for i in both:
        if not 1 <= i <= len(found) or first[i][0] != found[i - 1].hash != second[i][0]:
            raise SystemExit(f"sentence {i}: hash differs from postmortem_sentences.py")
    pairs = [(first[i][1] == "flag", second[i][1] == "flag") for i in both]
    kept = [i for i, (x, y) in zip(both, pairs, strict=True) if x == y]
    rows = [
        Labelled(
            found[i - 1].file,
            found[i - 1].hash,
            first[i][1] == "flag",
            first[i][2],
            split_of(found[i - 1].hash),
        )
        for i in kept
    ]
    same_category = sum(first[i][2] == second[i][2] for i in kept if first[i][1] == "flag")
    flagged = sum(r.flag for r in rows)
    summary = [
        f"sentences {len(found)}; labelled by both readers {len(both)}; "
        f"agreed {len(kept)}; dropped {len(both) - len(kept)}",
        f"raw agreement {len(kept) / len(both):.3f}; Cohen's kappa {kappa(pairs):.3f}; "
        f"same category on {same_category} of {flagged} agreed flags (reader A's kept)",
    ]
    for part in SPLITS:
        chosen = [r for r in rows if r.split == part]
        summary.append(
            f"{part}: {len(chosen)} sentences, {sum(r.flag for r in chosen)} flag, "
            f"{sum(not r.flag for r in chosen)} ok"
        )
    return rows, summary


def write(rows: Iterable[Labelled], summary: list[str], path: Path = LABELS) -> None:
    lines = [
        "# Real post-mortem sentences labelled by two independent readers against method.md",
        "# section 3; disagreements dropped. Text: benchmarks/postmortem_sentences.py by hash.",
        *(f"# {line}" for line in summary),
        "\t".join(COLUMNS),
        *(
            "\t".join((r.file, r.hash, "flag" if r.flag else "ok", r.category or "-", r.split))
            for r in rows
        ),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def load(root: Path = ROOT, path: Path = LABELS) -> list[Labelled]:
    """The labelled rows with their sentence text from the fixtures under `root`."""
    text = {(s.file, s.hash): s.text for s in sentences(root)}
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith(("#", "file\t")):
            continue
        file, digest, label, category, part = line.split("\t")
        if (file, digest) not in text:
            raise ValueError(f"{file} {digest}: no such sentence under {root}")
        if part != split_of(digest):
            raise ValueError(f"{file} {digest}: split {part} is not the one its hash decides")
        rows.append(
            Labelled(
                file,
                digest,
                label == "flag",
                "" if category == "-" else category,
                part,
                text[file, digest],
            )
        )
    return rows


def _show(part: str) -> int:
    """Print the check's false positives and negatives on the development part."""
    if part != "dev":
        print("only the dev part is shown: the test part is scored, never read", file=sys.stderr)
        return 2
    from afteraction.core.analysis.language import check_text

    for row in load():
        if row.split != part:
            continue
        found = check_text(row.text)
        if bool(found) != row.flag:
            kind = "FN " + row.category if row.flag else "FP " + ",".join(f.rule for f in found)
            print(f"{kind}\t{row.file}\t{row.text}")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--show"] and len(argv) == 2:
        return _show(argv[1])
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    rows, summary = merge(Path(argv[0]), Path(argv[1]), sentences())
    write(rows, summary)
    print("\n".join(summary))
    print(f"wrote {LABELS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
