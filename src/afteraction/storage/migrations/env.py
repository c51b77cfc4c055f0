"""Alembic environment: runs migrations against the URL set by `afteraction.storage.db`.

Batch mode is on so SQLite can alter tables; the naming convention on `Base.metadata` keeps
constraint names identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from afteraction.storage.db import make_engine, managed_by_migrations_only
from afteraction.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _enforce_foreign_keys(connection, False)
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
            include_name=managed_by_migrations_only,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _check_foreign_keys(connection)
        if connection.in_transaction():
            connection.commit()
    finally:
        if sqlite:
            _enforce_foreign_keys(connection, True)


def _enforce_foreign_keys(connection: Connection, on: bool) -> None:
    """SQLite: foreign key enforcement on or off, outside any transaction (inside one the
    pragma does nothing). Off while migrating: a batch-mode rebuild drops a table, and with
    enforcement on that drop deletes its rows first, firing `ON DELETE` actions on the
    tables that point at it (annotations would lose their messages)."""
    if connection.in_transaction():
        raise RuntimeError("foreign key enforcement can only change outside a transaction")
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")


def _check_foreign_keys(connection: Connection) -> None:
    """Fail the migration (and roll it back) if any row points at a row that is gone."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchmany(5)
    if broken:
        raise RuntimeError(f"migration left rows pointing at missing rows: {broken}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
