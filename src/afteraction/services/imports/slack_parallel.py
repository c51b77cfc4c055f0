"""Read a large Slack export in parser processes while this process writes what they make.

On SQLite a million-message export costs several seconds of Python to parse (the one
parser, `adapters.slack_messages`) and make into bound rows (`bound_rows.BoundRows`, the
bound-row sink's), several more to bind those rows into SQLite,
and about as much again of SQLite work to store and index them. Here up to `MAX_PARSERS`
parser processes each read a share of the channel folders (the largest first, to the least
loaded), bind the rows they make into staged SQLite files of their own
(`bound_rows.StageFile`) and hand each file over; this process only copies the rows in
(`INSERT ... SELECT`, `messages.insert_staged`), indexes their text when it would otherwise
wait, and builds the author index at the end (the indexes the load only extends are kept
in step, see `messages.expect_rows`), so that reading and binding overlap writing.

Lives here: the decision (`parser_count`), the parser process (`_parse`, `_Stager`) and
the loop that writes what the parsers hand over (`parse_elsewhere`). Does not live here:
parsing (adapters), which messages are new (`slack_intake`), what a row holds
(`storage.bound_rows`), writes (`storage.message_sinks`).

Decisions:
- Only on SQLite (PostgreSQL's inserts take another path), only for exports whose chosen
  day files hold `PARALLEL_MIN_BYTES` or more, with two or more usable CPUs, and only when
  none of the chosen channels holds messages yet, so that a parser never needs to know
  which messages the database already has (an overlapping export is read in process,
  where each channel's stored messages are loaded first).
- The result is the one reading in process gives: the same rows, counts, channel events
  and references, and the same warnings in the same order (each folder's warnings are
  sent with it and added in folder order). Only ids differ: the channels interleave.
- The database is written by this process alone, inside the caller's transaction: a
  parser never opens it. A parser's error stops the others and is raised here; a parser
  that dies, or is silent for `PARSER_SILENCE_S`, is an `ImportFailed`. If this process is
  killed the parsers find their pipe closed at their next progress frame, delete their
  staged files and exit, and the transaction was never committed.
- Staged files, not rows on the pipe: binding from Python was the largest part of this
  process's work, and a copy between SQLite files costs about half of it; the parsers pay
  for the binding beside this process. A staged file is attached for the rest of the
  transaction (SQLite cannot detach a file a transaction has read; `db` detaches it when
  the connection goes back to the pool), so a parse uses at most `MAX_STAGES` of them, and
  each file is deleted as soon as it is copied (its open handle keeps it readable).
- The files shrink as a parser goes (`_Stager`): what is left to copy and index once the
  parsers are done, with nothing running beside this process, is the last and smallest.
- Parsers are plain child processes (`python -m afteraction.services.imports.slack_parallel`,
  the job pickled on stdin, frames on stdout), not `multiprocessing`: the caller's main
  module is never imported again, nothing is forked from a threaded web process.
- Parsers run at a lower priority than this process (`PARSER_NICENESS`): this process
  is the one every row waits for, and the parsers stage ahead of it; on a machine that
  also serves the web app, an import's parsing yields to requests too.
- Two parsers, not one: on two CPUs they took about as long as one on an export of plain
  texts, and a fifth less when messages carry rich_text blocks (more to parse); measured
  when rows still travelled on the pipe.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import selectors
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from afteraction.adapters.references import CountedReference, ReferenceCounter
from afteraction.adapters.slack_export import SlackExport, open_export
from afteraction.adapters.slack_messages import WarningLog
from afteraction.adapters.slack_records import (
    ExportLimits,
    ImportWarning,
    ParsedMessage,
    SlackChannel,
)
from afteraction.core.errors import AfteractionError, ImportFailed
from afteraction.core.import_window import ChannelTally
from afteraction.services.imports._collection import BULK_THRESHOLD
from afteraction.services.imports.slack_intake import MessageIntake
from afteraction.services.imports.stage_dirs import make_stage_dir, sweep_stage_dirs
from afteraction.storage import bound_rows

if TYPE_CHECKING:
    from afteraction.services.imports.slack import SlackWriter

MiB = 1024 * 1024
PARALLEL_MIN_BYTES = 16 * MiB  # about 90,000 usual messages
MAX_PARSERS = 2
BATCH = bound_rows.BATCH
# While the parsers are busy and nothing has arrived, index the text of this many rows.
INDEX_WHILE_WAITING = 100_000
# A parser reports after every day file it reads (a 100 MB day file takes seconds), so a
# parser that sends nothing for this long is stuck: the import fails instead of waiting
# for ever, and the stuck process is killed with the others.
PARSER_SILENCE_S = 600.0

# How much a parser lowers its own scheduling priority (POSIX `nice`): while the writer has
# a staged file to copy or text to index it runs first, and the parsers, which are ahead,
# take the rest. A million messages on two CPUs (medians): 13.9 s at niceness 10 (five
# runs) and 14.0 s at 19 (nine) against 14.5 s without (nine), within the noise of this
# machine; 10 leaves the parsers a fair share beside other busy processes (a web
# server's, say), which is the point of it.
PARSER_NICENESS = 10

# Staged files a parse may hand over in all (each stays attached until the transaction
# ends, and Debian's SQLite, like the default build, attaches at most ten).
MAX_STAGES = 8
# A large load drops its secondary indexes before its first row when the chosen day files
# hold at least this many bytes per row the table already has (see `messages.expect_rows`);
# a message takes about 200 bytes of export as plain text and 1 KB or more with blocks.
BYTES_PER_ROW_AT_MOST = 1000

_STAGED, _READ, _FOLDER, _DONE, _ERROR = b"S", b"R", b"F", b"D", b"E"
_HEADER = struct.Struct(">I")  # a frame: its length, then one kind byte and the body


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def parser_count(
    writer: SlackWriter,
    export: SlackExport,
    chosen: Sequence[tuple[str, SlackChannel]],
    requested: int | None,
) -> int:
    """How many parser processes to read `chosen` with; 0: read them in this process.
    `requested` None decides by size and CPUs; a number asks for that many (tests), still
    only where the result is sure to be the same."""
    if requested == 0 or len(chosen) < 1 or not sys.executable:
        return 0
    if writer.session.get_bind().dialect.name != "sqlite":
        return 0
    ids = [channel.id for _, channel in chosen]
    if len(set(ids)) != len(ids) or writer.holds_messages(ids):
        return 0
    stages = min(MAX_STAGES, writer.attach_capacity())
    if requested is not None:
        return max(0, min(requested, len(chosen), stages))
    if usable_cpus() < 2:
        return 0
    if sum(export.day_bytes(folder) for folder, _ in chosen) < PARALLEL_MIN_BYTES:
        return 0
    return min(MAX_PARSERS, len(chosen), stages)


@dataclass(frozen=True, slots=True)
class ParserJob:
    """What one parser process reads and what it needs to make rows."""

    path: str
    limits: ExportLimits
    folders: list[tuple[str, SlackChannel]]
    since: datetime | None
    until: datetime | None
    source_id: int
    person_of: dict[str, int]
    labels: dict[str, str]
    bot_users: set[str]
    references: bool
    stage_dir: str  # where it writes its staged files
    name: str  # of its staged files: `<name>-<n>.sqlite`
    stages: int  # how many staged files it may write at most
    share_bytes: int  # how many bytes its folders' day files hold


@dataclass(slots=True)
class _FolderEnd:
    warnings: list[ImportWarning]
    warning_count: int
    events: dict[str, dict[str, tuple[datetime, str]]]
    references: list[CountedReference] | None
    tally: ChannelTally | None  # its messages inside and outside the window


# One staged file's contents, in order: (Slack channel id, channel name, (first, last)
# staged row number, changed messages, how many already present).
StagedItem = tuple[str, str, tuple[int, int], list[ParsedMessage], int]


@dataclass(slots=True)
class _Parser:
    process: subprocess.Popen[bytes]
    folders: list[str]
    done: bool = False


def parse_elsewhere(
    writer: SlackWriter,
    export: SlackExport,
    path: Path,
    chosen: Sequence[tuple[str, SlackChannel]],
    window: tuple[datetime | None, datetime | None],
    parsers: int,
) -> None:
    """Write the messages of `chosen` as `writer.add_messages` would, read by `parsers`
    processes (see the module docstring)."""
    running: list[_Parser] = []
    ends: dict[str, _FolderEnd] = {}
    sweep_stage_dirs()  # what an import killed before this one left
    stage_dir = str(make_stage_dir())
    sizes = {folder: export.day_bytes(folder) for folder, _ in chosen}
    try:
        shares = _shares(sizes, chosen, parsers)
        stages = min(MAX_STAGES, writer.attach_capacity()) // len(shares)
        for number, share in enumerate(shares, start=1):
            job = ParserJob(
                path=str(Path(path).resolve()),
                limits=export.limits,
                folders=share,
                since=window[0],
                until=window[1],
                source_id=writer.source_id,
                person_of=writer.person_of,
                labels=writer.labels,
                bot_users=writer.bot_users,
                references=writer.references is not None,
                stage_dir=stage_dir,
                name=f"parser{number}",
                stages=stages,
                share_bytes=sum(sizes[folder] for folder, _ in share),
            )
            running.append(_start(job))
        writer.start_loading()
        writer.expect_rows(sum(sizes.values()) // BYTES_PER_ROW_AT_MOST)
        _write(writer, running, ends)
    finally:
        for parser in running:
            if parser.process.poll() is None:
                parser.process.kill()
            parser.process.wait()
            for stream in (parser.process.stdin, parser.process.stdout):
                if stream is not None:
                    stream.close()
        shutil.rmtree(stage_dir, ignore_errors=True)
    for folder, channel in chosen:
        end = ends[folder]
        export.add_warnings(end.warnings, end.warning_count)
        writer.events.update(end.events)
        writer.see_tally(channel.id, end.tally)
        if end.references is not None and writer.references is not None:
            writer.references.add_counted(end.references)


def _start(job: ParserJob) -> _Parser:
    """A parser process (`python -m afteraction.services.imports.slack_parallel`): its job goes in
    on stdin, frames come out on stdout. A plain child process, not `multiprocessing`: the
    caller's main module is never imported again and nothing of this process is forked."""
    package_root = str(Path(__file__).resolve().parents[3])  # the folder holding afteraction/
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (package_root, env.get("PYTHONPATH"))))
    process = subprocess.Popen(
        [sys.executable, "-m", "afteraction.services.imports.slack_parallel"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        bufsize=0,
        env=env,
    )
    assert process.stdin is not None
    try:
        process.stdin.write(pickle.dumps(job))
        process.stdin.close()
    except BrokenPipeError:  # it died at once; `_write` reports how
        pass
    return _Parser(process, [folder for folder, _ in job.folders])


def _shares(
    sizes: dict[str, int], chosen: Sequence[tuple[str, SlackChannel]], parsers: int
) -> list[list[tuple[str, SlackChannel]]]:
    """The folders split between the parsers by the bytes of their day files (`sizes`):
    the largest first, each to the least loaded; each share in folder order."""
    loads = [0] * parsers
    owner: dict[str, int] = {}
    for folder in sorted(sizes, key=lambda f: (-sizes[f], f)):
        least = loads.index(min(loads))
        owner[folder] = least
        loads[least] += sizes[folder]
    shares: list[list[tuple[str, SlackChannel]]] = [[] for _ in range(parsers)]
    for folder, channel in chosen:
        shares[owner[folder]].append((folder, channel))
    return [share for share in shares if share]


def _write(writer: SlackWriter, running: list[_Parser], ends: dict[str, _FolderEnd]) -> None:
    """Write what the parsers send until every one is done."""
    waiting = 0  # rows inserted and not yet indexed
    with selectors.DefaultSelector() as selector:
        for parser in running:
            selector.register(_out(parser), selectors.EVENT_READ, parser)
        while not all(p.done for p in running):
            ready = selector.select(timeout=0)
            if not ready:
                if waiting >= INDEX_WHILE_WAITING:
                    writer.index_loaded()
                    waiting = 0
                ready = selector.select(timeout=PARSER_SILENCE_S)
                if not ready:
                    raise ImportFailed(
                        f"no parser process sent anything for {PARSER_SILENCE_S:g} s: "
                        "stopped waiting for a parser that is stuck",
                        where=", ".join(f for p in running if not p.done for f in p.folders),
                    )
            for key, _ in ready:
                parser = key.data
                kind, body = _receive(parser)
                if kind == _READ:
                    continue
                if kind == _STAGED:
                    path, items = pickle.loads(body)
                    waiting += writer.take_staged(path, items)
                elif kind == _FOLDER:
                    folder, end = pickle.loads(body)
                    ends[folder] = end
                elif kind == _DONE:
                    parser.done = True
                    selector.unregister(key.fileobj)
                else:
                    raise pickle.loads(body)


def _out(parser: _Parser) -> IO[bytes]:
    assert parser.process.stdout is not None
    return parser.process.stdout


def _receive(parser: _Parser) -> tuple[bytes, bytes]:
    """The next frame of a parser: (kind, body)."""
    stream = _out(parser)
    header = _read_exactly(stream, _HEADER.size)
    if header is not None:
        (size,) = _HEADER.unpack(header)
        frame = _read_exactly(stream, size)
        if frame is not None:
            return frame[:1], frame[1:]
    code = parser.process.wait()
    raise ImportFailed(
        f"a parser process stopped before it finished (exit code {code})",
        where=", ".join(parser.folders),
    )


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    """`size` bytes, or None at the end of the stream."""
    parts: list[bytes] = []
    missing = size
    while missing:
        part = stream.read(missing)
        if not part:
            return None
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


def _parse(job: ParserJob, out: BinaryIO) -> None:
    """A parser process: read `job.folders`, stage the rows they make in files and hand
    each file over with what goes with its rows (see `_Stager`), then each folder's end."""

    first, second, third = gc.get_threshold()
    gc.set_threshold(max(first, BULK_THRESHOLD), second, third)

    def send(frame: bytes) -> None:
        out.write(_HEADER.pack(len(frame)))
        out.write(frame)
        out.flush()

    where = job.path
    stager = _Stager(job, send)
    rows = bound_rows.BoundRows(
        job.source_id, bound_rows.Authors(job.person_of, job.labels, job.bot_users)
    )
    try:
        with open_export(Path(job.path), limits=job.limits) as export:
            parser = export.message_parser()
            read = 0  # bytes of day files read
            for folder, channel in job.folders:
                where = folder
                log = WarningLog(job.limits.max_warnings_listed)
                parser.warn = log
                counter = ReferenceCounter() if job.references else None
                intake = MessageIntake(counter)
                name = channel.name or channel.id
                tally = ChannelTally(name)
                pending: list[ParsedMessage] = []
                days = export.folder_days_parsed(
                    parser, folder, channel, job.since, job.until, tally
                )
                for rel, batch in days:
                    read += export.day_size(rel)
                    pending += intake.take(batch)
                    if len(pending) >= BATCH:
                        stager.add(channel.id, name, rows.rows(0, pending), *intake.hand_over())
                        pending = []
                    stager.read(read)
                stager.add(channel.id, name, rows.rows(0, pending), *intake.hand_over())
                end = _FolderEnd(
                    log.items,
                    log.count,
                    intake.events,
                    None if counter is None else counter.results(),
                    tally,
                )
                send(_FOLDER + pickle.dumps((folder, end)))
        stager.hand_over()
        send(_DONE)
    except (BrokenPipeError, ConnectionResetError):  # the writer is gone: nothing to tell
        stager.discard()
        return
    except ImportFailed as error:
        _send_error(send, error)
    except AfteractionError as error:
        _send_error(send, ImportFailed(str(error), where=where))
    except Exception as error:  # anything else, named, instead of a silent exit
        # the text may name the stage folder: it goes to the log (this process's stderr),
        # the import says only where reading stopped
        logging.getLogger(__name__).error("slack parser: %s: %r", where, error)
        _send_error(send, ImportFailed(f"could not read ({type(error).__name__})", where=where))
    finally:
        stager.close()


class _Stager:
    """A parser's staged files: rows go into the open file (`bound_rows.StageFile`) and what
    goes with them (channel, row numbers, then changed messages and the count already
    present, in the order they were read) into its list; a hand-over closes the file
    and sends its path with the list, which the writer applies in order. The files shrink
    (of `job.stages` files the n-th holds about `stages + 1 - n` parts of the day files'
    bytes): what the writer still has to copy and index once the parsers are done, and
    nothing else runs beside it, is the last file, which is the smallest."""

    def __init__(self, job: ParserJob, send: Callable[[bytes], None]) -> None:
        self.job, self.send = job, send
        self.file: bound_rows.StageFile | None = None
        self.items: list[StagedItem] = []
        self.handed = 0  # files handed over
        self.paths: list[Path] = []

    def add(
        self,
        external_id: str,
        name: str,
        rows: list[list[Any]],
        changes: list[ParsedMessage],
        present: int,
    ) -> None:
        """Stage a channel's new rows (made by `BoundRows`, channel id 0: the copy puts it
        in), then what goes with them."""
        if rows:
            if self.file is None:
                path = Path(self.job.stage_dir) / f"{self.job.name}-{self.handed + 1}.sqlite"
                self.paths.append(path)
                self.file = bound_rows.StageFile(path)
            self.items.append((external_id, name, self.file.add(rows), [], 0))
        if changes or present:
            self.items.append((external_id, name, (1, 0), changes, present))

    def read(self, done: int) -> None:
        """Tell the writer that more was read (which also finds a writer that is gone), and
        hand the file over once it holds its share."""
        self.send(_READ)
        stages, share = self.job.stages, self.job.share_bytes
        if self.file is None or self.handed + 1 >= stages:
            return
        # the files so far hold stages + (stages - 1) + ... + (stages - handed) parts of
        # the share, of stages * (stages + 1) / 2 parts in all
        upto = self.handed + 1
        parts = upto * stages - upto * (upto - 1) // 2
        if done * stages * (stages + 1) >= share * parts * 2:
            self.hand_over()

    def hand_over(self) -> None:
        path = None
        if self.file is not None:
            self.file.close()
            path = str(self.file.path)
            self.file = None
            self.handed += 1
        if self.items:
            self.send(_STAGED + pickle.dumps((path, self.items)))
        self.items = []

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def discard(self) -> None:
        """The writer is gone: remove what it did not take."""
        self.close()
        for path in self.paths:
            with contextlib.suppress(OSError):
                path.unlink()
        with contextlib.suppress(OSError):  # the last parser out removes the folder
            Path(self.job.stage_dir).rmdir()


def _send_error(send: Callable[[bytes], None], error: ImportFailed) -> None:
    try:
        send(_ERROR + pickle.dumps(error))
    except (BrokenPipeError, ConnectionResetError):  # pragma: no cover - writer gone
        pass


def main() -> None:
    """A parser process's start: its job from stdin, its frames to stdout."""
    lower_priority()
    job = pickle.loads(sys.stdin.buffer.read())
    _parse(job, sys.stdout.buffer)


def lower_priority() -> None:
    """Lower this process's scheduling priority by `PARSER_NICENESS` (where the system has
    `nice`); a process can lower its own priority without any privilege."""
    if hasattr(os, "nice"):
        os.nice(PARSER_NICENESS)


if __name__ == "__main__":
    # Run by its importable name, so that what it pickles names this module, not __main__.
    from afteraction.services.imports.slack_parallel import main as parser_main

    parser_main()
