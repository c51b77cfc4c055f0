"""Suggested timeline events: page firsts, arrivals, keyword rules, silences, stable keys."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest

from afteraction.core.analysis.suggestions import (
    KEYWORD_RULES,
    SuggestedEvent,
    clock,
    render_chat_text,
    shorten,
    suggest_timeline,
)
from afteraction.core.evidence import EvidenceBundle, PersonRecord

from .test_people import at, msg, scenario


def by_kind(events: list[SuggestedEvent], kind: str) -> list[SuggestedEvent]:
    """The suggestions a rule of `kind` made: as their own kind or merged into another
    suggestion of the same message (one message is one suggestion)."""
    return [e for e in events if any(key.split(":", 1)[0] == kind for key in e.keys)]


@pytest.fixture(scope="module")
def events() -> list[SuggestedEvent]:
    bundle, context = scenario()
    return suggest_timeline(bundle, context)


def test_firsts_from_pages_and_chat(events: list[SuggestedEvent]) -> None:
    (alert,) = by_kind(events, "first_alert")
    assert alert.at == at(9, 59)
    assert alert.evidence == (("page", "P0"),)
    assert alert.text == "First alert: Error rate above 5% on payments-api"
    (first_page,) = by_kind(events, "first_page")
    assert (first_page.at, first_page.person_key) == (at(10, 2), "u:cmd")
    assert first_page.text == "First page (Casey)"
    (ack,) = by_kind(events, "first_acknowledgement")
    assert ack.at == at(10, 4)
    (first_human,) = by_kind(events, "first_human_message")
    assert first_human.at == at(10, 5)  # the bot alert at 09:58 is not a person
    assert first_human.text.startswith("First message from a person: Casey wrote")


def test_each_new_person_joining(events: list[SuggestedEvent]) -> None:
    joined = {e.person_key: e for e in by_kind(events, "person_joined")}
    assert list(joined) == ["u:cmd", "u:ana", "u:fay", "u:max", "u:olga", "u:nils"]
    assert joined["u:cmd"].text == "Casey was paged (escalation level 1)"
    assert joined["u:ana"].text == "Ana was added to the channel by Casey"
    assert joined["u:fay"].text == "Fay joined the channel"
    assert joined["u:max"].text == "Max was mentioned by Casey"
    assert joined["u:nils"].text == "Nils first appeared"
    assert joined["u:nils"].evidence == (("person", "u:nils"),)
    assert joined["u:ana"].evidence[0][0] == "message"
    assert joined["u:ana"].key == "person_joined:u:ana"


def test_keyword_events(events: list[SuggestedEvent]) -> None:
    kinds_at = {(key.split(":", 1)[0], e.at) for e in events for key in e.keys}
    assert ("severity_change", at(10, 5)) in kinds_at
    assert ("deploy", at(10, 22)) in kinds_at
    assert ("change", at(10, 22)) in kinds_at
    assert ("rollback", at(10, 35)) in kinds_at
    assert ("stakeholder_update", at(10, 50)) in kinds_at
    assert ("status_change", at(11, 20)) in kinds_at
    (severity,) = by_kind(events, "severity_change")
    assert severity.text == (  # the first message from a person too: one suggestion
        "First message from a person: Casey wrote \u201cLooking at payments-api, error rate is "
        "climbing. Upgrading to SEV1\u201d (also: severity change)"
    )
    assert severity.evidence == (("message", "C1", f"{at(10, 5).timestamp():.6f}"),)
    (deploy,) = [e for e in by_kind(events, "deploy") if e.at == at(10, 22)]
    assert deploy.kind == "deploy" and deploy.text.startswith("Deploy, change: ")
    assert deploy.aliases == (deploy.key.replace("deploy:", "change:", 1),)


def test_one_message_is_one_suggestion(events: list[SuggestedEvent]) -> None:
    cited = [e.evidence[0] for e in events if len(e.evidence) == 1]
    messages = [c for c in cited if c[0] == "message"]
    assert len(messages) == len(set(messages))
    keys = [key for e in events for key in e.keys]
    assert len(keys) == len(set(keys))
    assert not any("slack:" in e.text or "@U" in e.text for e in events)


def test_long_silence(events: list[SuggestedEvent]) -> None:
    # gaps of at least 15 minutes between messages written by people
    quarter, silence = by_kind(events, "silence")
    assert quarter.text == "No one wrote for 15 min (10:35 GMT to 10:50 GMT)"
    assert silence.at == at(10, 50)
    assert silence.text == "No one wrote for 30 min (10:50 GMT to 11:20 GMT)"
    assert len(silence.evidence) == 2


def test_silence_threshold_is_a_parameter() -> None:
    bundle, context = scenario()
    events = suggest_timeline(bundle, context, silence_threshold=timedelta(minutes=10))
    assert [e.at for e in by_kind(events, "silence")] == [at(10, 5), at(10, 35), at(10, 50)]


def test_sorted_and_keys_stable_across_runs_and_new_evidence(
    events: list[SuggestedEvent],
) -> None:
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert len({e.key for e in events}) == len(events)
    bundle, context = scenario()
    bundle.messages.insert(0, msg(at(10, 1), "u:zed", "anything I can do?"))
    again = {e.key for e in suggest_timeline(bundle, context)}
    assert {e.key for e in events if e.kind != "first_human_message"} <= again


def test_hidden_messages_and_outside_window_are_ignored() -> None:
    bundle, context = scenario()
    bundle.messages.append(msg(at(10, 45), "u:ana", "rolling back again", hidden=True))
    bundle.messages.append(msg(at(13, 0), "u:ana", "rolling back after the window"))
    events = suggest_timeline(bundle, context)
    assert [e.at for e in by_kind(events, "rollback")] == [at(10, 35)]


def test_topic_changes_bots_and_unknown_authors() -> None:
    people = {"p": PersonRecord("p", "Pat"), "b": PersonRecord("b", "Deploybot", is_bot=True)}
    messages = [
        msg(at(10, 1), "p", "SEV2 | investigating", subtype="channel_topic"),
        msg(at(10, 2), None, "Deployed checkout v42", is_bot=True),
        msg(at(10, 3), None, "failover to us-west started"),
        msg(at(10, 4), "b", "Released api 1.2"),
        msg(at(10, 5), "p", "deploying", subtype="channel_join"),
    ]
    bundle, context = scenario()
    events = suggest_timeline(EvidenceBundle(people=people, messages=messages), context)
    texts = {(e.kind, e.text) for e in events}
    assert ("status_change", "Status change: Pat wrote \u201cSEV2 | investigating\u201d") in texts
    assert ("deploy", "Deploy: a bot wrote \u201cDeployed checkout v42\u201d") in texts
    assert (
        "mitigation",
        "Mitigation: someone unknown wrote \u201cfailover to us-west started\u201d",
    ) in texts
    assert ("deploy", "Deploy: Deploybot wrote \u201cReleased api 1.2\u201d") in texts
    assert not by_kind(events, "first_human_message")
    assert len(by_kind(events, "deploy")) == 2


def test_page_events_respect_incident_ids() -> None:
    bundle, context = scenario()
    events = suggest_timeline(bundle, replace(context, page_incident_ids=("PD-OLD1",)))
    (first_page,) = by_kind(events, "first_page")
    assert first_page.evidence == (("page", "H1"),)
    assert not by_kind(events, "first_alert")


RULE_CASES = [
    ("severity_change", "Upgrading to SEV1", True),
    ("severity_change", "let's downgrade this to sev-3", True),
    ("severity_change", "SEV2 declared", True),
    ("severity_change", "is this a sev1?", False),
    ("severity_change", "severity of the bug is unclear", False),
    ("status_change", "status: monitoring", True),
    ("status_change", "marking this resolved", True),
    ("status_change", "all clear from my side", True),
    ("status_change", "the status code is 500", False),
    ("rollback", "rolling back to v41", True),
    ("rollback", "I reverted the config", True),
    ("rollback", "undo the deploy please", True),
    ("rollback", "back in a roll", False),
    ("mitigation", "failing over to the replica", True),
    ("mitigation", "restarted the workers", True),
    ("mitigation", "scaling up the pool", True),
    ("mitigation", "turn off the feature flag", True),
    ("mitigation", "the database is slow", False),
    ("deploy", "deployed at 09:55", True),
    ("deploy", "rolling out the fix", True),
    ("deploy", "the deployer is odd", False),
    ("change", "see https://github.com/acme/api/pull/4521", True),
    ("change", "PR #12 looks suspicious", True),
    ("change", "commit 1a2b3c4d changed it", True),
    ("change", "a pretty prank", False),
    ("stakeholder_update", "updated the status page", True),
    ("stakeholder_update", "customers see 500s", True),
    ("stakeholder_update", "customer-facing? no", True),
    ("stakeholder_update", "the custom header", False),
]


@pytest.mark.parametrize(("kind", "text", "expected"), RULE_CASES)
def test_keyword_rules(kind: str, text: str, expected: bool) -> None:
    rule = next(r for r in KEYWORD_RULES if r.kind == kind)
    assert rule.matches(text, text.lower()) is expected
    assert bool(rule.pattern.search(text)) is expected  # the hints never hide a match
    assert rule.description


def test_render_chat_text() -> None:
    people = {"u:max": PersonRecord("u:max", "Max"), "slack:U1": PersonRecord("slack:U1", "Una")}
    raw = (
        "<@u:max> and <@U1> and <@U2|bob> and <@U3>: see <#C9|ops>, <!here>, "
        "<https://x.example/a|the dash> <https://y.example>\n```\nlog line\n```  done"
    )
    assert render_chat_text(raw, people) == (
        "@Max and @Una and @bob and @someone: see #ops, @here, the dash https://y.example "
        "[code] done"
    )


def test_shorten() -> None:
    assert shorten("short", 10) == "short"
    assert shorten("one two three four five six", 15) == "one two three…"
    assert shorten("x" * 30, 10) == "x" * 9 + "…"
    assert len(shorten("word " * 50, 40)) <= 40


def test_clock() -> None:
    moment = at(2, 14)
    assert clock(moment, None) == "02:14 UTC"
    assert clock(moment, ZoneInfo("Europe/Berlin")) == "03:14 CET"
    assert clock(moment.astimezone(UTC), ZoneInfo("America/Los_Angeles")) == "18:14 PST"
