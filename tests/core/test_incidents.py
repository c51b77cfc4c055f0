"""Lifecycle, milestone and vocabulary rules: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from afteraction.core import incidents as rules
from afteraction.core.access import (
    SYSTEM,
    Actor,
    check_role,
    require_admin,
    require_analysis,
    require_write,
)
from afteraction.core.errors import (
    Conflict,
    ImportFailed,
    InvalidTransition,
    MilestoneOrderError,
    NotFound,
    PermissionDenied,
    ValidationError,
)

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_default_lifecycle_allows_and_refuses() -> None:
    lifecycle = rules.DEFAULT_LIFECYCLE
    lifecycle.check("triage", "investigating")
    lifecycle.check("resolved", "resolved")  # staying put is always fine
    with pytest.raises(InvalidTransition) as caught:
        lifecycle.check("triage", "closed")
    assert caught.value.details["allowed"] == list(lifecycle.allowed_from("triage"))
    assert caught.value.field == "status"
    with pytest.raises(ValidationError, match="unknown status"):
        lifecycle.check("triage", "exploded")
    assert lifecycle.allowed_from("merged") == ()
    assert set(lifecycle.statuses) >= {"triage", "closed", "declined", "merged"}
    assert rules.milestone_for_status(lifecycle, "resolved") == "resolved"
    assert rules.milestone_for_status(lifecycle, "triage") is None


def test_every_status_can_reach_a_terminal_state() -> None:
    lifecycle = rules.DEFAULT_LIFECYCLE
    for status in lifecycle.statuses:
        seen, frontier = {status}, [status]
        while frontier:
            for target in lifecycle.allowed_from(frontier.pop()):
                if target not in seen:
                    seen.add(target)
                    frontier.append(target)
        assert seen & lifecycle.terminal, status


def test_severity_lookup_is_case_insensitive() -> None:
    assert rules.severity_by_name(" sev1 ").rank == 1
    with pytest.raises(ValidationError) as caught:
        rules.severity_by_name("SEV9")
    assert caught.value.field == "severity"


def test_choices_and_aware_times() -> None:
    assert rules.check_choice("gameday", rules.INCIDENT_TYPES, field_name="type") == "gameday"
    with pytest.raises(ValidationError, match="unknown type"):
        rules.check_choice("party", rules.INCIDENT_TYPES, field_name="type")
    with pytest.raises(ValidationError, match="time zone offset"):
        rules.require_aware(datetime(2026, 1, 1), field_name="started")  # noqa: DTZ001
    offset = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert rules.require_aware(offset, field_name="started") is offset


def test_milestone_order() -> None:
    ordered = {
        "started": T0,
        "detected": T0 + timedelta(minutes=5),
        "resolved": T0 + timedelta(hours=1),
        "closed": None,
    }
    assert rules.check_milestones(ordered) == []
    backwards = {"started": T0, "resolved": T0 - timedelta(minutes=1)}
    with pytest.raises(MilestoneOrderError) as caught:
        rules.check_milestones(backwards)
    assert "resolved" in caught.value.problems[0]
    warnings = rules.check_milestones(backwards, allow_out_of_order=True)
    assert len(warnings) == 1
    # declared late (after acknowledgement) is normal, not an error
    late = {
        "started": T0,
        "acknowledged": T0 + timedelta(minutes=1),
        "declared": T0 + timedelta(minutes=30),
    }
    assert rules.check_milestones(late) == []
    with pytest.raises(ValidationError, match="unknown milestone"):
        rules.check_milestones({"exploded": T0})
    with pytest.raises(ValidationError, match="offset"):
        rules.check_milestones({"started": datetime(2026, 1, 1)})  # noqa: DTZ001


def test_public_ids() -> None:
    assert rules.format_public_id(42) == "INC-42"
    assert rules.parse_public_id("inc-42") == 42
    assert rules.parse_public_id(" 7 ") == 7
    for bad in ("INC-", "INC-x", "42a", ""):
        with pytest.raises(ValidationError):
            rules.parse_public_id(bad)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (None, "—"),
        (timedelta(seconds=42), "42s"),
        (timedelta(minutes=5, seconds=3), "5m 03s"),
        (timedelta(hours=2, minutes=5), "2h 05m"),
        (timedelta(days=3, hours=4, minutes=9), "3d 4h"),
        (timedelta(minutes=-5), "-5m 00s"),
    ],
)
def test_format_duration(delta: timedelta | None, text: str) -> None:
    assert rules.format_duration(delta) == text


def test_access_rules() -> None:
    viewer = Actor(user_id=3, label="v@example.com", role="viewer")
    responder = Actor(user_id=4, label="r@example.com", role="responder")
    with pytest.raises(PermissionDenied):
        require_write(viewer)
    require_write(responder)
    with pytest.raises(PermissionDenied):
        require_analysis(responder)
    require_analysis(Actor(user_id=5, label="i", role="investigator"))
    with pytest.raises(PermissionDenied):
        require_admin(responder)
    require_admin(SYSTEM)
    assert SYSTEM.is_admin and not viewer.is_admin
    assert check_role("viewer") == "viewer"
    with pytest.raises(ValidationError):
        check_role("king")


def test_error_tree_carries_data() -> None:
    missing = NotFound("incident", "INC-9")
    assert missing.details == {"kind": "incident", "key": "INC-9"} and missing.code == "not_found"
    failed = ImportFailed("truncated JSON", where="general/2026-01-01.json: byte 120")
    assert str(failed).startswith("general/2026-01-01.json: byte 120")
    assert failed.details["where"] == failed.where
    assert Conflict("x").code == "conflict"
    assert ValidationError("bad").details == {}
