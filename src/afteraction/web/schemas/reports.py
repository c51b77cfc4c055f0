"""API request bodies of an incident's report: moving it between states (`ReportStateChange`).
Its Read models are shared with the CLI (`afteraction.services.schemas.reports`,
`afteraction.services.schemas.report_claims`)."""

from __future__ import annotations

from pydantic import Field

from afteraction.web.schemas.common import Strict


class ReportStateChange(Strict):
    """`confirm` says the caller has seen what publishing leaves open (open language and
    claim findings, unfilled sections) and publishes anyway; without it such a publish is
    refused with 422 `needs_confirmation`, its details listing them."""

    state: str = Field(max_length=20, examples=["published"])
    confirm: bool = False
