"""Similar past incidents ranked by meaning as well as by shared words: the blend rule, and
the real local all-MiniLM-L6-v2 model of the `semantic` extra (skipped with the reason when
the extra is not installed) finding an incident that says the same thing in other words,
never a private one, and never downloading anything."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from afteraction.adapters import embeddings
from afteraction.core.access import SYSTEM, Actor
from afteraction.services import incidents as repo
from afteraction.services import search
from afteraction.storage.db import writing
from afteraction.storage.tables import Incident

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
VIEWER = Actor(user_id=None, label="viewer", role="viewer")
needs_model = pytest.mark.skipif(
    not embeddings.semantic_available(),
    reason=f"the semantic extra is not installed ({embeddings.EXTRA_HINT})",
)


def incident(db: Session, title: str, *, days: int, private: bool = False,
             service: str = "") -> Incident:  # fmt: skip
    with writing(db):
        row, _ = repo.declare(db, SYSTEM, repo.IncidentInput(
            title=title, severity="SEV2", private=private,
            services=(service,) if service else (),
            milestones={"started": T0 + timedelta(days=days)}))  # fmt: skip
        return row


def test_blend_keeps_lexical_alone_and_needs_a_floor_for_meaning_alone() -> None:
    assert search.blend(0.4, None) == 0.4
    assert search.blend(0.0, search.SEMANTIC_FLOOR - 0.01) == 0.0
    assert search.blend(0.0, 0.8) == pytest.approx(0.4)
    assert search.blend(0.6, -0.2) == pytest.approx(0.3)  # a negative cosine adds nothing
    assert search.blend(0.2, 0.9) > search.blend(0.2, 0.5) > search.blend(0.2, None) / 2


def test_without_a_model_ranking_is_lexical_and_says_so(db: Session) -> None:
    incident(db, "Checkout database connection pool exhausted", days=0)
    later = incident(db, "Payments service ran out of DB connections", days=5)
    found = search.similar_incidents(db, VIEWER, later)
    assert all(s.semantic is None for s in found)


@needs_model
def test_the_local_model_finds_the_same_failure_in_other_words(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the embedding model tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    same = incident(db, "Log storage nodes ran out of space", days=0)
    incident(db, "Typo in the marketing newsletter footer", days=1)
    incident(db, "Logging cluster disks filled up again", days=2, private=True)
    later = incident(db, "Disk full on the logging cluster", days=5)
    embedder = embeddings.local_embedder()
    assert embedder is not None and embedder.model == "all-MiniLM-L6-v2"

    lexical = search.similar_incidents(db, VIEWER, later)
    assert same.public_id not in [s.public_id for s in lexical]  # no word in common

    found = search.similar_incidents(db, VIEWER, later, embed=embedder.vectors)
    assert [s.public_id for s in found] == [same.public_id]  # not the typo, not the private
    assert found[0].semantic is not None and found[0].semantic > 0.7  # 0.80 when written
    assert found[0].score == pytest.approx(found[0].semantic / 2, abs=1e-3)

    vectors = embedder.vectors(["disk full", "disk full"])
    assert vectors[0] == vectors[1] and len(vectors[0]) == 384
    assert sum(x * x for x in vectors[0]) == pytest.approx(1.0, abs=1e-4)
