"""Quality and speed of the blame-aware language check (method.md section 3).

Quality: precision, recall and F1 of `check_text` on the hand-written labelled sentences in
`tests/core/analysis/data/language_eval.tsv` and on the real post-mortem sentences labelled by
two readers (`postmortem_labels.tsv`, see `language_labels.py`): its development part, and
with `--test` its test part, which is scored only once rules are settled. Beside each, a naive
baseline that flags a sentence when it contains any example phrase from method.md (plain
case-insensitive substrings).

Speed: median time of `check_text` over a deterministic 5,000-word Markdown report (eval
sentences, filler paragraphs, headings, a code block and a quoted Slack line, seeded), and
its ratio to the naive phrase scan of the same text, measured in the same run.
Target: median at most 50 ms.

    python benchmarks/language_check.py [--test]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from language_labels import ROOT, load

from afteraction.core.analysis.language import check_text

EVAL_SET = (
    Path(__file__).resolve().parents[1]
    / "tests"
    / "core"
    / "analysis"
    / "data"
    / "language_eval.tsv"
)
WORDS = 5_000
RUNS = 25
TARGET_MS = 50.0
SEED = 20240611
NAIVE_PHRASES = (
    "should have", "shouldn't have", "could have", "would have", "if only", "ought to have",
    "failed to", "failure to", "didn't", "did not", "neglected to", "forgot to", "missed",
    "overlooked", "inadequate", "improper", "proper procedure", "careless", "sloppy",
    "negligent", "poor decision", "bad call", "human error", "operator error", "user error",
    "pilot error", "mistake by", "fault of", "to blame", "root cause", "the cause", "caused by",
    "primary cause", "post-mortem", "postmortem", "rca", "why did you", "who ", "obviously",
    "clearly", "of course", "simply", "just", "everyone knows",
)  # fmt: skip
FILLER = (
    "The service runs in three regions behind a global load balancer.",
    "Each region has its own database primary and two replicas.",
    "Deploys go through a canary stage that receives five percent of traffic.",
    "The on-call rotation covers the platform and storage services.",
    "Latency is measured at the edge and reported every minute.",
    "The team met twice during the review to walk through the timeline.",
    "Interviews were held with four responders and the author of the change.",
    "Customer support received 312 tickets during the incident window.",
)


def load_eval_set() -> tuple[list[str], list[tuple[bool, str]]]:
    people: list[str] = []
    rows: list[tuple[bool, str]] = []
    for line in EVAL_SET.read_text(encoding="utf-8").splitlines():
        if line.startswith("# people:"):
            people = [p.strip() for p in line.split(":", 1)[1].split(";")]
        elif line and not line.startswith(("#", "label\t")):
            label, _category, sentence = line.split("\t", 2)
            rows.append((label == "flag", sentence))
    return people, rows


def naive_flags(text: str) -> list[int]:
    """Offsets of every example phrase: the baseline method.md asks to beat."""
    low = text.lower()
    hits = []
    for phrase in NAIVE_PHRASES:
        start = low.find(phrase)
        while start != -1:
            hits.append(start)
            start = low.find(phrase, start + 1)
    return hits


def scores(predicted: list[bool], truth: list[bool]) -> tuple[float, float, float]:
    tp = sum(p and t for p, t in zip(predicted, truth, strict=True))
    fp = sum(p and not t for p, t in zip(predicted, truth, strict=True))
    fn = sum(t and not p for p, t in zip(predicted, truth, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def build_report(sentences: list[str], rng: random.Random) -> str:
    """A Markdown report of exactly WORDS words, from eval sentences and filler."""
    plain = [s for s in sentences if not s.startswith(("#", ">"))]
    blocks = ["# Incident report: checkout latency", "## Narrative"]
    words = sum(len(b.split()) for b in blocks)
    while words < WORDS:
        roll = rng.random()
        if roll < 0.05:
            block = "```\nkubectl rollout undo deploy/checkout\n```"
        elif roll < 0.10:
            block = "> Sam: we should have rolled back an hour ago"
        elif roll < 0.15:
            block = f"## Theme {len(blocks)}"
        else:
            picks = rng.sample(plain, 3) + rng.sample(FILLER, 2)
            rng.shuffle(picks)
            block = " ".join(picks)
        room = WORDS - words
        if len(block.split()) > room:
            block = " ".join(block.split()[:room])
        blocks.append(block)
        words += len(block.split())
    return "\n\n".join(blocks) + "\n"


def median_ms(
    scan: Callable[[str], object], text: str, clock: Callable[[], float] = time.perf_counter
) -> float:
    times = []
    for _ in range(RUNS):
        start = clock()
        scan(text)
        times.append((clock() - start) * 1000)
    return statistics.median(times)


def print_quality(title: str, rows: list[tuple[bool, str]], people: list[str]) -> None:
    truth = [flag for flag, _ in rows]
    ours = [bool(check_text(s, people=people)) for _, s in rows]
    naive = [bool(naive_flags(s)) for _, s in rows]
    print(f"\n{title}: {len(rows)} sentences, {sum(truth)} to flag, {len(rows) - sum(truth)} fine")
    print(f"{'':22} precision  recall     F1")
    for name, predicted in (("check_text", ours), ("naive phrase list", naive)):
        p, r, f = scores(predicted, truth)
        print(f"{name:22} {p:9.3f} {r:7.3f} {f:6.3f}")


def main(argv: list[str]) -> None:
    people, rows = load_eval_set()
    print_quality("hand-written set", rows, people)
    if ROOT.is_dir():
        real = load()
        for part in ("dev", "test") if "--test" in argv else ("dev",):
            chosen = [(r.flag, r.text) for r in real if r.split == part]
            print_quality(f"real post-mortems, {part} part", chosen, [])
    else:
        print(f"\nreal post-mortems not found at {ROOT}: skipped")
    print("targets: precision >= 0.9, recall >= 0.8")

    text = build_report([s for _, s in rows], random.Random(SEED))
    check_text(text, people=people)  # warm up
    ours_ms = median_ms(lambda t: check_text(t, people=people), text)
    naive_ms = median_ms(naive_flags, text)
    print(f"\nreport: {len(text.split())} words, {len(check_text(text, people=people))} findings")
    cpu_ms = median_ms(lambda t: check_text(t, people=people), text, time.process_time)
    print(f"check_text median of {RUNS}: {ours_ms:.2f} ms (target <= {TARGET_MS:.0f} ms)")
    print(f"check_text CPU time median: {cpu_ms:.2f} ms (what a busy shared machine leaves)")
    print(f"naive phrase scan median:  {naive_ms:.2f} ms  ratio {ours_ms / naive_ms:.1f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
