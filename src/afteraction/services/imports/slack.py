"""Import Slack evidence — a workspace export (zip or folder) or a channel's live history —
as channels, messages, people links and incident references, under one `Source`.

Lives here: `import_slack_export`, `import_slack_history` and the writer they share, which
wires the one parser's records (`adapters.slack_messages`, through `adapters.slack_export`
or `adapters.slack_api`) through the intake (`slack_intake`: new, edited, already present)
to a message sink (`storage.message_sinks`). Does not live here: reading Slack data, rows
and columns (the sinks), commits (the caller wraps the call in `with writing(session):`, so
a failure or a killed process leaves the database as it was).

Decisions (see docs/import.md):
- Without `incident` the export is stored as the organisation's archive: every listed
  channel and its messages, nothing attached. With `incident` the chosen channels (default:
  every channel with a message in the window) are attached through `IncidentChannel` with
  the window: default the incident's start − 2 h to its close (or now, while open) + 2 h.
- Slack users are linked to people by an existing slack identity, then email, then full
  name; users nobody matches become new people (name, email, time zone, title from the
  profile) so analysis has them, and are listed in `unmatched` for linking by hand or a
  roster import; into an incident, only those who appear in the imported messages
  (`slack_people`). Bots and apps do not become people; their messages keep
  `is_bot`.
- Messages are keyed on (channel, ts): an overlapping later export adds only new messages;
  a message seen again with a later `edited.ts` gets its text, reactions, mentions and files
  replaced (counted as `messages updated`) and keeps the source that first brought it.
- The conversation list (`channels.json`..., or `conversations.info`) is the channel's
  current state; `channel_topic`/`channel_purpose` events fill a topic or purpose the list
  leaves empty; every rename, topic and purpose event stays a message.
- URLs in new messages of an incident import become the incident's references (counted,
  first seen). `integration_logs.json` is read for its count only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from afteraction.adapters.references import ReferenceCounter
from afteraction.adapters.slack_export import SlackExport, open_export
from afteraction.adapters.slack_messages import WarningLog
from afteraction.adapters.slack_records import (
    ExportLimits,
    ImportWarning,
    ParsedMessage,
    SlackChannel,
)
from afteraction.core.access import Actor, require_write
from afteraction.core.errors import ImportFailed
from afteraction.core.import_window import ChannelTally
from afteraction.services import incidents as repo
from afteraction.services.imports._collection import fewer_collections
from afteraction.services.imports.slack_intake import MessageIntake
from afteraction.services.imports.slack_parallel import StagedItem, parse_elsewhere, parser_count
from afteraction.services.imports.slack_people import SlackPeople
from afteraction.services.imports.slack_window import add_window_warnings, messages_in_window
from afteraction.services.imports.sources import (
    ImportSummary,
    Progress,
    checksum_bytes,
    checksum_path,
    chunked,
    find_previous,
    finish_source,
    previous_summary,
    start_source,
)
from afteraction.storage import bound_rows
from afteraction.storage import db as sdb
from afteraction.storage import messages as store
from afteraction.storage.evidence import merge_references
from afteraction.storage.evidence_tables import Channel
from afteraction.storage.message_sinks import BoundRowSink, MessageSink, open_message_sink
from afteraction.storage.tables import Incident

KIND_EXPORT = "slack_export"
KIND_API = "slack_api"
MARGIN = timedelta(hours=2)
BATCH = bound_rows.BATCH
MAX_LISTED = 1000
# On SQLite messages go to the bound-row sink (`storage.message_sinks`); tests turn it
# off to compare it with the generic sink, PostgreSQL's.
BOUND_ROWS = True


def incident_window(
    incident: Incident, since: datetime | None, until: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """The given bounds, else started − 2 h and (closed, else resolved, else now) + 2 h."""
    start = repo.start_of(incident)
    end = incident.closed_at or incident.resolved_at or datetime.now(UTC)
    default_since = start - MARGIN if start is not None else None
    return since or default_since, until or end + MARGIN


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ImportFailed("times must be timezone-aware", where="since/until")
    return moment.astimezone(UTC).isoformat()


def import_slack_export(
    session: Session,
    actor: Actor,
    path: Path | str,
    *,
    incident: str | None = None,
    channels: Collection[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
    limits: ExportLimits | None = None,
    parser_processes: int | None = None,
) -> ImportSummary:
    """Import a Slack export (see the module docstring). Runs in the caller's transaction;
    bad input raises ImportFailed naming the file and position, and nothing is kept.
    `parser_processes`: None lets a large export be read by parser processes while this
    one writes (`slack_parallel`), 0 reads it here, a number asks for that many
    where the result is sure to be the same."""
    require_write(actor)
    path = Path(path)
    if not path.exists():
        raise ImportFailed("no such export file or folder", where=str(path))
    target = repo.get_incident(session, actor, incident) if incident else None
    wanted = sorted(dict.fromkeys(channels))
    public_id = target.public_id if target else None
    options: dict[str, Any] = {
        "incident": target.public_id if target else None,
        "channels": wanted,
        "since": _iso(since),
        "until": _iso(until),
    }
    _report(progress, 0, None, "checking")
    checksum = checksum_path(path)
    previous = find_previous(session, kind=KIND_EXPORT, checksum=checksum, options=options)
    if previous is not None:
        summary = previous_summary(previous)
        summary.incident = public_id
        return summary
    window = incident_window(target, since, until) if target else (since, until)
    summary = ImportSummary(kind=KIND_EXPORT, source_id=None, origin=str(path))
    summary.incident = public_id
    with fewer_collections(), open_export(path, limits=limits or ExportLimits()) as export:
        users, listed = export.users(), export.channels()
        source = start_source(
            session,
            actor,
            kind=KIND_EXPORT,
            origin=str(path),
            checksum=checksum,
            incident_id=target.id if target else None,
            options=options,
        )
        writer = SlackWriter(session, actor, summary, source.id, target, window, progress)
        writer.people.link_users(users, only_appearing=target is not None)
        writer.know_channels(listed)
        if target is None or wanted:
            writer.add_channels(_chosen(listed, wanted), attach=target is not None)
        chosen = export.selected(wanted or None)
        parsers = parser_count(writer, export, chosen, parser_processes)
        if parsers:
            parse_elsewhere(writer, export, path, chosen, window, parsers)
        else:
            writer.add_export_days(export, chosen, *window)
        summary.count("integration log entries", len(export.integration_logs()))
        writer.finish()
        writer.people.link_appearing()
        _copy_warnings(summary, export.warnings, export.warning_count)
        add_window_warnings(
            summary, writer.tallies, export=export, chosen=chosen, wanted=wanted, window=window
        )
    finish_source(session, actor, source, summary)
    return summary


def _chosen(listed: Iterable[SlackChannel], wanted: Collection[str]) -> list[SlackChannel]:
    if not wanted:
        return list(listed)
    return [c for c in listed if {c.id, c.name, c.folder} & set(wanted)]


def import_slack_history(
    session: Session,
    actor: Actor,
    client: Any,
    channel_id: str,
    *,
    incident: str | None,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import one channel's history live through the Slack Web API (`client` from
    `adapters.slack_api.make_client`): users, channel details, messages and thread replies.
    Idempotent on (channel, ts); each fetch is its own source."""
    from afteraction.adapters import slack_api

    require_write(actor)
    target = repo.get_incident(session, actor, incident) if incident else None
    window = incident_window(target, since, until) if target else (since, until)
    users = slack_api.fetch_users(client)
    channel = slack_api.fetch_channel(client, channel_id)
    log = WarningLog(MAX_LISTED)
    messages = slack_api.fetch_channel_messages(
        client,
        channel_id,
        oldest=window[0],
        latest=window[1],
        channel_name=channel.name,
        users={u.id: u.label for u in users},
        warn=log,
    )
    origin = f"slack:{channel_id}"
    fetched_at = datetime.now(UTC).isoformat()
    public_id = target.public_id if target else None
    options: dict[str, Any] = {
        "incident": public_id,
        "channels": [channel_id],
        "since": _iso(window[0]),
        "until": _iso(window[1]),
    }
    checksum = checksum_bytes(origin.encode(), fetched_at.encode())
    summary = ImportSummary(kind=KIND_API, source_id=None, origin=origin)
    summary.incident = public_id
    source = start_source(
        session,
        actor,
        kind=KIND_API,
        origin=origin,
        checksum=checksum,
        incident_id=target.id if target else None,
        options=options,
    )
    writer = SlackWriter(session, actor, summary, source.id, target, window, progress)
    writer.people.link_users(users, only_appearing=target is not None)
    writer.know_channels([channel])
    writer.add_channels([channel], attach=target is not None)
    tally = ChannelTally(channel.name or channel.id)
    in_window = messages_in_window(messages, *window, tally)
    writer.add_channel(channel.id, channel.name or channel.id, chunked(in_window, BATCH))
    writer.see_tally(channel.id, tally)
    writer.finish()
    writer.people.link_appearing()
    _copy_warnings(summary, log.items, log.count)
    chosen = [(channel.id, channel)]
    add_window_warnings(
        summary, writer.tallies, export=None, chosen=chosen, wanted=[channel_id], window=window
    )
    finish_source(session, actor, source, summary)
    return summary


def _copy_warnings(summary: ImportSummary, items: list[ImportWarning], total: int) -> None:
    for item in items:
        if item.reason.startswith("skipped"):
            summary.skip(item.where, item.reason.removeprefix("skipped: "))
        else:
            summary.warnings.append(f"{item.where}: {item.reason}")
    if total > len(items):
        summary.warnings.append(f"{total - len(items)} more warnings not listed")
    summary.count("skipped", sum(1 for item in items if item.reason.startswith("skipped")))


def _report(progress: Progress | None, done: int, total: int | None, what: str) -> None:
    if progress is not None:
        progress(done, total, what)


class SlackWriter:
    """Writes one import's users, channels and messages; holds per-import state only."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        summary: ImportSummary,
        source_id: int,
        incident: Incident | None,
        window: tuple[datetime | None, datetime | None],
        progress: Progress | None,
    ) -> None:
        self.session, self.actor, self.summary = session, actor, summary
        self.source_id, self.incident, self.window = source_id, incident, window
        self.progress = progress
        self.people = SlackPeople(session, actor, summary, source_id)
        self.person_of, self.labels = self.people.person_of, self.people.labels
        self.bot_users = self.people.bot_users
        self.known: dict[str, SlackChannel] = {}
        self.channel_ids: dict[str, int] = {}
        self.created_channels: set[int] = set()
        self.written: set[str] = set()  # channels (Slack ids) this import wrote messages to
        self.current: str | None = None
        self.current_id = 0
        self.authors = bound_rows.Authors(self.person_of, self.labels, self.bot_users)
        self.bound_rows = BOUND_ROWS and session.get_bind().dialect.name == "sqlite"
        self.sink: MessageSink | None = None
        self.done = 0
        self.references = ReferenceCounter() if incident is not None else None
        self.intake = MessageIntake(self.references)
        self.events: dict[str, dict[str, tuple[datetime, str]]] = self.intake.events
        self.tallies: dict[str, ChannelTally] = {}  # by Slack channel id, for the warnings
        for name in ("channels", "messages", "messages already present", "messages updated"):
            summary.counts.setdefault(name, 0)

    # -- channels -----------------------------------------------------------------------

    def know_channels(self, channels: Iterable[SlackChannel]) -> None:
        self.known.update((c.id, c) for c in channels)

    def add_channels(self, channels: Iterable[SlackChannel], *, attach: bool) -> None:
        for channel in channels:
            self._channel(channel.id, channel.name, attach=attach)

    def _channel(self, external_id: str, name: str, *, attach: bool) -> int:
        found = self.channel_ids.get(external_id)
        if found is not None:
            return found
        listed = self.known.get(external_id)
        info = store.ChannelInfo(
            external_id=external_id,
            name=(listed.name if listed else name) or external_id,
            kind=listed.kind if listed else "unknown",
            topic=listed.topic if listed else "",
            purpose=listed.purpose if listed else "",
            created_at=listed.created if listed else None,
        )
        channel_id, created = store.upsert_channel(self.session, info, source_id=self.source_id)
        self.channel_ids[external_id] = channel_id
        self.summary.count("channels")
        if created:
            self.created_channels.add(channel_id)
        if attach and self.incident is not None:
            since, until = self.window
            store.attach_channel(
                self.session,
                incident_id=self.incident.id,
                channel_id=channel_id,
                since=since,
                until=until,
                source_id=self.source_id,
            )
            self.summary.count("channels attached")
        return channel_id

    def holds_messages(self, external_ids: Iterable[str]) -> bool:
        """Whether any of these Slack channels already has messages in the database."""
        return store.channels_hold_messages(self.session, external_ids)

    # -- messages -----------------------------------------------------------------------

    def start_loading(self) -> MessageSink:
        """The import's message sink (made at the first message: on SQLite it starts the
        bulk load)."""
        if self.sink is None:
            self.sink = open_message_sink(
                self.session,
                source_id=self.source_id,
                authors=self.authors,
                bound_rows=self.bound_rows,
            )
        return self.sink

    def bulk_sink(self) -> BoundRowSink:
        """The bound-row sink the parser processes' rows are copied through."""
        sink = self.start_loading()
        if not isinstance(sink, BoundRowSink):  # `parser_count` chose parsers on SQLite only
            raise TypeError("parser processes need the bound-row sink")
        return sink

    def add_export_days(
        self,
        export: SlackExport,
        chosen: Iterable[tuple[str, SlackChannel]],
        since: datetime | None,
        until: datetime | None,
    ) -> None:
        """Write the messages of an export's chosen channels, read here a day file at a
        time (what a parser process does elsewhere)."""
        parser = export.message_parser()
        for folder, channel in chosen:
            tally = ChannelTally(channel.name or channel.id)
            days = export.folder_days_parsed(parser, folder, channel, since, until, tally)
            self.add_channel(channel.id, channel.name or channel.id, (b for _, b in days))
            self.see_tally(channel.id, tally)

    def add_channel(
        self, external_id: str, name: str, batches: Iterable[Sequence[ParsedMessage]]
    ) -> None:
        """Write one channel's messages (in batches, in order): the new ones through the
        sink, later edits as updates, the rest counted. A channel without any message is
        left untouched (in an incident's window it is not attached)."""
        sink = self.start_loading()
        intake = self.intake
        intake.existing = self._held(external_id)
        pending: list[ParsedMessage] = []
        for batch in batches:
            if not batch:
                continue
            self._switch(external_id, name)
            pending += intake.take(batch)
            if len(pending) >= BATCH:
                self._store(sink, pending)
                pending = []
        self._store(sink, pending)
        intake.existing = {}

    def _store(self, sink: MessageSink, messages: list[ParsedMessage]) -> None:
        """New messages of the current channel, then the changes and counts so far."""
        if messages:
            self._inserted(sink.add(self.current_id, messages))
        changes, present = self.intake.hand_over()
        if changes:
            self.summary.count("messages updated", sink.update(self.current_id, changes))
        if present:
            self.summary.count("messages already present", present)

    def see_tally(self, external_id: str, tally: ChannelTally | None) -> None:
        """Add what a reader counted of a channel's messages inside and outside the window."""
        if tally is not None:
            self.tallies.setdefault(external_id, ChannelTally(tally.label)).merge(tally)

    def _held(self, external_id: str) -> dict[str, datetime | None]:
        """ts -> edit time of the messages a channel held before this import (if any)."""
        channel_id = self.channel_ids.get(external_id) or store.find_channel(
            self.session, external_id
        )
        if channel_id is None or self._fresh(external_id, channel_id):
            return {}
        if not store.has_messages(self.session, channel_id):
            return {}
        return store.existing_messages(self.session, channel_id)

    def _fresh(self, external_id: str, channel_id: int) -> bool:
        """Whether a channel holds no message yet: made by this import, none written to it
        so far (two folders can be one channel: the second sees what the first wrote)."""
        return channel_id in self.created_channels and external_id not in self.written

    def _inserted(self, count: int) -> None:
        self.summary.count("messages", count)
        self.done += count
        _report(self.progress, self.done, None, f"#{self._current_name()}")

    def take_staged(self, path: str | None, items: Sequence[StagedItem]) -> int:
        """What a parser process hands over (see `slack_parallel`): a file of staged rows
        (or none) and, in order, each channel's rows in it, then its changed messages and
        how many were already present. Returns how many rows it added."""
        sink = self.bulk_sink()
        schema = None if path is None else sdb.attach_for_transaction(self.session, path)
        added = 0
        for external_id, name, rows, changes, present in items:
            if not (rows[1] >= rows[0] or changes or present):
                continue
            if rows[1] >= rows[0] and schema is None:  # never made: say so, lose nothing
                raise ImportFailed("staged rows arrived without their file", where=name)
            self._switch(external_id, name)
            if rows[1] >= rows[0]:
                assert schema is not None
                count = sink.add_staged(schema, rows, self.current_id)
                self._inserted(count)
                added += count
            if changes:
                self.summary.count("messages updated", sink.update(self.current_id, changes))
            if present:
                self.summary.count("messages already present", present)
        if path is not None:  # copied: only the open handle keeps it until the end
            with contextlib.suppress(OSError):
                Path(path).unlink()
        return added

    def attach_capacity(self) -> int:
        """How many staged files this import's connection can still attach."""
        return sdb.attach_capacity(self.session)

    def expect_rows(self, count: int) -> None:
        """About `count` rows will come from parser processes (see `store.expect_rows`)."""
        self.bulk_sink().expect_rows(count)

    def _switch(self, external_id: str, name: str) -> None:
        if external_id != self.current:
            self.current = external_id
            self.current_id = self._channel(external_id, name, attach=self.incident is not None)
            self.written.add(external_id)

    def index_loaded(self) -> None:
        self.bulk_sink().index_loaded()

    def _current_name(self) -> str:
        listed = self.known.get(self.current or "")
        return (listed.name if listed else None) or self.current or ""

    # -- end ----------------------------------------------------------------------------

    def finish(self) -> None:
        if self.sink is not None:
            self.sink.finish()
        self.people.scrub_erased(self.channel_ids.values())
        self._apply_events()
        if self.references is not None and self.incident is not None:
            found = [(r.reference, r.count, r.first_seen) for r in self.references.results()]
            added, updated = merge_references(
                self.session,
                incident_id=self.incident.id,
                source_id=self.source_id,
                found=found,
            )
            self.summary.count("references", added)
            self.summary.count("references seen again", updated)
        _report(self.progress, self.done, self.done, "done")

    def _apply_events(self) -> None:
        """Fill a channel's empty topic or purpose from the last such event imported."""
        for external_id, events in self.events.items():
            channel_id = self.channel_ids.get(external_id)
            row = None if channel_id is None else self.session.get(Channel, channel_id)
            if row is None:  # pragma: no cover - the channel was written in this import
                continue
            topic, purpose = events.get("topic"), events.get("purpose")
            if not row.topic and topic and topic[1]:
                row.topic = topic[1]
            if not row.purpose and purpose and purpose[1]:
                row.purpose = purpose[1]
