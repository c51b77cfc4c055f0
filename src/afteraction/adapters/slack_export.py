"""Slack workspace exports (zip or unpacked folder) read as a stream of plain records.

Lives here: the export container (`open_export`, `SlackExport`): zip or folder, day files,
users and channels. The records it yields and its safety limits are `slack_records`; the one
message-dict -> `ParsedMessage` parser, shared with the live Web API client, is
`slack_messages`.
Formats: formats.md §1. Times always come from `ts`, never from day-file names.

Memory: members are read one file at a time (users.json, one day file...), never the whole
export; nothing is extracted to disk. Hostile input raises `ImportFailed(where=...)` naming the
file and position, or - when one item can be skipped safely - adds an `ImportWarning`.

Must not live here: persistence (storage), person matching, HTTP calls (see `slack_api`).
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter
from pathlib import Path
from types import TracebackType
from typing import Any

from afteraction.adapters.slack_messages import MessageParser, WarningLog
from afteraction.adapters.slack_records import (
    _DAY_FILE,
    _KIND_BY_FILE,
    _META_FILES,
    ExportLimits,
    ImportWarning,
    IntegrationLogEntry,
    MiB,
    ParsedMessage,
    SlackChannel,
    SlackUser,
    _as_array,
    _dict,
    _epoch,
    _load_json,
    _str,
    _strings,
)
from afteraction.core.errors import ImportFailed, NotFound, ValidationError
from afteraction.core.import_window import ChannelTally
from afteraction.core.slack_record import datetime_to_micros

# --- containers: zip or folder --------------------------------------------------------


def _unsafe_name(name: str) -> str | None:
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return "absolute path"
    if ".." in norm.split("/"):
        return "path escapes the export folder"
    if "\x00" in norm:
        return "NUL byte in the name"
    return None


def _day_index(names: Iterator[tuple[str, str]]) -> dict[str, list[str]]:
    """folder -> sorted day-file names, from (folder, file name) pairs."""
    index: dict[str, list[str]] = {}
    for folder, name in names:
        if _DAY_FILE.match(name) and folder and not folder.startswith("__"):
            index.setdefault(folder, []).append(name)
    for names_ in index.values():
        names_.sort()
    return index


def _read_capped(stream: Any, where: str, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(MiB):
        total += len(chunk)
        if total > limit:
            raise ImportFailed(f"file is larger than the {limit:,}-byte limit", where=where)
        chunks.append(chunk)
    return b"".join(chunks)


class _ZipSource:
    def __init__(self, path: Path, limits: ExportLimits) -> None:
        self.limits = limits
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise ImportFailed(f"not a readable zip archive ({error})", where=path.name) from None
        try:
            self.infos = {info.filename: info for info in self._checked_members()}
        except ImportFailed:
            self.zip.close()
            raise
        self.root = _find_root(list(self.infos))
        self.days = _day_index(self._pairs())

    def _checked_members(self) -> Iterator[zipfile.ZipInfo]:
        infos = self.zip.infolist()
        if len(infos) > self.limits.max_members:
            raise ImportFailed(f"{len(infos):,} members, over the limit", where="archive")
        total = 0
        for info in infos:
            _check_member(info, self.limits)
            total += info.file_size
            if total > self.limits.max_total_bytes:
                raise ImportFailed(
                    f"uncompressed size over the {self.limits.max_total_bytes:,}-byte limit "
                    "(possible zip bomb)",
                    where=info.filename,
                )
            yield info

    def _pairs(self) -> Iterator[tuple[str, str]]:
        for name in self.infos:
            if name.startswith(self.root):
                parts = name[len(self.root) :].split("/")
                if len(parts) == 2:
                    yield parts[0], parts[1]

    def exists(self, rel: str) -> bool:
        return self.root + rel in self.infos

    def read(self, rel: str) -> bytes:
        info = self.infos[self.root + rel]
        if info.file_size > self.limits.max_file_bytes:
            raise ImportFailed(
                f"file is {info.file_size:,} bytes, over the "
                f"{self.limits.max_file_bytes:,}-byte limit",
                where=rel,
            )
        try:
            with self.zip.open(info) as stream:
                return _read_capped(stream, rel, self.limits.max_file_bytes)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
            raise ImportFailed(f"damaged zip member ({error})", where=rel) from None

    def size(self, rel: str) -> int:
        return self.infos[self.root + rel].file_size

    def close(self) -> None:
        self.zip.close()


def _check_member(info: zipfile.ZipInfo, limits: ExportLimits) -> None:
    reason = _unsafe_name(info.filename)
    if reason:
        raise ImportFailed(f"refusing archive: {reason}", where=info.filename)
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ImportFailed("refusing archive: symbolic link member", where=info.filename)
    if info.flag_bits & 0x1:
        raise ImportFailed("encrypted members are not supported", where=info.filename)
    if info.file_size > limits.ratio_min_bytes:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_ratio:
            raise ImportFailed(
                f"compression ratio {ratio:.0f}:1 over the {limits.max_ratio:.0f}:1 limit "
                "(possible zip bomb)",
                where=info.filename,
            )


def _find_root(names: list[str]) -> str:
    """The folder holding users.json/channels.json: the archive root or one wrapper folder."""
    roots = sorted(
        (name.count("/"), name.rsplit("/", 1)[0] + "/" if "/" in name else "")
        for name in names
        if name.rsplit("/", 1)[-1] in _META_FILES and not name.startswith("__MACOSX")
    )
    return roots[0][1] if roots else ""


class _DirSource:
    def __init__(self, path: Path, limits: ExportLimits) -> None:
        self.limits = limits
        self.base = path
        self.root = self._find_root(path)
        self.days = _day_index(self._pairs())

    @staticmethod
    def _find_root(path: Path) -> Path:
        if any((path / name).is_file() for name in _META_FILES):
            return path
        subdirs = [p for p in path.iterdir() if p.is_dir() and not p.is_symlink()]
        if len(subdirs) == 1 and any((subdirs[0] / n).is_file() for n in _META_FILES):
            return subdirs[0]
        return path

    def _pairs(self) -> Iterator[tuple[str, str]]:
        with os.scandir(self.root) as folders:
            for folder in folders:
                if folder.is_symlink() and not folder.name.startswith("."):
                    raise ImportFailed("refusing symbolic link in export", where=folder.name)
                if not folder.is_dir(follow_symlinks=False):
                    continue
                with os.scandir(folder.path) as files:
                    for entry in files:
                        if _DAY_FILE.match(entry.name):
                            yield folder.name, entry.name

    def _path(self, rel: str) -> Path:
        return self.root / rel

    def exists(self, rel: str) -> bool:
        return os.path.lexists(self._path(rel))

    def read(self, rel: str) -> bytes:
        path = self._path(rel)
        try:
            info = path.lstat()
        except OSError as error:
            raise ImportFailed(f"cannot read ({error.strerror})", where=rel) from None
        if stat.S_ISLNK(info.st_mode):
            raise ImportFailed("refusing symbolic link in export", where=rel)
        if info.st_size > self.limits.max_file_bytes:
            raise ImportFailed(
                f"file is {info.st_size:,} bytes, over the "
                f"{self.limits.max_file_bytes:,}-byte limit",
                where=rel,
            )
        with path.open("rb") as stream:
            return _read_capped(stream, rel, self.limits.max_file_bytes)

    def size(self, rel: str) -> int:
        try:
            return self._path(rel).lstat().st_size
        except OSError:
            return 0  # `read` says what is wrong with it

    def close(self) -> None:
        """Nothing to release for a folder."""


# --- JSON decoding --------------------------------------------------------------------


# --- the export -----------------------------------------------------------------------


def parse_user(raw: Mapping[str, Any]) -> SlackUser | None:
    """A `SlackUser` from a users.json / users.list member (None without an id)."""
    user_id = _str(raw.get("id"))
    if user_id is None:
        return None
    profile = _dict(raw.get("profile"))
    return SlackUser(
        id=user_id,
        name=_str(raw.get("name")) or "",
        real_name=_str(raw.get("real_name")) or _str(profile.get("real_name")) or "",
        display_name=_str(profile.get("display_name")) or "",
        email=_str(profile.get("email")),
        tz=_str(raw.get("tz")),
        title=_str(profile.get("title")) or "",
        is_bot=raw.get("is_bot") is True,
        deleted=raw.get("deleted") is True,
        bot_id=_str(profile.get("bot_id")),
    )


def parse_channel(raw: Mapping[str, Any], kind: str) -> SlackChannel | None:
    """A `SlackChannel` from a channels/groups/dms/mpims.json element (None without an id)."""
    channel_id = _str(raw.get("id"))
    if channel_id is None:
        return None
    if raw.get("is_mpim") is True:
        kind = "mpim"
    elif raw.get("is_im") is True:
        kind = "dm"
    return SlackChannel(
        id=channel_id,
        name=_str(raw.get("name")) or "",
        kind=kind,
        created=_epoch(raw.get("created")),
        creator=_str(raw.get("creator")),
        members=_strings(raw.get("members")),
        topic=_str(_dict(raw.get("topic")).get("value")) or "",
        purpose=_str(_dict(raw.get("purpose")).get("value")) or "",
        is_archived=raw.get("is_archived") is True,
    )


class SlackExport:
    """An opened export. Use as a context manager; read users, channels, then messages."""

    def __init__(self, source: _ZipSource | _DirSource, limits: ExportLimits) -> None:
        self._source = source
        self.limits = limits
        self._log = WarningLog(limits.max_warnings_listed)
        self._users: list[SlackUser] | None = None
        self._channels: list[SlackChannel] | None = None

    def __enter__(self) -> SlackExport:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._source.close()

    @property
    def warnings(self) -> list[ImportWarning]:
        """Listed warnings (the first `limits.max_warnings_listed`); see `warning_count`."""
        return self._log.items

    @property
    def warning_count(self) -> int:
        return self._log.count

    def add_warnings(self, items: list[ImportWarning], count: int) -> None:
        """Add warnings another reader of this export logged (`count` of them, `items`
        listed) after the ones logged so far."""
        for item in items:
            self._log(item.where, item.reason)
        self._log.count += count - len(items)

    def _array(self, rel: str, single_key: str) -> list[Any]:
        if not self._source.exists(rel):
            return []
        return _as_array(
            _load_json(self._source.read(rel), rel, self._log), rel, single_key, self._log
        )

    def _items(self, rel: str, single_key: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for number, item in enumerate(self._array(rel, single_key), start=1):
            where = f"{rel}: item {number}"
            if isinstance(item, dict):
                yield where, item
            else:
                self._log(where, f"skipped: a {type(item).__name__}, not an object")

    def users(self) -> list[SlackUser]:
        """Everyone in users.json and org_users.json (first record wins on duplicate ids)."""
        if self._users is None:
            if not any(self._source.exists(f) for f in ("users.json", "org_users.json")):
                self._log("users.json", "missing; mentions and authors stay as Slack ids")
            found: dict[str, SlackUser] = {}
            for rel in ("users.json", "org_users.json"):
                for where, item in self._items(rel, "id"):
                    self._keep(found, parse_user(item), where)
            self._users = list(found.values())
        return self._users

    def channels(self) -> list[SlackChannel]:
        """Public and private channels, DMs and group DMs (first record wins on duplicates)."""
        if self._channels is None:
            found: dict[str, SlackChannel] = {}
            for rel, kind in _KIND_BY_FILE.items():
                for where, item in self._items(rel, "id"):
                    self._keep(found, parse_channel(item, kind), where)
            self._channels = list(found.values())
        return self._channels

    def _keep(
        self, found: dict[str, Any], record: SlackUser | SlackChannel | None, where: str
    ) -> None:
        if record is None:
            self._log(where, "skipped: no id")
        elif record.id in found:
            self._log(where, f"skipped: duplicate id {record.id}")
        else:
            found[record.id] = record

    def integration_logs(self) -> list[IntegrationLogEntry]:
        """App and integration changes from integration_logs.json (empty when absent)."""
        entries: list[IntegrationLogEntry] = []
        for _where, item in self._items("integration_logs.json", "change_type"):
            entries.append(
                IntegrationLogEntry(
                    user_id=_str(item.get("user_id")),
                    user_name=_str(item.get("user_name")) or "",
                    at=_epoch(item.get("date")),
                    change_type=_str(item.get("change_type")) or "",
                    service=_str(item.get("service_type")) or _str(item.get("app_type")) or "",
                    scope=_str(item.get("scope")) or "",
                    channel=_str(item.get("channel")) or "",
                    reason=_str(item.get("reason")) or "",
                )
            )
        return entries

    def folders(self) -> list[str]:
        """Conversation folders that hold day files."""
        return sorted(self._source.days)

    def days_of(self, folder: str) -> list[str]:
        """The names of a folder's day files (`YYYY-MM-DD.json`), in order."""
        return list(self._source.days.get(folder, ()))

    def day_bytes(self, folder: str) -> int:
        """How many bytes the day files of a folder hold (uncompressed)."""
        return sum(self._source.size(f"{folder}/{name}") for name in self._source.days[folder])

    def day_size(self, rel: str) -> int:
        """How many bytes one day file (`folder/name`, as `folder_days` names it) holds."""
        return self._source.size(rel)

    def message_parser(self) -> MessageParser:
        """The parser `iter_messages` uses: user and channel names from this export,
        warnings into this export's log."""
        latest = datetime.now(UTC) + self.limits.future_margin
        return MessageParser(
            users={u.id: u.label for u in self.users()},
            channels={c.id: c.name or c.id for c in self.channels()},
            warn=self._log,
            earliest=self.limits.earliest,
            latest=latest,
        )

    def selected(self, wanted: Collection[str] | None) -> list[tuple[str, SlackChannel]]:
        """(folder, channel) of the chosen channels (ids, names or folders; None: all), in
        folder order; NotFound names any wanted channel the export lacks."""
        by_folder = {c.folder: c for c in self.channels()}
        chosen: list[tuple[str, SlackChannel]] = []
        matched: set[str] = set()
        for folder in self.folders():
            channel = by_folder.get(folder)
            if channel is None:
                self._log(folder, "folder not listed in any conversation list; id = folder name")
                channel = SlackChannel(id=folder, name=folder, kind="unknown")
            keys = {folder, channel.id, channel.name}
            if wanted is None or keys & set(wanted):
                matched |= keys
                chosen.append((folder, channel))
        missing = sorted(set(wanted or ()) - matched)
        if missing:
            raise NotFound("channel", ", ".join(missing))
        return chosen

    def iter_messages(
        self,
        channels: Collection[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[ParsedMessage]:
        """Messages of the chosen channels (ids, names or folders), `since` <= at < `until`.

        Streams one day file at a time: channels in folder order, day files in name order,
        messages in (seconds, microseconds) order within a file. Day files more than two days
        outside the window are not opened (file names are a hint only; times come from ts).
        """
        for label, moment in (("since", since), ("until", until)):
            if moment is not None and moment.tzinfo is None:
                raise ValidationError(f"{label} must be timezone-aware", field=label)
        parser = self.message_parser()
        for folder, channel in self.selected(channels):
            for _, batch in self.folder_days_parsed(parser, folder, channel, since, until):
                yield from batch

    def folder_days(
        self,
        folder: str,
        since: datetime | None,
        until: datetime | None,
        warn: Callable[[str, str], None],
    ) -> Iterator[tuple[str, list[Any]]]:
        """(relative path, items) of a folder's day files in name order, skipping those
        more than two days outside the window; a file's problems go to `warn` or raise."""
        for name in self._source.days[folder]:
            if _day_may_overlap(name, since, until):
                rel = f"{folder}/{name}"
                yield rel, self.day_items(rel, warn)

    def skipped_days(
        self, folder: str, since: datetime | None, until: datetime | None
    ) -> list[str]:
        """The day files (`folder/name`) of a folder that `folder_days` skips for the window."""
        return [
            f"{folder}/{name}"
            for name in self._source.days[folder]
            if not _day_may_overlap(name, since, until)
        ]

    def day_items(self, rel: str, warn: Callable[[str, str], None]) -> list[Any]:
        """The items of one day file (`folder/name`); its problems go to `warn` or raise."""
        return _as_array(_load_json(self._source.read(rel), rel, warn), rel, "ts", warn)

    def folder_days_parsed(
        self,
        parser: MessageParser,
        folder: str,
        channel: SlackChannel,
        since: datetime | None,
        until: datetime | None,
        tally: ChannelTally | None = None,
    ) -> Iterator[tuple[str, list[ParsedMessage]]]:
        """(relative path, messages) of each day file of one chosen channel that is read:
        its messages in time order (equal times in file order), those outside the window
        left out (the list may be empty). Its warnings
        go to `parser.warn`, how many of its messages fell inside and outside the window to
        `tally` (of the day files read)."""
        previous = set[str]()
        lowest = None if since is None else datetime_to_micros(since)
        highest = None if until is None else datetime_to_micros(until)
        for rel, items in self.folder_days(folder, since, until, parser.warn):
            batch, previous = parser.parse_day(
                items,
                rel,
                channel_id=channel.id,
                channel_name=channel.name or channel.id,
                previous=previous,
            )
            del items
            if not batch:
                yield rel, batch
                continue
            batch.sort(key=_micros)  # stable: equal times keep file order
            read = len(batch)
            ends = batch[0], batch[-1]
            if lowest is not None or highest is not None:
                batch = [
                    m
                    for m in batch
                    if (lowest is None or m.micros >= lowest)
                    and (highest is None or m.micros < highest)
                ]
            if tally is not None:
                tally.see(ends[0].at, ends[1].at, inside=len(batch), outside=read - len(batch))
            yield rel, batch


def _day_may_overlap(name: str, since: datetime | None, until: datetime | None) -> bool:
    match = _DAY_FILE.match(name)
    if match is None:  # pragma: no cover - the index only holds day files
        return True
    try:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return True
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if since is not None and start + timedelta(days=3) < since:
        return False
    return not (until is not None and start - timedelta(days=2) >= until)


_micros = attrgetter("micros")


def in_window(at: datetime, since: datetime | None, until: datetime | None) -> bool:
    """Whether `at` falls in the window: `since` <= at < `until` (None: unbounded)."""
    return (since is None or at >= since) and (until is None or at < until)


DEFAULT_LIMITS = ExportLimits()


def open_export(path: Path, *, limits: ExportLimits = DEFAULT_LIMITS) -> SlackExport:
    """Open a Slack export zip or unpacked folder (use as a context manager)."""
    path = Path(path)
    if path.is_dir():
        return SlackExport(_DirSource(path, limits), limits)
    if not path.is_file():
        raise ImportFailed("no such export file or folder", where=str(path))
    return SlackExport(_ZipSource(path, limits), limits)
