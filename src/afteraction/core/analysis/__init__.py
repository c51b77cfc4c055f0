"""Analysis of incident evidence: people and coordination, suggested timeline events,
blame-aware language. Pure functions over the dataclasses in `afteraction.core.evidence`."""
