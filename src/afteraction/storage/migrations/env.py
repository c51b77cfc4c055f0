"""Alembic environment: runs migrations against the URL set by `afteraction.storage.db`.

Batch mode is on so SQLite can alter tables; the naming convention on `Base.metadata` keeps
constraint names identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

from alembic import context

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


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=managed_by_migrations_only,
    )
    with context.begin_transaction():
        context.run_migrations()
    if getattr(connection, "in_transaction", lambda: False)():
        connection.commit()  # type: ignore[attr-defined]


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
