"""Read models of privacy operations, shared by `POST /api/v1/people/{id}/erase`,
`afteraction privacy erase-person --json` and `afteraction privacy retention --json`."""

from __future__ import annotations

from dataclasses import asdict

from pydantic import Field

from afteraction.services.privacy import Erasure, Retention
from afteraction.services.schemas.common import ReadModel, Timestamp


class ErasureRead(ReadModel):
    person_id: int
    pseudonym: str = Field(description="The name the person is shown under from now on.")
    messages_rewritten: int = Field(description="Messages whose text named them, rewritten.")
    cues_rewritten: int = Field(description="Transcript cues that named them, rewritten.")
    audit_entries_rewritten: int
    identities_kept: int = Field(
        description="Keys kept to recognise the person (no display name): Slack and PagerDuty "
        "ids, and digests of their email, GitHub login and other ids that name them, so a "
        "later import maps to the erased person and stores none of their data again."
    )
    user_anonymised: bool
    pages_rewritten: int = Field(description="PagerDuty log entries that named them, rewritten.")


class RetentionRead(ReadModel):
    chat_days: int = Field(description="AFTERACTION_RETENTION_CHAT_DAYS; 0 keeps chat text.")
    recording_days: int = Field(
        description="AFTERACTION_RETENTION_RECORDING_DAYS; 0 keeps interview recordings."
    )
    chat_cutoff: Timestamp | None = Field(description="Messages written before it lose text.")
    recording_cutoff: Timestamp | None = Field(
        description="Interviews held before it lose their recording's text and link."
    )
    messages: int
    interviews: int
    cues: int
    dry_run: bool = Field(description="True: counted only, nothing removed.")


def erasure_read(result: Erasure) -> ErasureRead:
    return ErasureRead(**asdict(result))


def retention_read(result: Retention) -> RetentionRead:
    return RetentionRead(**asdict(result))
