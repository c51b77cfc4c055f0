"""Fixtures shared by the adapter tests: the location of the real sample data."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures"


@pytest.fixture
def shared_fixtures() -> Path:
    """`<repo>/../shared/fixtures`, or skip when the real sample data is not checked out."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"real sample data not found at {SHARED_FIXTURES.resolve()}")
    return SHARED_FIXTURES.resolve()
