"""The language findings the editor can fix by accepting a literal rewrite, and the ones
that need the writer to rephrase."""

from __future__ import annotations

import pytest

from afteraction.core.analysis.language import check_text
from afteraction.core.analysis.rewrites import rewrite


@pytest.mark.parametrize(
    ("text", "found", "new"),
    [
        ("The post-mortem is due.", "post-mortem", "learning review"),
        ("Post-mortems help.", "Post-mortems", "Learning reviews"),
        ("The RCA is done.", "RCA", "learning review"),
        ("We list the root causes.", "root causes", "contributing factors"),
        ("Obviously the cache was cold.", "Obviously", ""),
        ("Just restart the pods.", "Just restart", "Restart"),
        ("The operator made a mistake.", "made a mistake", None),
    ],
)
def test_rewrites(text: str, found: str, new: str | None) -> None:
    (finding,) = check_text(text)
    assert finding.text == found
    assert rewrite(finding.rule, finding.text) == new
