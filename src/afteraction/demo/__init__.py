"""Deterministic demo data: a fictional organisation, two years of incident history and one
richly documented flagship incident whose raw evidence is kept as files in real formats.

`model` holds the plain records, `generate.build_org` builds the organisation and history,
`flagship` holds the flagship incident and writes its evidence files (Slack export,
PagerDuty REST shapes, HR roster, review-meeting transcript). Nothing here touches a
database or the network; loaders elsewhere map these records to tables.
"""
