"""Locate the shared real-data fixtures (`<repo>/../shared/fixtures`) and this folder's data."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_FIXTURES = REPO_ROOT / ".." / "shared" / "fixtures"
DATA = Path(__file__).resolve().parent / "data"


def shared_fixture(relative: str) -> Path:
    """Path of a shared fixture file; skip the test when the shared folder is absent."""
    path = SHARED_FIXTURES / relative
    if not path.exists():
        pytest.skip(f"shared fixture {relative} not found under {SHARED_FIXTURES}")
    return path
