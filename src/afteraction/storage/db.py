"""Engine and session factory, SQLite pragmas, and Alembic upgrades.

SQLite runs in WAL mode with foreign keys on and a busy timeout; writes take the lock up
front (`BEGIN IMMEDIATE`) so concurrent writers queue instead of failing half-way. A write
that expects to be the file's only user (a command-line import) may hold it alone with a
rollback journal (`writing(..., alone=True)`). PostgreSQL is reached through psycopg 3.
"""

from __future__ import annotations

import errno
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import StaticPool

from afteraction.core.errors import Conflict, Unavailable

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Let users write postgresql:// or postgres:// and still get psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_file(database: str) -> Path:
    """The file a SQLite URL's database part names, a URI filename (`file:...?mode=ro`) too."""
    return Path(database.removeprefix("file:").split("?", 1)[0])


def make_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            folder = _sqlite_file(parsed.database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise explain(error, url) or error from None
        engine = create_engine(url, echo=echo, **kwargs)
        _install_sqlite_pragmas(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _install_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy own transaction boundaries so BEGIN IMMEDIATE can be issued.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _wal_waiting(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(_ALONE):
            _hold_alone(connection.connection)
        connection.exec_driver_sql(f"BEGIN {options.get('sqlite_begin', 'DEFERRED')}")

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        _detach_all(dbapi_connection, record)
        _share_again(dbapi_connection, record)


# How long a SQLite connection waits for another's lock before failing.
BUSY_TIMEOUT_MS = 30_000


def _wal_waiting(cursor: Any) -> None:
    """Put the file in WAL mode, waiting up to the busy timeout while another process holds
    it with a rollback journal (`writing(..., alone=True)`). SQLite answers that pragma with
    "database is locked" at once, without its busy handler, so the wait is here; after the
    timeout the error goes up and `explain` names the file."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.01
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


# Execution option (and pool entry `info` key) of a transaction that holds its SQLite file
# alone with a rollback journal (`writing(..., alone=True)`).
_ALONE = "afteraction_alone"


def _hold_alone(pool_entry: Any) -> None:
    """Before a transaction begins: switch the connection's file from WAL to a rollback
    journal if no other connection has it open (SQLite refuses the switch at once, with the
    busy timeout lifted, when one does; then nothing changes). Recorded in the pool entry's
    `info` so that `_share_again` switches back when the connection returns to the pool."""
    driver = pool_entry.driver_connection
    driver.execute("PRAGMA busy_timeout=0")
    try:
        mode = driver.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    except sqlite3.OperationalError:  # "database is locked": another connection has it
        mode = None
    finally:
        driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    if mode == "delete":
        # A rollback journal needs FULL to be as safe on power loss as WAL is with NORMAL.
        driver.execute("PRAGMA synchronous=FULL")
        pool_entry.info[_ALONE] = True


def _share_again(dbapi_connection: Any, record: Any) -> None:
    """Back to WAL after a transaction that held the file alone (see `_hold_alone`). Should
    a reader that opened the file meanwhile keep the switch from happening, the file stays
    in rollback mode until the next connection opens, which puts WAL back on connecting."""
    if not record.info.pop(_ALONE, False) or dbapi_connection is None:
        return
    try:
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.Error:  # pragma: no cover - a fresh connection instead
        record.invalidate()


# SQLite files attached for one transaction (`attach_for_transaction`), by schema name, in
# the pool entry's `info`; detached when the connection goes back to the pool.
_ATTACHED = "afteraction_attached"


def attach_for_transaction(session: Session, path: str | Path) -> str:
    """Attach the SQLite file at `path` to the session's connection (SQLite only) and
    return its schema name; it stays attached until the connection goes back to the pool,
    after the transaction ends: SQLite cannot detach a file a transaction has read."""
    connection = session.connection()
    info = connection.connection.info
    attached: list[str] = info.setdefault(_ATTACHED, [])
    name = f"attached_{len(attached) + 1}"
    connection.exec_driver_sql(f'ATTACH DATABASE ? AS "{name}"', (str(path),))
    attached.append(name)
    return name


def attach_capacity(session: Session) -> int:
    """How many more files the session's SQLite connection can attach."""
    driver = session.connection().connection.driver_connection
    listed = driver.execute("PRAGMA database_list").fetchall()  # type: ignore[union-attr]
    limit = int(driver.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED))  # type: ignore[union-attr]
    return max(0, limit - sum(1 for row in listed if row[1] not in ("main", "temp")))


def _detach_all(dbapi_connection: Any, record: Any) -> None:
    names = record.info.pop(_ATTACHED, None)
    if not names or dbapi_connection is None:
        return
    try:
        for name in names:
            dbapi_connection.execute(f'DETACH DATABASE "{name}"')
    except sqlite3.Error:  # pragma: no cover - never seen: a fresh connection instead
        record.invalidate()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def writing(session: Session, *, alone: bool = False) -> Iterator[Session]:
    """One write transaction, committed on success and rolled back on any error.

    On SQLite the write lock is taken up front (BEGIN IMMEDIATE) so a writer waits for
    another instead of failing half-way; reads use plain deferred transactions.

    `alone=True` is for a large write whose caller expects to be the file's only user (the
    command-line Slack import). When no other connection has the SQLite file open, the
    transaction runs with a rollback journal instead of the WAL, so that its pages are
    written once, into the database, rather than into the WAL and then again by the
    checkpoint after the commit (a million Slack messages: 13.3 s → 11.9 s). Until it ends,
    a connection that opens the file waits for it, as for any writer's lock, up to the busy
    timeout. When another connection has the file open, nothing changes. A process killed
    mid-way leaves a journal that the next connection rolls back.

    A versioned row (an incident) that a concurrent transaction changed and committed
    first makes the flush match no row (PostgreSQL): that is a `Conflict` (409), never a
    server error.
    """
    if session.in_transaction():
        session.rollback()
    options: dict[str, Any] = {"sqlite_begin": "IMMEDIATE"}
    if alone:
        options[_ALONE] = True
    try:
        with session.begin():
            session.connection(execution_options=options)
            yield session
    except StaleDataError as error:  # a versioned row changed under this transaction
        message = "someone else changed this at the same time; reload and try again"
        raise Conflict(message) from error


def managed_by_migrations_only(name: str | None, type_: str, _parent: object) -> bool:
    """Alembic `include_name` hook: leave out full-text search objects, which migrations
    create by hand (an FTS5 table and its shadow tables, a GIN expression index)."""
    if name is None:
        return True
    return not (
        type_ in ("table", "index") and name.startswith(("messages_fts", "ix_messages_fts"))
    )


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (creating the SQLite file if needed)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return script.get_current_head()


def database_place(url: str) -> str:
    """The database file (SQLite) or server a URL names, never its password."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            return "in-memory database"
        return str(_sqlite_file(parsed.database).resolve())
    host = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    return f"{parsed.get_backend_name()} server {host}, database {parsed.database or '?'}"


# What an operator can do about a database error, by a phrase of the driver's message
# (SQLite's and PostgreSQL's English texts); the first that matches wins.
_CAUSES: tuple[tuple[str, str], ...] = (
    (
        "readonly database",
        "the database is read-only: let the user running afteraction write "
        "to the file and to its folder",
    ),
    ("disk is full", "the disk holding the database is full: free some space and try again"),
    (
        "unable to open database file",
        "cannot open the database file: its folder is missing or not writable",
    ),
    (
        "database is locked",
        "another process holds the database file (a command-line import, "
        "for example): wait for it to finish and try again",
    ),
    ("disk i/o error", "the disk reported an I/O error while reading or writing the database"),
    ("file is not a database", "the file is not a SQLite database"),
    ("no such table", "the database has no afteraction tables yet: run `afteraction db upgrade`"),
    (
        "connection refused",
        "the database server refused the connection: is it running and listening there?",
    ),
    ("could not translate host name", "the database server's host name does not resolve"),
    ("password authentication failed", "the database server refused the user name or password"),
    ("timeout expired", "the database server did not answer in time"),
)
_OS_CAUSES = {
    errno.ENOENT: "no such file or folder, and it cannot be created there",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ENOSPC: "the disk is full: free some space and try again",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied for the user running afteraction",
    errno.EPERM: "permission denied for the user running afteraction",
}


def explain(error: BaseException, url: str) -> Unavailable | None:
    """The database error (or file-system error under the database) as one line an operator
    can act on, naming the file or server; None when it is not such an error (a bug, say)."""
    cause = getattr(error, "orig", None) or error
    if isinstance(cause, OSError) and not isinstance(cause, sqlite3.Error):
        reason = _OS_CAUSES.get(cause.errno or 0)
        if reason is None:
            return None
        where = cause.filename if cause.filename else database_place(url)
        return Unavailable(reason, where=str(where))
    text = str(cause).lower()
    for phrase, reason in _CAUSES:
        if phrase in text:
            return Unavailable(reason, where=database_place(url))
    return None
