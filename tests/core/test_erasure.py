"""The keys an erased person keeps (`core.erasure`): account ids that name nobody as they
are, anything that would name them only as a digest of its trimmed, case-folded text."""

from __future__ import annotations

import hashlib

from afteraction.core.erasure import email_key, hashed_key, kept_key


def test_opaque_ids_are_kept_and_names_become_digests() -> None:
    assert kept_key("slack", "U123") == ("slack", "U123")
    assert kept_key("pagerduty", "PABC1") == ("pagerduty", "PABC1")
    system, digest = kept_key("transcript", "Ben Cho")
    assert system == "transcript-sha256"
    assert digest == hashlib.sha256(b"ben cho").hexdigest() and "Ben" not in digest
    assert kept_key("transcript", "  BEN CHO ") == (system, digest)
    assert kept_key(system, digest) == (system, digest)  # a digest is kept as it is
    assert kept_key("github", "bcho")[0] == "github-sha256"


def test_an_email_is_kept_as_a_digest_whatever_its_case() -> None:
    assert email_key("Ben.Cho@Corp.example") == email_key("ben.cho@corp.example ")
    assert email_key("ben@x.org") == hashed_key("email", "ben@x.org")
    assert email_key("ben@x.org") != email_key("ana@x.org")
