"""The search rules in `core.ranking`: a query's words, snippets, and the similar-incident
ranking with and without meaning (an embedding function written out by hand here, so the
ranking is checked without the model)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from afteraction.core.errors import ValidationError
from afteraction.core.ranking import IncidentText, rank_similar, snippet, terms_of

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def text(i: int, title: str, **kwargs: object) -> IncidentText:
    return IncidentText(i, f"INC-{i}", title, "", "SEV2", T0, **kwargs)  # type: ignore[arg-type]


def test_terms_are_distinct_lower_words_and_an_empty_query_names_its_field() -> None:
    assert terms_of("Pool pool EXHAUSTED, again!") == ("pool", "exhausted", "again")
    with pytest.raises(ValidationError) as empty:
        terms_of(" ?! ")
    assert empty.value.field == "q"
    with pytest.raises(ValidationError):
        terms_of("x" * 201)


def test_snippet_shows_the_words_around_the_first_match() -> None:
    body = "a" * 100 + " the pool ran dry " + "b" * 100
    shown = snippet(body, ["pool"], width=40)
    assert "pool" in shown and shown.startswith("…") and shown.endswith("…")


def test_lexical_ranking_weighs_shared_services_and_words_and_says_what_is_shared() -> None:
    target = text(9, "Checkout pool exhausted", services=["ledger"])
    same = text(1, "Ledger pool exhausted", services=["ledger"])
    other = text(2, "Pool heater broke")
    nothing = text(3, "Typo in the footer")
    found = rank_similar(target, [nothing, other, same], 5)
    assert [s.public_id for s in found] == ["INC-1", "INC-2"]  # sharing nothing is left out
    assert "service:ledger" in found[0].shared and found[0].semantic is None


def test_meaning_finds_the_same_failure_in_other_words() -> None:
    target = text(9, "Disk full on the logging cluster")
    same = text(1, "Log storage nodes ran out of space")
    unrelated = text(2, "Typo in the newsletter footer")

    def embed(texts: Sequence[str]) -> list[list[float]]:  # "space"/"disk" point one way
        return [[1.0, 0.0] if ("space" in t or "Disk" in t) else [0.0, 1.0] for t in texts]

    assert rank_similar(target, [same, unrelated], 5) == []  # no word in common
    found = rank_similar(target, [same, unrelated], 5, embed=embed, newest=[1, 2])
    assert [s.public_id for s in found] == ["INC-1"]  # meaning 0 for the typo: below the floor
    assert found[0].semantic == 1.0 and found[0].score == pytest.approx(0.5)
