"""Temporary folders in which an import's parser processes stage rows
(`slack_parallel.parse_elsewhere`), and the sweep of those a killed import left behind.

A folder is named after the process that made it (`afteraction-import-<pid>-…` in the
system's temporary folder). The import deletes it when it ends, however it ends, unless
its process is killed; the next import, web process or worker to start (and the minutely
stale-job check) deletes every such folder whose process is gone. Staged files can hold
a whole export's messages, so they are not left for the system to clear some day.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

PREFIX = "afteraction-import-"
_NAMED = re.compile(re.escape(PREFIX) + r"(\d+)-")
log = logging.getLogger(__name__)


def make_stage_dir(root: Path | None = None) -> Path:
    """A new, empty stage folder owned by this process."""
    where = None if root is None else str(root)
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=where))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: is there such a process (no signal is sent)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user has that number
        return True
    return True


def sweep_stage_dirs(root: Path | None = None) -> list[Path]:
    """Delete the stage folders whose process is gone; returns them. Never raises: a folder
    that cannot be deleted now is tried again next time."""
    folder = Path(tempfile.gettempdir() if root is None else root)
    removed: list[Path] = []
    try:
        candidates = sorted(folder.glob(f"{PREFIX}*"))
    except OSError:
        return removed
    for path in candidates:
        named = _NAMED.match(path.name)
        if named is None or not path.is_dir() or _alive(int(named.group(1))):
            continue
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            removed.append(path)
    if removed:
        log.warning("deleted %d stage folder(s) of stopped imports", len(removed))
    return removed
