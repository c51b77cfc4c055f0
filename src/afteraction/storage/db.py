"""Engine and session factory, SQLite pragmas, and Alembic upgrades.

SQLite runs in WAL mode with foreign keys on and a busy timeout; writes take the lock up
front (`BEGIN IMMEDIATE`) so concurrent writers queue instead of failing half-way.
PostgreSQL is reached through psycopg 3.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Let users write postgresql:// or postgres:// and still get psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
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
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        _detach_all(dbapi_connection, record)


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
def writing(session: Session) -> Iterator[Session]:
    """One write transaction, committed on success and rolled back on any error.

    On SQLite the write lock is taken up front (BEGIN IMMEDIATE) so a writer waits for
    another instead of failing half-way; reads use plain deferred transactions.
    """
    if session.in_transaction():
        session.rollback()
    with session.begin():
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        yield session


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
