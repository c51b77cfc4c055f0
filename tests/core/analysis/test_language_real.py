"""The language check on real prose: sentences of public post-mortems labelled by two
independent readers (`data/postmortem_labels.tsv`, built by `benchmarks/language_labels.py`).
The labels hold no text; the sentences are found again in `../shared/fixtures/postmortems`,
and these tests skip when that folder is absent."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from afteraction.core.analysis.language import CATEGORIES, check_text

REPO = Path(__file__).resolve().parents[3]
POSTMORTEMS = REPO.parent / "shared" / "fixtures" / "postmortems"
LABELS = Path(__file__).parent / "data" / "postmortem_labels.tsv"


@pytest.fixture(scope="module")
def labels() -> Iterator[ModuleType]:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import language_labels
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    yield language_labels


def _rows(labels: ModuleType, part: str) -> list[tuple[bool, str]]:
    if not POSTMORTEMS.is_dir():
        pytest.skip(f"real post-mortems not found at {POSTMORTEMS}: the labels hold no text")
    return [(r.flag, r.text) for r in labels.load(POSTMORTEMS, LABELS) if r.split == part]


def _precision_recall(rows: list[tuple[bool, str]]) -> tuple[float, float]:
    predicted = [bool(check_text(text)) for _, text in rows]
    tp = sum(p and flag for p, (flag, _) in zip(predicted, rows, strict=True))
    return tp / sum(predicted), tp / sum(flag for flag, _ in rows)


def test_labels_hold_no_text_and_the_hash_decides_the_split(labels: ModuleType) -> None:
    lines = [x for x in LABELS.read_text(encoding="utf-8").splitlines() if x[:1] != "#"]
    assert lines[0].split("\t") == ["file", "hash", "label", "category", "split"]
    rows = [line.split("\t") for line in lines[1:]]
    assert len(rows) >= 1000
    assert len({(file, digest) for file, digest, *_ in rows}) == len(rows)
    for _file, digest, label, category, part in rows:
        assert len(digest) == 16 and int(digest, 16) >= 0
        assert part == labels.split_of(digest)
        assert (category in CATEGORIES) if label == "flag" else (label, category) == ("ok", "-")
    flagged = {part: sum(r[2] == "flag" for r in rows if r[4] == part) for part in ("dev", "test")}
    assert min(flagged.values()) >= 20


def test_kappa_of_two_readers(labels: ModuleType) -> None:
    t, f = True, False
    assert labels.kappa([(t, t), (f, f), (t, f), (f, f)]) == pytest.approx(0.5)
    assert labels.kappa([(t, t), (f, f)]) == pytest.approx(1.0)
    assert labels.kappa([(t, f), (f, t)]) == pytest.approx(-1.0)


def test_every_label_names_a_sentence_of_the_fixtures(labels: ModuleType) -> None:
    assert len(_rows(labels, "dev")) + len(_rows(labels, "test")) == len(
        [x for x in LABELS.read_text(encoding="utf-8").splitlines() if x[:1] not in {"#", "f"}]
    )


def test_targets_on_the_development_part(labels: ModuleType) -> None:
    """The part the rules were tuned on: a guard against regressions."""
    precision, recall = _precision_recall(_rows(labels, "dev"))
    assert precision >= 0.9
    assert recall >= 0.8


def test_test_part_holds_its_measured_figures(labels: ModuleType) -> None:
    """Scored once, after the rules were settled on the development part: precision 0.897
    (26 of 29 flags right) and recall 0.897 (26 of 29 found). A change that lowers either
    fails here."""
    precision, recall = _precision_recall(_rows(labels, "test"))
    assert precision >= 0.89
    assert recall >= 0.89


@pytest.mark.xfail(
    strict=True, reason="test part scored once: precision 0.897, one false positive short of 0.9"
)
def test_targets_on_the_test_part(labels: ModuleType) -> None:
    precision, recall = _precision_recall(_rows(labels, "test"))
    assert precision >= 0.9
    assert recall >= 0.8
