"""`afteraction privacy …`: erase a person's personal data on request, and apply the
retention policy now (`services.privacy`; the worker applies it daily)."""

from __future__ import annotations

from typing import Annotated

import typer

from afteraction.cli.context import cli_actor, fail, print_json, run, say, state_of
from afteraction.services import privacy as service
from afteraction.services.schemas.privacy import erasure_read, retention_read
from afteraction.storage.db import writing

app = typer.Typer(
    help="Erase a person's personal data; apply the retention policy.", no_args_is_help=True
)


@app.command("erase-person")
def erase_person(
    ctx: typer.Context,
    person_id: Annotated[int, typer.Argument(help="The person's id (see /directory).", min=1)],
    reason: Annotated[
        str, typer.Option("--reason", help="Why: the request or ticket it answers.")
    ] = "",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Erase a person's personal data: their name becomes a pseudonym everywhere (messages,
    transcripts, the audit log), personal fields are cleared; what they did in incidents is
    kept. Cannot be undone.

    Example: afteraction privacy erase-person 42 --reason "GDPR request #118" --yes
    """
    if not yes and not typer.confirm(
        f"Erase the personal data of person {person_id}? This cannot be undone."
    ):
        fail("nothing erased", code=1)
    with state_of(ctx).session() as session:
        with writing(session):
            result = run(
                lambda: service.erase_person(session, cli_actor(), person_id, reason=reason)
            )
    if json_output:
        print_json(erasure_read(result).model_dump(mode="json"))
        return
    say(
        f"erased person {person_id}: now shown as {result.pseudonym!r}; rewrote "
        f"{result.messages_rewritten} message(s), {result.pages_rewritten} PagerDuty log "
        f"entr(ies), {result.cues_rewritten} transcript cue(s) "
        f"and {result.audit_entries_rewritten} audit entr(ies)"
        + ("; their disabled user account was anonymised" if result.user_anonymised else "")
    )


@app.command("retention")
def retention(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be removed; remove nothing.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Apply the retention policy now (AFTERACTION_RETENTION_CHAT_DAYS,
    AFTERACTION_RETENTION_RECORDING_DAYS): remove the text of older chat messages and
    interview recordings, keeping rows, times and authors.

    Example: afteraction privacy retention --dry-run
    """
    state = state_of(ctx)
    policy = state.settings.retention
    with state.session() as session:
        with writing(session):
            result = run(
                lambda: service.apply_retention(session, cli_actor(), policy, dry_run=dry_run)
            )
    if json_output:
        print_json(retention_read(result).model_dump(mode="json"))
        return
    if not result.enabled:
        say(
            "no retention policy: AFTERACTION_RETENTION_CHAT_DAYS and "
            "AFTERACTION_RETENTION_RECORDING_DAYS are 0, so all text is kept"
        )
        return
    verb = "would remove" if dry_run else "removed"
    parts = []
    if result.chat_cutoff is not None:
        parts.append(
            f"the text of {result.messages} chat message(s) written before "
            f"{result.chat_cutoff:%Y-%m-%d %H:%M} UTC ({result.chat_days} days)"
        )
    if result.recording_cutoff is not None:
        parts.append(
            f"{result.cues} recording cue(s) of {result.interviews} interview(s) held before "
            f"{result.recording_cutoff:%Y-%m-%d %H:%M} UTC ({result.recording_days} days)"
        )
    say(f"{verb} " + "; ".join(parts))
