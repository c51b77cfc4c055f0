"""Import fingerprints: a zip is known by what it holds, not by the timestamps in its
headers, so the same export zipped twice is recognised as already imported."""

from __future__ import annotations

import zipfile
from pathlib import Path

from afteraction.services.imports.sources import checksum_path


def _zip(path: Path, members: dict[str, str], when: tuple[int, ...]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=when), body)  # type: ignore[arg-type]
    return path


def test_same_members_zipped_at_different_times_and_orders_match(tmp_path: Path) -> None:
    members = {"users.json": "[]", "general/2026-03-02.json": '[{"ts": "1.0"}]'}
    first = _zip(tmp_path / "a.zip", members, (2026, 3, 2, 10, 0, 0))
    reordered = dict(reversed(list(members.items())))
    second = _zip(tmp_path / "b.zip", reordered, (2026, 11, 23, 13, 0, 2))
    assert first.read_bytes() != second.read_bytes()
    assert checksum_path(first) == checksum_path(second)


def test_changed_content_or_names_differ(tmp_path: Path) -> None:
    when = (2026, 3, 2, 10, 0, 0)
    base = checksum_path(_zip(tmp_path / "a.zip", {"c/1.json": "[1]"}, when))
    assert checksum_path(_zip(tmp_path / "b.zip", {"c/1.json": "[2]"}, when)) != base
    assert checksum_path(_zip(tmp_path / "c.zip", {"d/1.json": "[1]"}, when)) != base


def test_files_folders_and_broken_zips_hash_their_bytes(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    (folder / "c").mkdir(parents=True)
    (folder / "c" / "1.json").write_text("[1]")
    loose = tmp_path / "1.json"
    loose.write_text("[1]")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x05\x06" + b"\0" * 18 + b"not really")
    before = checksum_path(folder)
    assert len({before, checksum_path(loose), checksum_path(broken)}) == 3
    (folder / "c" / "1.json").write_text("[2]")
    assert checksum_path(folder) != before
