"""Transcript import: WebVTT and Zoom chat cues, speaker matching, idempotency, bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.core.access import SYSTEM
from afteraction.core.errors import ImportFailed, NotFound
from afteraction.services import incidents as repo
from afteraction.services import interviews
from afteraction.services.imports.roster import import_roster
from afteraction.services.imports.sources import remove_source
from afteraction.services.imports.transcripts import import_transcript, recording_start_for
from afteraction.storage.db import writing
from afteraction.storage.evidence_tables import Source, TranscriptCue
from afteraction.storage.tables import Person, Reference
from tests.services.imports._helpers import FLAGSHIP, count, row_counts, shared_fixture

VTT = FLAGSHIP / "transcripts" / "review-meeting.vtt"
CHAT = FLAGSHIP / "transcripts" / "zoom-chat.txt"


@pytest.fixture
def incident(db: Session) -> str:
    with writing(db):
        import_roster(db, SYSTEM, FLAGSHIP / "roster.csv")
        created, _ = repo.declare(db, SYSTEM, repo.IncidentInput(title="payments", severity="SEV1"))
        return created.public_id


def _import(db: Session, path: Path, **options: object):  # type: ignore[no-untyped-def]
    with writing(db):
        return import_transcript(db, SYSTEM, path, **options)  # type: ignore[arg-type]


def test_review_meeting_cues_and_speakers(db: Session, incident: str) -> None:
    start = datetime(2026, 10, 27, 15, tzinfo=UTC)
    summary = _import(db, VTT, incident=incident, recording_start=start)
    assert summary.counts["cues"] == 40 and summary.counts["speakers matched"] == 14
    assert summary.unmatched == [] and summary.warnings == ["1 cue(s) without a speaker"]
    cues = list(db.scalars(select(TranscriptCue).order_by(TranscriptCue.seq)))
    assert cues[0].speaker == "Sarah Cohen" and cues[0].person_id is not None
    assert cues[0].start_seconds == pytest.approx(2.31)
    assert cues[0].at == datetime(2026, 10, 27, 15, 0, 2, 310000, tzinfo=UTC)
    unattributed = [c for c in cues if c.speaker is None]
    assert len(unattributed) == 1 and unattributed[0].person_id is None


def test_an_interview_transcript_is_the_interviews_own_never_a_source(
    db: Session, incident: str
) -> None:
    with writing(db):
        person = db.scalar(select(Person.id).order_by(Person.id))
        assert person is not None
        interview = interviews.plan_interview(db, SYSTEM, incident, person_id=person).id
    before = [count(db, table) for table in (Source, Person, Reference)]
    summary = _import(db, VTT, incident=incident, interview=interview)
    assert summary.source_id is None and summary.counts == {"interview cues": 40}
    assert [count(db, table) for table in (Source, Person, Reference)] == before
    assert count(db, TranscriptCue) == 0
    cues = interviews.transcript_of(db, interview)
    assert [c.seq for c in cues] == list(range(40)) and cues[0].speaker == "Sarah Cohen"
    again = _import(db, VTT, incident=incident, interview=interview)  # the same file again
    assert again.counts == {"interview cues": 0}
    assert len(interviews.transcript_of(db, interview)) == 40
    with pytest.raises(NotFound):
        _import(db, VTT, incident=incident, interview=interview + 1)


def test_recording_start_gives_absolute_times(db: Session, incident: str) -> None:
    start = datetime(2026, 10, 29, 16, 0, tzinfo=UTC)
    _import(db, CHAT, incident=incident, recording_start=start)
    first = db.scalar(select(TranscriptCue).order_by(TranscriptCue.seq))
    assert first is not None and first.at == datetime(2026, 10, 29, 16, 1, 12, tzinfo=UTC)
    assert count(db, TranscriptCue) == 9


def test_unknown_speakers_are_listed_and_references_found(
    db: Session, incident: str, tmp_path: Path
) -> None:
    path = tmp_path / "GMT20261029-160000_Recording.transcript.vtt"
    path.write_text(
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\n<v Jane Roe>see "
        "https://github.com/brightloop/ledger/pull/77</v>\n\n"
        "2\n00:00:03.000 --> 00:00:04.000\nLena Vogel (Brightloop): agreed\n"
    )
    people_before = count(db, Person)
    summary = _import(db, path, incident=incident)
    assert summary.unmatched == [] and summary.counts["people created"] == 1
    assert summary.counts["speakers matched"] == 1 and summary.counts["references"] == 1
    cues = list(db.scalars(select(TranscriptCue).order_by(TranscriptCue.seq)))
    assert cues[0].at == datetime(2026, 10, 29, 16, 0, 1, tzinfo=UTC)  # from the file name
    created = db.get(Person, cues[0].person_id)
    assert created is not None and created.name == "Jane Roe"
    assert count(db, Person) == people_before + 1
    assert cues[1].person_id is not None and cues[1].person_id != created.id
    assert db.scalar(select(Reference.key)) == "brightloop/ledger#77"
    # the same speaker in another recording is the same person, matched by the identity
    again = tmp_path / "GMT20261030-090000_Recording.transcript.vtt"
    again.write_text("WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\n<v Jane Roe>thanks</v>\n")
    second = _import(db, again, incident=incident)
    assert second.counts == {"cues": 1, "speakers matched": 1}
    assert db.scalar(select(TranscriptCue.person_id).where(TranscriptCue.text == "thanks")) == (
        created.id
    )
    with writing(db):  # people an import created go with it when nothing else uses them
        remove_source(db, SYSTEM, second.source_id)
        remove_source(db, SYSTEM, summary.source_id)
    assert count(db, Person) == people_before


def test_without_a_recording_start_the_cues_start_with_the_incident_and_it_is_said(
    db: Session,
) -> None:
    """The one rule of where cues fall when no start is given, for every entry point: a
    Zoom file name's start, else the incident's start (said in the summary), else none
    (said too)."""
    started = datetime(2026, 10, 20, 20, 25, tzinfo=UTC)
    with writing(db):
        shape = repo.IncidentInput(title="t", severity="SEV2", milestones={"started": started})
        with_start, _ = repo.declare(db, SYSTEM, shape)
    summary = _import(db, VTT, incident=with_start.public_id)
    first = db.scalar(select(TranscriptCue).order_by(TranscriptCue.seq))
    assert first is not None and first.at == datetime(2026, 10, 20, 20, 25, 2, 310000, tzinfo=UTC)
    assert any(
        "no recording start given" in w and f"{with_start.public_id}'s start" in w
        for w in summary.warnings
    )
    with writing(db):
        source = db.get(Source, summary.source_id)
        assert source is not None and source.options["recording_start"] == started.isoformat()

    start, why = recording_start_for(with_start, None, "GMT20261021-093000_Recording.vtt")
    assert start == datetime(2026, 10, 21, 9, 30, tzinfo=UTC) and why is None
    given = datetime(2026, 10, 22, tzinfo=UTC)
    assert recording_start_for(with_start, given, "GMT20261021-093000_Recording.vtt") == (
        given,
        None,
    )
    with writing(db):
        without, _ = repo.declare(db, SYSTEM, repo.IncidentInput(title="u", severity="SEV3"))
        without.declared_at = without.started_at = without.detected_at = None
        start, why = recording_start_for(without, None, "review.vtt")
        db.rollback()
    assert start is None and why is not None and "no time of day" in why


def test_same_file_twice_adds_nothing(db: Session, incident: str) -> None:
    _import(db, VTT, incident=incident)
    before = row_counts(db)
    again = _import(db, VTT, incident=incident)
    assert again.already_imported and row_counts(db) == before


def test_real_zoom_transcript_and_chat(db: Session, incident: str) -> None:
    vtt = shared_fixture("vtt/cip_test_transcript/small_transcript.vtt")
    chat = shared_fixture("vtt/cip_test_transcript/chat.txt")
    empty = shared_fixture("vtt/cip_test_transcript/empty_transcript.vtt")
    cues = _import(db, vtt, incident=incident).counts["cues"]
    messages = _import(db, chat, incident=incident).counts["cues"]
    assert cues > 0 and messages > 0
    assert count(db, TranscriptCue) == cues + messages
    assert _import(db, empty, incident=incident).counts["cues"] == 0


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("bad.vtt", b"not a transcript\n", "bad.vtt: line 1"),
        ("bad.vtt", b"WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\n\xff\xfe\n", "bad.vtt: line 5"),
        ("chat.txt", b"hello there\n00:00:01\tAda:\thi\n", "chat.txt: line 1"),
    ],
)
def test_bad_files_change_nothing(
    db: Session, incident: str, tmp_path: Path, name: str, content: bytes, where: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    before = row_counts(db)
    with pytest.raises(ImportFailed) as caught:
        _import(db, path, incident=incident)
    assert caught.value.details["where"] == where
    assert row_counts(db) == before


def test_unknown_incident(db: Session) -> None:
    with pytest.raises(NotFound):
        _import(db, VTT, incident="INC-999")


def test_one_word_speakers_match_a_given_name_only_among_the_incidents_people(
    db: Session, incident: str, tmp_path: Path
) -> None:
    first = tmp_path / "call.vtt"
    first.write_text(
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nLena Vogel: rolling back\n\n"
        "2\n00:00:03.000 --> 00:00:04.000\nSarah Cohen: agreed\n\n"
        "3\n00:00:05.000 --> 00:00:06.000\nSarah Quill: me too\n"
    )
    _import(db, first, incident=incident, recording_start=datetime(2026, 10, 20, 21, tzinfo=UTC))
    lena = db.scalar(select(Person.id).where(Person.name == "Lena Vogel"))
    people_before = count(db, Person)
    second = tmp_path / "later.vtt"
    second.write_text(
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nLena: it is back\n\n"
        "2\n00:00:03.000 --> 00:00:04.000\nSarah: good\n\n"
        "3\n00:00:05.000 --> 00:00:06.000\nMarc (Brightloop): thanks\n"
    )
    summary = _import(db, second, incident=incident)
    assert summary.counts == {"cues": 3, "speakers matched by given name": 1}
    assert summary.unmatched == ["Sarah", "Marc (Brightloop)"]
    assert any('"Sarah"' in w and "2 of the incident's people" in w for w in summary.warnings)
    assert any('"Marc (Brightloop)"' in w and "none of" in w for w in summary.warnings)
    assert count(db, Person) == people_before  # nobody is made up from a first name
    rows = db.execute(
        select(TranscriptCue.speaker, TranscriptCue.person_id).where(
            TranscriptCue.source_id == summary.source_id
        )
    )
    said = {row.speaker: row.person_id for row in rows}
    assert said == {"Lena": lena, "Sarah": None, "Marc (Brightloop)": None}
