"""What an erased person keeps of who they were: keys that recognise them in a later import,
never a name, an email or a login.

An account id that names nobody (a Slack or PagerDuty user id) is kept as it is. Any other
value that would name them — an email, a GitHub login, a transcript speaker's name, which
is the id of a "transcript" identity — is kept only as the SHA-256 of its trimmed,
case-folded text, under the system "<system>-sha256" ("email-sha256", "github-sha256",
"transcript-sha256"): an import that meets the same value again finds the digest, and the
digest does not give the value back. No I/O here: `storage.privacy` writes the keys,
`services.imports._people` looks them up.
"""

from __future__ import annotations

import hashlib

OPAQUE_SYSTEMS = frozenset({"slack", "pagerduty"})
"""Systems whose account ids name nobody: an erased person keeps them as they are."""

EMAIL = "email"
HASHED = "-sha256"


def hashed_key(system: str, value: str) -> tuple[str, str]:
    """(system, external id) of the digest kept for `value` of `system`."""
    digest = hashlib.sha256(value.strip().casefold().encode()).hexdigest()
    return f"{system}{HASHED}", digest


def kept_key(system: str, external_id: str) -> tuple[str, str]:
    """(system, external id) an erased person keeps for their account `external_id`."""
    if system in OPAQUE_SYSTEMS or system.endswith(HASHED):
        return system, external_id
    return hashed_key(system, external_id)


def email_key(email: str) -> tuple[str, str]:
    """(system, external id) an erased person keeps for their email."""
    return hashed_key(EMAIL, email)
