"""Database errors an operator can act on: `storage.db.explain` turns them into one line
naming the file or server and what to do, and a process that opens a file another process
holds alone (a command-line import) waits for it as the docs promise, then says so clearly.
Each test has its own SQLite file, whatever database the suite runs on."""

from __future__ import annotations

import errno
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from afteraction.core.errors import Unavailable
from afteraction.storage import db as storage_db
from afteraction.storage.db import database_place, explain, make_engine, make_session_factory


def _file_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'held.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    engine.dispose()
    return url


def test_a_read_only_database_is_named_with_what_to_do(tmp_path: Path) -> None:
    url = _file_db(tmp_path)
    read_only = f"sqlite:///file:{tmp_path / 'held.db'}?mode=ro&uri=true"
    engine = make_engine(read_only)
    with pytest.raises(OperationalError) as caught, engine.begin() as connection:
        connection.execute(text("INSERT INTO notes (body) VALUES ('x')"))
    explained = explain(caught.value, read_only)
    assert isinstance(explained, Unavailable)
    assert explained.where == str((tmp_path / "held.db").resolve())
    assert "read-only" in explained.message and str(tmp_path) in explained.message
    assert "INSERT" not in explained.message  # never the SQL
    engine.dispose()
    del url


def test_a_database_without_tables_says_to_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    with pytest.raises(OperationalError) as caught, engine.connect() as connection:
        connection.execute(text("SELECT * FROM incidents"))
    explained = explain(caught.value, url)
    assert explained is not None and "afteraction db upgrade" in explained.message
    engine.dispose()


def test_file_system_errors_and_unknown_errors() -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "/data/afteraction.db")
    explained = explain(full, "sqlite:////data/afteraction.db")
    assert explained is not None and explained.message.startswith("/data/afteraction.db: ")
    assert "disk is full" in explained.message
    assert explain(RuntimeError("a bug"), "sqlite:///x.db") is None
    assert explain(OSError(errno.EINTR, "interrupted"), "sqlite:///x.db") is None


def test_a_missing_folder_that_cannot_be_made_is_one_clear_error() -> None:
    with pytest.raises(Unavailable, match="/proc/afteraction-nope: no such file or folder"):
        make_engine("sqlite:////proc/afteraction-nope/x.db")


def test_a_server_is_named_without_its_password() -> None:
    place = database_place("postgresql://user:s3cret@db.internal:6543/incidents")
    assert place == "postgresql server db.internal:6543, database incidents"
    assert "s3cret" not in place


def test_opening_a_file_held_alone_waits_for_the_holder(tmp_path: Path) -> None:
    url = _file_db(tmp_path)
    holder = make_engine(url)
    session = make_session_factory(holder)()
    opened: list[float] = []

    def open_elsewhere() -> None:
        other = make_engine(url)
        with other.connect() as connection:
            connection.execute(text("SELECT count(*) FROM notes"))
            opened.append(time.monotonic())
        other.dispose()

    with storage_db.writing(session, alone=True):
        session.execute(text("INSERT INTO notes (body) VALUES ('held')"))
        assert (tmp_path / "held.db-journal").exists()  # really held alone
        thread = threading.Thread(target=open_elsewhere)
        thread.start()
        time.sleep(0.5)
        assert not opened  # still waiting, not failed
        released = time.monotonic()
    thread.join(timeout=30)
    assert opened and opened[0] >= released
    session.close()
    holder.dispose()


def test_a_file_held_alone_past_the_timeout_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _file_db(tmp_path)
    monkeypatch.setattr(storage_db, "BUSY_TIMEOUT_MS", 300)
    holder = make_engine(url)
    session = make_session_factory(holder)()
    other = make_engine(url)
    with storage_db.writing(session, alone=True):
        session.execute(text("INSERT INTO notes (body) VALUES ('held')"))
        with pytest.raises(OperationalError) as caught:
            other.connect()
    explained = explain(caught.value, url)
    assert explained is not None and "another process holds the database file" in explained.message
    session.close()
    holder.dispose()
    other.dispose()
