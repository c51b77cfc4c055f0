"""`writing(..., alone=True)` on a SQLite file: a rollback journal when the transaction's
connection is the file's only one, WAL back afterwards, and no change at all beside another
connection. Each test has its own file, whatever database the suite runs on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from afteraction.storage.db import BUSY_TIMEOUT_MS, make_engine, make_session_factory, writing


@pytest.fixture
def file_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'alone.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    yield engine
    engine.dispose()


def _pragmas(session: Session) -> tuple[str, int, int]:
    connection = session.connection()
    found = tuple(
        connection.exec_driver_sql(f"PRAGMA {name}").scalar()
        for name in ("journal_mode", "synchronous", "busy_timeout")
    )
    return found  # type: ignore[return-value]


def _notes(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT body FROM notes ORDER BY id")).scalars())


def test_a_write_alone_uses_a_rollback_journal_then_gives_wal_back(
    file_engine: Engine, tmp_path: Path
) -> None:
    session = make_session_factory(file_engine)()
    with writing(session, alone=True):
        # FULL (2): a rollback journal's safe setting; the busy timeout is back at its value
        assert _pragmas(session) == ("delete", 2, BUSY_TIMEOUT_MS)
        session.execute(text("INSERT INTO notes (body) VALUES ('held alone')"))
        assert (tmp_path / "alone.db-journal").exists()
    assert not (tmp_path / "alone.db-journal").exists()
    with writing(session):
        assert _pragmas(session) == ("wal", 1, BUSY_TIMEOUT_MS)
        session.execute(text("INSERT INTO notes (body) VALUES ('shared')"))
    assert _notes(file_engine) == ["held alone", "shared"]
    session.close()


def test_a_failed_write_alone_leaves_nothing_and_gives_wal_back(file_engine: Engine) -> None:
    session = make_session_factory(file_engine)()
    with pytest.raises(RuntimeError), writing(session, alone=True):
        session.execute(text("INSERT INTO notes (body) VALUES ('lost')"))
        assert _pragmas(session)[0] == "delete"
        raise RuntimeError("the import failed")
    assert _notes(file_engine) == []
    with session.begin():
        assert _pragmas(session) == ("wal", 1, BUSY_TIMEOUT_MS)
    session.close()


def test_a_write_alone_beside_another_connection_keeps_the_wal(
    file_engine: Engine, tmp_path: Path
) -> None:
    other = make_engine(f"sqlite:///{tmp_path / 'alone.db'}")
    reader = other.connect()  # open and idle, as a web server's pooled connection is
    assert reader.execute(text("SELECT count(*) FROM notes")).scalar() == 0
    reader.rollback()
    session = make_session_factory(file_engine)()
    with writing(session, alone=True):
        assert _pragmas(session) == ("wal", 1, BUSY_TIMEOUT_MS)
        session.execute(text("INSERT INTO notes (body) VALUES ('shared')"))
    # the reader was never kept out: it reads while the file stays in WAL mode
    assert reader.execute(text("SELECT body FROM notes")).scalars().all() == ["shared"]
    assert reader.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    reader.close()
    other.dispose()
    session.close()
