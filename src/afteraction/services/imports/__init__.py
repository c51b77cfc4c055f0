"""Evidence importers: parse files or API payloads with `afteraction.adapters` and write them
with `afteraction.storage`, one write transaction and one `Source` per import.

Lives here: orchestration only (one module per kind: Slack, PagerDuty, on-call, roster,
transcripts, past reports, and the demo's flagship evidence). Does not live here: parsing
of formats (adapters), table definitions and generic persistence (storage), HTTP or CLI.
"""
