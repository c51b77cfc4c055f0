"""Every table module in one import, so `Base.metadata` is complete wherever it is needed
(Alembic, tests, backups). New table modules are added here."""

from afteraction.storage import (
    analysis_tables,
    auth_tables,
    evidence_tables,
    import_jobs,
    insights_tables,
    review_tables,
    tables,
)
from afteraction.storage.tables import Base

__all__ = [
    "Base",
    "analysis_tables",
    "auth_tables",
    "evidence_tables",
    "import_jobs",
    "insights_tables",
    "review_tables",
    "tables",
]
