"""PagerDuty adapter: real vendor examples plus hand-built log entries and hostile input."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.adapters._shared_fixtures import shared_fixture

from afteraction.adapters import pagerduty as pd
from afteraction.core.errors import ImportFailed, PermissionDenied

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def api(name: str) -> Path:
    return shared_fixture(f"pagerduty/api-schema/{name}")


def docs(name: str) -> Path:
    return shared_fixture(f"pagerduty/developer-docs/{name}")


def user(uid: str, name: str = "Someone") -> dict[str, Any]:
    return {"id": uid, "type": "user_reference", "summary": name}


def entry(ident: str, kind: str, minutes: int, **extra: Any) -> dict[str, Any]:
    base = {
        "id": ident,
        "type": f"{kind}_log_entry",
        "created_at": (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
        "incident": {"id": "PINC1", "type": "incident_reference"},
        "summary": extra.pop("summary", ""),
    }
    base.update(extra)
    return base


# --------------------------------------------------------------------------- real fixtures


def test_trigger_entry_from_the_official_example() -> None:
    pages = pd.parse_log_entries(api("incident_log_entries_list.json"))
    assert len(pages) == 1
    page = pages[0]
    assert (page.external_id, page.incident_external_id, page.kind) == (
        "Q02JTSNZWHSEKV",
        "PT4KHLK",
        "trigger",
    )
    assert page.at == datetime(2015, 11, 7, 0, 14, 20, tzinfo=UTC)
    assert page.person_key is None  # triggered by a service, not a person
    assert page.summary == "Triggered through the API"


def test_single_log_entry_body_and_paged_list_body_parse_alike() -> None:
    single = pd.parse_log_entries(api("log_entry_get.json"))
    paged = pd.parse_log_entries(api("log_entries_list.json"))
    assert single == paged


@pytest.mark.parametrize(
    ("name", "kind", "person"),
    [
        ("webhook_v2_incident_trigger.json", "trigger", "pagerduty:P553OPV"),
        ("webhook_v2_incident_acknowledge.json", "acknowledge", "pagerduty:P553OPV"),
        ("webhook_v2_incident_resolve.json", "resolve", "pagerduty:P553OPV"),
        ("webhook_v2_incident_assign.json", "assign", "pagerduty:PFBSJ2Z"),
    ],
)
def test_v2_webhook_log_entries(name: str, kind: str, person: str) -> None:
    pages = pd.parse_log_entries(docs(name))
    assert [(p.kind, p.person_key, p.incident_external_id) for p in pages] == [
        (kind, person, "PRORDTY")
    ]


def test_incident_milestones_from_incident_and_log() -> None:
    incident = pd.parse_incident(
        api("incident_get.json"), log_entries=api("incident_log_entries_list.json")
    )
    assert (incident.id, incident.number, incident.title) == (
        "PT4KHLK",
        1234,
        "The server is on fire.",
    )
    assert (incident.status, incident.urgency, incident.priority) == ("acknowledged", "high", "P2")
    assert incident.service == "My Mail Service"
    assert incident.escalation_policy == "Another Escalation Policy"
    assert incident.html_url == "https://subdomain.pagerduty.com/incidents/PT4KHLK"
    milestones = incident.milestones()
    assert milestones == {
        "detected": datetime(2015, 10, 6, 21, 30, 42, tzinfo=UTC),
        "acknowledged": datetime(2015, 11, 10, 0, 32, 52, tzinfo=UTC),  # acknowledgements[]
        "resolved": None,
    }


def test_resolved_incident_from_v2_webhook_falls_back_to_last_status_change() -> None:
    incident = pd.parse_incident(docs("webhook_v2_incident_resolve.json"))
    assert incident.id == "PRORDTY" and incident.number == 33
    assert incident.resolved_at == datetime(2017, 9, 26, 15, 18, 9, tzinfo=UTC)


def test_incident_list_item_is_accepted_as_a_bare_incident() -> None:
    body = json.loads(api("incidents_list.json").read_text())
    incident = pd.parse_incident(body["incidents"][0])
    assert incident.resolved_at == datetime(2015, 10, 6, 21, 38, 23, tzinfo=UTC)


def test_users_become_people() -> None:
    people = pd.parse_users(api("users_list.json"))
    assert [(p.key, p.name, p.email, p.time_zone, p.title) for p in people] == [
        (
            "pagerduty:PXPGF42",
            "Earline Greenholt",
            "125.greenholt.earline@graham.name",
            "America/Lima",
            "Director of Engineering",
        ),
        (
            "pagerduty:PAM4FGS",
            "Kyler Kuhn",
            "126_dvm_kyler_kuhn@beahan.name",
            "Asia/Hong_Kong",
            "Senior Engineer",
        ),
    ]
    assert pd.parse_users(api("user_get.json"))[0].key == "pagerduty:PXPGF42"


def test_notes_and_alerts() -> None:
    notes = pd.parse_notes(api("incident_notes_list.json"))
    assert [(n.id, n.author_key, n.content[:12]) for n in notes] == [
        ("PCQC25", None, "Initial aler"),  # a bot user (event rule) is not a person
        ("PWL7QXS", "pagerduty:PXPGF42", "Firefighters"),
    ]
    alerts = pd.parse_alerts(api("incident_alerts_list.json"))
    assert [(a.id, a.status, a.severity, a.service) for a in alerts] == [
        ("PT4KHLK", "resolved", "critical", "My Mail Service")
    ]
    assert alerts[0].details["customKey"] == "Server is on fire!"


def test_schedule_uses_final_schedule() -> None:
    shifts = pd.parse_schedules(
        api("schedule_get.json"),
        since=datetime(2015, 11, 1, tzinfo=UTC),
        until=datetime(2015, 12, 1, tzinfo=UTC),
    )
    assert len(shifts) == 1
    shift = shifts[0]
    assert shift.person_key == "pagerduty:PXPGF42"
    assert shift.schedule == "Daily Engineering Rotation"
    assert shift.start == datetime(2015, 11, 10, 13, 0, tzinfo=UTC)
    assert shift.end == datetime(2015, 11, 10, 22, 0, tzinfo=UTC)


def test_schedule_without_rendered_entries_warns_and_overrides_still_apply() -> None:
    warnings: list[str] = []
    shifts = pd.parse_schedules(
        api("schedules_list_with_layers.json"),
        since=datetime(2012, 7, 1, tzinfo=UTC),
        until=datetime(2012, 7, 3, tzinfo=UTC),
        overrides=api("schedule_overrides_list.json"),
        warnings=warnings,
    )
    assert [(s.person_key, s.start, s.end) for s in shifts] == [
        (
            "pagerduty:PEYSGVF",
            datetime(2012, 7, 1, 4, 0, tzinfo=UTC),
            datetime(2012, 7, 2, 4, 0, tzinfo=UTC),
        )
    ]
    assert len(warnings) == 1 and "no rendered entries" in warnings[0]


def test_oncalls_carry_escalation_level() -> None:
    shifts = pd.parse_oncalls(api("oncalls_list.json"))
    assert [(s.person_key, s.schedule, s.escalation_level) for s in shifts] == [
        ("pagerduty:PT23IWX", "Daily Engineering Rotation", 2)
    ]
    assert shifts[0].end - shifts[0].start == timedelta(days=1)


def test_webhook_v3_events() -> None:
    event = pd.parse_webhook_v3(docs("webhook_v3_incident_priority_updated.json").read_bytes())
    assert event.event_type == "incident.priority_updated"
    assert event.incident_id == "PGR0VU2"
    assert event.agent_key == "pagerduty:PLH1HKV" and event.agent_name == "Tenex Engineer"
    assert event.occurred_at == datetime(2020, 10, 2, 18, 45, 22, 169000, tzinfo=UTC)
    service = pd.parse_webhook_v3(docs("webhook_v3_service_updated.json").read_bytes())
    assert (service.resource_type, service.incident_id, service.agent_key) == (
        "service",
        None,
        None,
    )


def test_webhook_v3_data_types_name_their_incident() -> None:
    types = json.loads(docs("webhook_v3_event_data_types.json").read_text())
    body = {
        "event": {
            "id": "E1",
            "event_type": "incident.annotated",
            "resource_type": "incident",
            "occurred_at": "2020-10-02T18:45:22.169Z",
            "agent": None,
            "data": types["incident_note"],
        }
    }
    assert pd.parse_webhook_v3(body).incident_id == "PGR0VU2"


def test_webhook_signature_on_a_real_payload() -> None:
    body = docs("webhook_v3_incident_priority_updated.json").read_bytes()
    good = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    pd.verify_webhook_signature("s3cret", body, f"v1={good}")
    pd.verify_webhook_signature("s3cret", body, f"v1={'0' * 64}, v1={good}")  # rotation
    with pytest.raises(PermissionDenied):
        pd.verify_webhook_signature("other", body, f"v1={good}")
    with pytest.raises(PermissionDenied):
        pd.verify_webhook_signature("s3cret", body + b" ", f"v1={good}")
    with pytest.raises(PermissionDenied):
        pd.verify_webhook_signature("s3cret", body, f"v0={good}")
    with pytest.raises(PermissionDenied):
        pd.verify_webhook_signature("", body, f"v1={good}")


def test_fetch_incident_bundle_with_a_patched_official_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pagerduty = pytest.importorskip("pagerduty")
    client = pagerduty.RestApiV2Client("not-a-real-token")
    incident = json.loads(api("incident_get.json").read_text())["incident"]
    entries = json.loads(api("incident_log_entries_list.json").read_text())["log_entries"]
    alerts = json.loads(api("incident_alerts_list.json").read_text())["alerts"]
    notes = json.loads(api("incident_notes_list.json").read_text())["notes"]
    calls: list[tuple[str, object]] = []

    def rget(url: str, **kw: Any) -> Any:
        calls.append(("rget", url))
        return {"/incidents/PT4KHLK": incident, "/incidents/PT4KHLK/notes": notes}[url]

    def iter_all(url: str, params: Any = None, **kw: Any) -> Any:
        calls.append(("iter_all", (url, params)))
        return iter(
            {"/incidents/PT4KHLK/log_entries": entries, "/incidents/PT4KHLK/alerts": alerts}[url]
        )

    monkeypatch.setattr(client, "rget", rget)
    monkeypatch.setattr(client, "iter_all", iter_all)
    bundle = pd.fetch_incident_bundle(client, "PT4KHLK")
    assert set(bundle) == {"incident", "log_entries", "alerts", "notes"}
    assert (
        "iter_all",
        ("/incidents/PT4KHLK/log_entries", {"include[]": ["channels"], "is_overview": False}),
    ) in calls
    parsed = pd.parse_incident_bundle(bundle)
    assert parsed.incident.id == "PT4KHLK"
    assert parsed.incident.first_trigger_at == datetime(2015, 11, 7, 0, 14, 20, tzinfo=UTC)
    assert [p.kind for p in parsed.pages] == ["trigger"]
    assert len(parsed.alerts) == 1 and len(parsed.notes) == 2


# --------------------------------------------------------------------------- hand-built log


def full_log() -> dict[str, Any]:
    """A whole incident in the REST shape with `include[]=channels`, newest first."""
    entries = [
        entry("L9", "resolve", 40, agent=user("PA"), summary="Resolved by A"),
        entry("L8", "annotate", 30, agent=user("PB"), channel={"type": "note", "summary": "x"}),
        entry(
            "L7",
            "notify",
            21,
            user=user("PB"),
            channel={"type": "auto", "notification": {"type": "phone_notification"}},
        ),
        entry(
            "L6",
            "escalate",
            20,
            assignees=[user("PB")],
            channel={"type": "timeout"},
            summary="Escalated to Level 2 by timeout",
        ),
        entry("L5", "acknowledge", 12, agent=user("PA"), channel={"type": "sms"}),
        entry("L4", "notify", 6, user=user("PA"), channel={"type": "sms"}),  # legacy bare type
        entry(
            "L3",
            "notify",
            5,
            user=user("PA"),
            channel={
                "type": "auto",
                "notification": {"type": "push_notification", "address": None},
            },
        ),
        entry("L2", "assign", 1, assignees=[user("PA"), user("PC")], agent=user("PX")),
        entry("L1", "trigger", 0, agent={"id": "S1", "type": "service_reference"}),
        entry("L0", "custom_field_value_change", 41, channel={"changeset": []}),
    ]
    return {"log_entries": entries, "limit": 100, "offset": 0, "more": False}


def test_full_log_counts_people_methods_and_levels() -> None:
    warnings: list[str] = []
    pages = pd.parse_log_entries(json.dumps(full_log()), warnings=warnings)
    assert warnings == []
    assert Counter(p.kind for p in pages) == {
        "notify": 3,
        "assign": 2,  # one record per assignee
        "trigger": 1,
        "acknowledge": 1,
        "escalate": 1,
        "annotate": 1,
        "resolve": 1,
        "custom_field_value_change": 1,  # unknown to the product, kept as data
    }
    assert [p.at for p in pages] == sorted(p.at for p in pages)
    notified = [(p.person_key, p.method) for p in pages if p.kind == "notify"]
    assert notified == [
        ("pagerduty:PA", "push"),
        ("pagerduty:PA", "sms"),
        ("pagerduty:PB", "phone"),
    ]
    assigned = [(p.external_id, p.person_key) for p in pages if p.kind == "assign"]
    assert assigned == [("L2/PA", "pagerduty:PA"), ("L2/PC", "pagerduty:PC")]
    escalate = next(p for p in pages if p.kind == "escalate")
    assert (escalate.person_key, escalate.escalation_level) == ("pagerduty:PB", 2)
    assert next(p for p in pages if p.kind == "acknowledge").method is None


def test_milestones_come_from_the_log_when_given() -> None:
    incident = {
        "incident": {
            "id": "PINC1",
            "incident_number": 7,
            "title": "x",
            "status": "resolved",
            "created_at": "2024-05-01T10:00:30Z",
            "resolved_at": "2024-05-01T11:00:00Z",
        }
    }
    milestones = pd.parse_incident(incident, log_entries=full_log()).milestones()
    assert milestones == {
        "detected": T0,  # first trigger precedes created_at here
        "acknowledged": T0 + timedelta(minutes=12),
        "resolved": T0 + timedelta(minutes=40),
    }


def test_notify_without_user_is_kept_with_a_warning() -> None:
    warnings: list[str] = []
    pages = pd.parse_log_entries([entry("N1", "notify", 0)], warnings=warnings)
    assert pages[0].person_key is None
    assert warnings == ["log_entries.json: entry 1: notify entry N1 names no user"]


def test_incident_id_fallback_for_entries_without_incident() -> None:
    raw = entry("L1", "trigger", 0)
    del raw["incident"]
    assert pd.parse_log_entries([raw], incident_id="PX")[0].incident_external_id == "PX"
    with pytest.raises(ImportFailed, match="names no incident"):
        pd.parse_log_entries([raw])


# --------------------------------------------------------------------------- hostile input


def test_truncated_json_names_file_and_position(tmp_path: Path) -> None:
    path = tmp_path / "log_entries.json"
    path.write_text('{"log_entries": [{"id": "L1",')
    with pytest.raises(ImportFailed) as info:
        pd.parse_log_entries(path)
    assert info.value.where.startswith("log_entries.json: line 1 column")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ('"just a string"', "expected a list or an object"),
        ('{"log_entries": {"id": 1}}', "is not a list"),
        ('{"other": []}', "expected a list or an object"),
    ],
)
def test_wrong_top_level_type(payload: str, message: str) -> None:
    with pytest.raises(ImportFailed, match=message):
        pd.parse_log_entries(payload)


def test_bad_entries_name_their_position() -> None:
    good = entry("L1", "trigger", 0)
    with pytest.raises(ImportFailed) as info:
        pd.parse_log_entries([good, good, 42])
    assert info.value.where == "log_entries.json: entry 3"
    naive = dict(good, created_at="2024-05-01T10:00:00")
    with pytest.raises(ImportFailed, match="no time zone offset"):
        pd.parse_log_entries([naive], source="saved.json")
    with pytest.raises(ImportFailed, match="not an ISO 8601"):
        pd.parse_log_entries([dict(good, created_at="yesterday")])
    with pytest.raises(ImportFailed, match="needs string 'id' and 'type'"):
        pd.parse_log_entries([{"created_at": "2024-05-01T10:00:00Z"}])


def test_non_utf8_bytes_are_rejected_clearly() -> None:
    with pytest.raises(ImportFailed, match="not valid JSON"):
        pd.parse_log_entries(b'{"log_entries": ["\xff"]}')


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="cannot read file"):
        pd.parse_users(tmp_path / "nope.json")


def test_incident_without_incident_object() -> None:
    with pytest.raises(ImportFailed, match="expected an incident object"):
        pd.parse_incident([])
    with pytest.raises(ImportFailed, match="no id"):
        pd.parse_incident({"incident": {"title": "x"}})


def test_webhook_body_without_event() -> None:
    with pytest.raises(ImportFailed, match="'event'"):
        pd.parse_webhook_v3(b"[]")
    with pytest.raises(ImportFailed, match="missing 'event_type'"):
        pd.parse_webhook_v3({"event": {"id": "x"}})


# --------------------------------------------------------------------------- schedules


def schedule(**extra: Any) -> dict[str, Any]:
    return {"schedule": {"id": "S1", "name": "Primary", **extra}}


def rendered(uid: str, start_h: int, end_h: int) -> dict[str, Any]:
    return {
        "user": user(uid),
        "start": (T0 + timedelta(hours=start_h)).isoformat(),
        "end": (T0 + timedelta(hours=end_h)).isoformat(),
    }


def test_layers_overlay_then_overrides_then_clip() -> None:
    data = schedule(
        schedule_layers=[
            {"rendered_schedule_entries": [rendered("PA", 0, 24)]},
            {"rendered_schedule_entries": [rendered("PB", 8, 12)]},
        ],
        overrides_subschedule={"rendered_schedule_entries": [rendered("PC", 10, 11)]},
    )
    warnings: list[str] = []
    shifts = pd.parse_schedules(
        data, since=T0 + timedelta(hours=2), until=T0 + timedelta(hours=20), warnings=warnings
    )
    hours = [
        (
            s.person_key.removeprefix("pagerduty:"),
            (s.start - T0).seconds // 3600,
            (s.end - T0).seconds // 3600,
        )
        for s in shifts
    ]
    assert hours == [("PA", 2, 8), ("PB", 8, 10), ("PC", 10, 11), ("PB", 11, 12), ("PA", 12, 20)]
    assert warnings == ["schedules.json: schedule 1: layer 2 overlaps an earlier layer; it wins"]


def test_schedule_window_must_be_aware_and_ordered() -> None:
    with pytest.raises(ImportFailed, match="time zone"):
        pd.parse_schedules(schedule(), since=datetime(2024, 1, 1), until=T0)  # noqa: DTZ001
    with pytest.raises(ImportFailed, match="until must be after since"):
        pd.parse_schedules(schedule(), since=T0, until=T0)


def test_rendered_entry_without_user_is_an_error() -> None:
    data = schedule(final_schedule={"rendered_schedule_entries": [{"start": "x", "end": "y"}]})
    with pytest.raises(ImportFailed) as info:
        pd.parse_schedules(data, since=T0, until=T0 + timedelta(days=1))
    assert info.value.where == "schedules.json: schedule 1 final_schedule entry 1"


def test_permanent_oncall_is_clipped_to_the_window() -> None:
    data = [
        {
            "user": user("PP"),
            "schedule": None,
            "escalation_policy": {"id": "EP1", "summary": "Ops"},
            "escalation_level": 1,
            "start": None,
            "end": None,
        },
        {"user": None, "escalation_level": 3, "start": None, "end": None},
    ]
    warnings: list[str] = []
    shifts = pd.parse_oncalls(data, since=T0, until=T0 + timedelta(days=7), warnings=warnings)
    assert [(s.person_key, s.schedule, s.start, s.end, s.escalation_level) for s in shifts] == [
        ("pagerduty:PP", "escalation policy Ops", T0, T0 + timedelta(days=7), 1)
    ]
    assert warnings == ["oncalls.json: on-call 2: no user reference; skipped"]
    with pytest.raises(ImportFailed, match="permanent on-call needs since and until"):
        pd.parse_oncalls(data[:1])


def test_the_package_exports_its_parsers_from_one_place() -> None:
    assert set(pd.__all__) >= {
        "parse_incident",
        "parse_log_entries",
        "parse_alerts",
        "parse_notes",
        "parse_users",
        "parse_schedules",
        "parse_oncalls",
        "parse_incident_bundle",
        "fetch_incident_bundle",
        "parse_webhook_v3",
        "verify_webhook_signature",
        "read_limited",
        "load_json",
        "PERSON_PREFIX",
    }
    assert all(getattr(pd, name) is not None for name in pd.__all__)
