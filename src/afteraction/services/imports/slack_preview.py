"""Preview a Slack export before importing it: its chosen channels, how many messages each
day file and each UTC day holds, which of them fall in the import's window, and the warnings
the import would give (`afteraction import slack --dry-run`, the `/imports` page's preview).

Lives here: `preview_slack_export` and its result `SlackPreview`. The counting is the
adapter's (`adapters.slack_preview`), the window rule the core's (`core.import_window`),
the incident's default window the import's (`importers.slack.incident_window`): the
preview and the import cannot disagree about them. Nothing is written.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from afteraction.adapters.slack_export import open_export
from afteraction.adapters.slack_preview import ChannelPreview, preview_channels
from afteraction.adapters.slack_records import ExportLimits
from afteraction.core.access import Actor, require_write
from afteraction.core.errors import ImportFailed
from afteraction.core.import_window import suggested_window, utc_text, window_warnings
from afteraction.services import incidents as repo
from afteraction.services.imports.slack import KIND_EXPORT, incident_window
from afteraction.services.imports.slack_window import named_channels


@dataclass(slots=True)
class SlackPreview:
    """What an import of `origin` with these options would read (see the module docstring)."""

    origin: str
    incident: str | None
    since: datetime | None
    until: datetime | None
    users: int
    channels: list[ChannelPreview] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        window = suggested_window(c.tally for c in self.channels)
        return {
            "kind": KIND_EXPORT,
            "dry_run": True,
            "origin": self.origin,
            "incident": self.incident,
            "window": {"since": utc_text(self.since), "until": utc_text(self.until)},
            "users": self.users,
            "totals": {
                "channels": len(self.channels),
                "channels_in_window": sum(1 for c in self.channels if c.tally.inside),
                "messages": sum(c.tally.total for c in self.channels),
                "in_window": sum(c.tally.inside for c in self.channels),
            },
            "suggested_window": None
            if window is None
            else {"since": utc_text(window[0]), "until": utc_text(window[1])},
            "channels": [c.as_dict() for c in self.channels],
            "warnings": list(self.warnings),
        }


def preview_slack_export(
    session: Session,
    actor: Actor,
    path: Path | str,
    *,
    incident: str | None = None,
    channels: Collection[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    limits: ExportLimits | None = None,
) -> SlackPreview:
    """Count what `import_slack_export` with the same arguments would read; bad input
    raises `ImportFailed` naming the file and position, a channel the export lacks
    `NotFound`, as the import does."""
    require_write(actor)
    path = Path(path)
    if not path.exists():
        raise ImportFailed("no such export file or folder", where=str(path))
    for label, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise ImportFailed("times must be timezone-aware", where=label)
    target = repo.get_incident(session, actor, incident) if incident else None
    window = incident_window(target, since, until) if target else (since, until)
    wanted = sorted(dict.fromkeys(channels))
    with open_export(path, limits=limits or ExportLimits()) as export:
        chosen = export.selected(wanted or None)
        found = preview_channels(export, chosen, *window)
        preview = SlackPreview(
            origin=str(path),
            incident=target.public_id if target else None,
            since=window[0],
            until=window[1],
            users=len(export.users()),
            channels=found,
        )
    named = {c.id for _, c in named_channels(chosen, wanted)}
    preview.warnings = window_warnings(
        [c.tally for c in found],
        named=[c.tally.label for c in found if c.id in named],
        since=window[0],
        until=window[1],
        stored=sum(c.tally.inside for c in found),
        preview=True,
    )
    return preview
