"""Storage: SQLAlchemy 2 tables, engine and sessions, Alembic migrations, and the
repository functions that read and write them using the rules in `afteraction.core`.

Storage never imports `web`, `cli` or `adapters`, and never commits on its own: callers own
transactions (`with session.begin():`).
"""
