"""The demo tells one story: every fact the flagship's analysis notes, incident record,
review transcript and interview notes state about pages, times, who was on call and who
joined when (the `claims` of `data/flagship/analysis.yaml`) is what the product computes
from the evidence (`services.people`, `core.analysis.involvement`, the imported timeline);
every note cites the messages it is about, and every sentence that gives a time has a
claim. Also: the investigator login investigates the flagship and sees its interviews."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.core.analysis.involvement import pages_from_log
from afteraction.core.analysis.people import PersonFacts
from afteraction.demo import story
from afteraction.demo.flagship import INCIDENT, Claim, flagship_analysis, flagship_of
from afteraction.demo.flagship_evidence import FLAGSHIP_EVIDENCE
from afteraction.demo.generate import build_org
from afteraction.demo.load import DEMO_PASSWORD, INVESTIGATOR_LOGIN, load_demo
from afteraction.services import people
from afteraction.storage.analysis_tables import AnalysisNote, Annotation, Interview
from afteraction.storage.evidence_tables import IncidentChannel, Message
from afteraction.storage.tables import Incident, Person
from tests.conftest import login

TIME = re.compile(r"\b\d{1,2}:\d{2}\b")


def _flat(text: str) -> str:
    return " ".join(text.split())


def transcript_cues() -> list[str]:
    """The spoken text of each cue of the review meeting."""
    text = (FLAGSHIP_EVIDENCE / "transcripts" / "review-meeting.vtt").read_text("utf-8")
    blocks = [b.strip().splitlines() for b in text.split("\n\n")[1:] if b.strip()]
    return [_flat(" ".join(lines[2:])) for lines in blocks if len(lines) > 2]


def sources() -> dict[str, list[str]]:
    """The sentences the story tells, by where they are written."""
    analysis = flagship_analysis()
    record = story.read(INCIDENT)
    return {
        "note": [_flat(n.text) for n in analysis.notes]
        + [_flat(a.note) for a in analysis.annotations if a.note],
        "record": [_flat(record["summary"]), _flat(record["customer_impact"])],
        "transcript": transcript_cues(),
        "interview": [_flat(i.notes) for i in analysis.interviews if i.notes],
    }


def test_every_claim_quotes_its_source_and_every_timed_sentence_has_a_claim() -> None:
    claims = flagship_analysis().claims
    texts = sources()
    for claim in claims:
        assert any(claim.says in text for text in texts[claim.source]), claim
    for where, sentences in texts.items():
        for sentence in sentences:
            if TIME.search(sentence):
                quoted = [c for c in claims if c.source == where and c.says in sentence]
                assert quoted, f"{where}: no claim checks {sentence!r}"


class Computed:
    """What the product computes for the flagship, read the way its views read it."""

    def __init__(self, db: Session, number: int) -> None:
        self.db = db
        self.incident = db.scalar(select(Incident).where(Incident.number == number))
        assert self.incident is not None
        view = people.analyse(db, SYSTEM, number)
        self.facts = {p.person_key: p for p in view.analysis.people}
        self.log = view.evidence.bundle.pages
        self.pages = pages_from_log(self.log)
        self.keys = {
            email.split("@")[0]: str(person_id)
            for email, person_id in db.execute(select(Person.email, Person.id))
        }

    def person(self, claim: Claim) -> PersonFacts:
        assert claim.person, f"{claim.fact} needs a person: {claim}"
        return self.facts[self.keys[claim.person]]

    def value(self, claim: Claim) -> object:
        fact = claim.fact
        if fact == "milestone":
            return getattr(self.incident, f"{claim.milestone}_at")
        if fact == "message":
            return self.message(claim)
        if fact == "interviews":
            assert self.incident is not None
            return self.db.scalar(
                select(func.count()).where(Interview.incident_id == self.incident.id)
            )
        if fact in ("first_page", "notifications"):
            key = self.keys[claim.person] if claim.person else None
            mine = [p for p in self.pages if key is None or p.person_key == key]
            if fact == "first_page":
                return min(p.at for p in mine)
            return sum(p.notifications for p in mine)
        facts = self.person(claim)
        if fact == "phone_calls":
            return sum(
                1
                for e in self.log
                if e.kind == "notify" and e.person_key == facts.person_key and e.method == "phone"
            )
        if fact == "role":
            return min(r.start for r in facts.roles if r.role == claim.role)
        if fact == "local_time":
            assert facts.local_time_at_arrival is not None
            return facts.local_time_at_arrival.split()[1]
        named = {
            "pages": "pages_in_incident",
            "pages_prev_24h": "pages_prev_24h",
            "first_involved": "first_seen",
            "first_message": "first_message",
            "on_call": "on_call_at_arrival",
            "tenure_days": "tenure_days_then",
            "left_team": "left_owning_team_on",
        }
        return getattr(facts, named[fact])

    def message(self, claim: Claim) -> datetime:
        assert self.incident is not None
        row = self.db.execute(
            select(Message.at, Person.email)
            .join(IncidentChannel, IncidentChannel.channel_id == Message.channel_id)
            .outerjoin(Person, Person.id == Message.author_person_id)
            .where(IncidentChannel.incident_id == self.incident.id, Message.ts == claim.ts)
        ).one()
        if claim.person:
            assert row.email == story.directory().email(claim.person), claim
        return row.at


def _same(computed: object, claimed: object) -> bool:
    """Equal, times to the second (the story states them to the second at most)."""
    if isinstance(claimed, datetime) and isinstance(computed, datetime):
        return computed.replace(microsecond=0) == claimed
    return computed == claimed


def test_each_claim_is_what_the_product_computes(db: Session) -> None:
    load_demo(db)
    computed = Computed(db, flagship_of(build_org(7)).number)
    wrong = []
    for claim in flagship_analysis().claims:
        value = computed.value(claim)
        if not _same(value, claim.value):
            wrong.append(f"{claim.source}: {claim.says!r} ({claim.fact}): {value!r}")
    assert not wrong, "\n".join(wrong)


def test_notes_and_annotations_point_at_their_messages(db: Session) -> None:
    load_demo(db)
    number = flagship_of(build_org(7)).number
    incident = db.scalar(select(Incident).where(Incident.number == number))
    assert incident is not None
    analysis = flagship_analysis()
    ts_of = {row.id: row.ts for row in db.execute(select(Message.id, Message.ts))}
    notes = db.scalars(select(AnalysisNote).where(AnalysisNote.incident_id == incident.id))
    cited = {n.text: [ts_of[e["id"]] for e in n.evidence if e["type"] == "message"] for n in notes}
    assert cited == {_flat(n.text): list(n.cites) for n in analysis.notes}
    annotated = db.execute(
        select(Message.ts, Annotation.tag).join(Message, Message.id == Annotation.message_id)
    ).all()
    assert sorted(annotated) == sorted((a.ts, a.tag) for a in analysis.annotations)
    with_notes = db.execute(
        select(Person.email, Interview.notes)
        .join(Person, Person.id == Interview.person_id)
        .where(Interview.incident_id == incident.id, func.coalesce(Interview.notes, "") != "")
    ).all()
    assert [(row.email.split("@")[0], row.notes) for row in with_notes] == [
        (i.person, i.notes) for i in analysis.interviews if i.notes
    ]


def test_an_annotation_on_a_missing_message_stops_the_load(
    db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "data"
    shutil.copytree(story.DATA, copy)
    path = copy / "flagship" / "analysis.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("quote: Paylane status page says", "quote: Paylane is down"))
    monkeypatch.setattr(story, "DATA", copy)
    story.read.cache_clear()
    try:
        with pytest.raises(story.StoryError, match=r"annotations\[1\]: message .* does not say"):
            load_demo(db)
    finally:
        story.read.cache_clear()
    assert not db.scalar(select(func.count()).select_from(Incident))


def test_the_investigator_login_investigates_the_flagship(client: TestClient, db: Session) -> None:
    load_demo(db)
    key = f"INC-{flagship_of(build_org(7)).number}"
    record = story.read(INCIDENT)
    investigator = next(r["person"] for r in record["roles"] if r["role"] == "investigator")
    name = next(p.name for p in story.directory().people if p.email.startswith(investigator))
    session = login(client, INVESTIGATOR_LOGIN, DEMO_PASSWORD)
    review = BeautifulSoup(session.get(f"/incidents/{key}/review").text, "html.parser")
    assert review.select_one("#investigator p").get_text(strip=True) == name
    page = session.get(f"/incidents/{key}/interviews")
    assert page.status_code == 200
    planned = flagship_analysis().interviews
    names = {p.email.split("@")[0]: p.name for p in story.directory().people}
    for interview in planned:
        assert names[interview.person] in page.text
    listed = session.get(f"/api/v1/incidents/{key}/interviews").json()
    assert len(listed["items"]) == len(planned)
