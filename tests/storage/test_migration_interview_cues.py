"""Migration 0015 (`interview_cues`) over a database whose interview transcript is still a
`Source` with `transcript_cues`: the cues move to the interview, the source goes, an
incident's own transcript stays; down and up again keep every cue."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import Engine, inspect, text

from afteraction.core.access import SYSTEM
from afteraction.services import directory, interviews
from afteraction.services import incidents as repo
from afteraction.storage.db import alembic_config, make_engine, make_session_factory, writing
from afteraction.storage.evidence_tables import Source

CUE = (
    "INSERT INTO transcript_cues (source_id, incident_id, interview_id, seq, start_seconds, "
    "end_seconds, speaker, text) VALUES (:source, :incident, :interview, :seq, :seq, :seq, "
    ":speaker, :text)"
)


def _rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql))]


def _old_database(url: str) -> tuple[int, int, int]:
    """At 0014: one interview whose two-cue transcript is a source of its own, and an
    incident transcript of one cue. Returns (interview id, its source, the incident's)."""
    command.upgrade(alembic_config(url), "0014")
    engine = make_engine(url)
    session = make_session_factory(engine)()
    with writing(session):
        incident, _ = repo.declare(session, SYSTEM, repo.IncidentInput(title="t", severity="SEV2"))
        person = directory.create_person(session, SYSTEM, directory.PersonInput(name="Ana Ortiz"))
        interview = interviews.plan_interview(session, SYSTEM, incident.number, person_id=person.id)
        mine = Source(kind="transcript", origin=f"interview:{interview.id}", checksum="x")
        theirs = Source(kind="transcript", origin="call.vtt", checksum="y", incident_id=incident.id)
        session.add_all([mine, theirs])
        session.flush()
        ids = (interview.id, mine.id, theirs.id)
        rows = [
            (mine.id, None, interview.id, 0, "Ana Ortiz", "I restarted the pool"),
            (mine.id, None, interview.id, 1, None, "then it held"),
            (theirs.id, incident.id, None, 0, "Ben Cho", "status?"),
            (theirs.id, incident.id, 9999, 1, "Ghost", "of an interview long gone"),
        ]
        for source, incident_id, interview_id, seq, speaker, said in rows:
            session.execute(
                text(CUE),
                {"source": source, "incident": incident_id, "interview": interview_id,
                 "seq": seq, "speaker": speaker, "text": said},
            )  # fmt: skip
    session.close()
    engine.dispose()
    return ids


def test_interview_transcripts_leave_the_sources_and_come_back_on_downgrade(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'cues.db'}"
    interview, _, theirs = _old_database(url)
    engine = make_engine(url)

    command.upgrade(alembic_config(url), "head")
    moved = _rows(
        engine, "SELECT interview_id, seq, speaker, text FROM interview_cues ORDER BY seq"
    )
    assert moved == [
        (interview, 0, "Ana Ortiz", "I restarted the pool"),
        (interview, 1, None, "then it held"),
    ]
    assert _rows(engine, "SELECT id FROM sources ORDER BY id") == [(theirs,)]
    assert _rows(engine, "SELECT source_id, text FROM transcript_cues") == [(theirs, "status?")]
    assert "interview_id" not in {c["name"] for c in inspect(engine).get_columns("transcript_cues")}
    session = make_session_factory(engine)()
    assert [c.text for c in interviews.transcript_of(session, interview)] == [
        "I restarted the pool",
        "then it held",
    ]
    session.close()

    command.downgrade(alembic_config(url), "0014")
    back = _rows(
        engine,
        "SELECT s.origin, s.incident_id, c.interview_id, c.seq, c.text FROM transcript_cues c "
        "JOIN sources s ON s.id = c.source_id WHERE c.interview_id IS NOT NULL ORDER BY c.seq",
    )
    assert back == [
        (f"interview:{interview}", None, interview, 0, "I restarted the pool"),
        (f"interview:{interview}", None, interview, 1, "then it held"),
    ]
    assert "interview_cues" not in inspect(engine).get_table_names()

    command.upgrade(alembic_config(url), "head")
    assert len(_rows(engine, "SELECT id FROM interview_cues")) == 2
    assert _rows(engine, "SELECT id FROM sources ORDER BY id") == [(theirs,)]
    engine.dispose()
