"""The rules a new password must follow: at least `MIN_PASSWORD` characters and not one of
the most common passwords (the list shipped in `core/data/common-passwords.txt`).

The rules apply to passwords being set; a stored password that predates them still works.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from afteraction.core.errors import ValidationError

MIN_PASSWORD = 12
MAX_PASSWORD = 1000
_TRAILING = "0123456789!@#$%^&*?.,-_+=~ "


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    text = resources.files("afteraction.core").joinpath("data/common-passwords.txt")
    lines = text.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def is_common(password: str) -> bool:
    """A common password, ignoring case, also with digits and symbols tacked on the end
    ("Sunshine2024!" is "sunshine" with a suffix)."""
    lowered = password.strip().lower()
    common = common_passwords()
    return lowered in common or lowered.rstrip(_TRAILING) in common


def check_new_password(password: str) -> str:
    """The password if it may be set; raises ValidationError (field `password`) saying why not."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"passwords need at least {MIN_PASSWORD} characters", field="password"
        )
    if len(password) > MAX_PASSWORD:
        raise ValidationError(
            f"passwords may have at most {MAX_PASSWORD} characters", field="password"
        )
    if is_common(password):
        raise ValidationError(
            "that password is one of the most common ones and easy to guess; choose another",
            field="password",
        )
    return password
