"""Rules for files that people open in other programs.

A spreadsheet runs a CSV cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage
return before one) as a formula: an incident title such as `=HYPERLINK("https://evil",
"x")` would become a link, or a command on some spreadsheets. Every text cell afteraction
writes to CSV goes through `spreadsheet_text`, which puts a `'` before such a cell, as the
OWASP CSV-injection guidance says; numbers stay numbers.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: str) -> str:
    """`value`, read as text by a spreadsheet: quoted with `'` when it would be a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
