"""CSV cells a spreadsheet would run as formulas are written as text (issue 17, point 10)."""

from __future__ import annotations

import pytest

from afteraction.core.exports import spreadsheet_text
from afteraction.web.insights import to_csv


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("https://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
             "\t=1", "\r=1"],
)  # fmt: skip
def test_formula_cells_become_text(cell: str) -> None:
    assert spreadsheet_text(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Checkout latency", "", "a=b", "INC-12", "1.5"])
def test_plain_text_is_unchanged(cell: str) -> None:
    assert spreadsheet_text(cell) == cell


def test_csv_export_neutralises_text_but_keeps_numbers() -> None:
    out = to_csv(
        [{"title": "=cmd|' /C calc'!A0", "team": ["@ops", "x"], "delta": -3, "rate": -0.5}]
    )
    assert out == "title,team,delta,rate\n'=cmd|' /C calc'!A0,'@ops x,-3,-0.5\n"
