"""People and coordination analysis on small hand-made incidents, one rule per test."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from afteraction.core.analysis.people import (
    IncidentContext,
    PeopleAnalysis,
    PersonFacts,
    RepeatHelper,
    RoleAssignment,
    analysis_to_json,
    analyze_people,
    first_involvements,
)
from afteraction.core.errors import ValidationError
from afteraction.core.evidence import (
    EvidenceBundle,
    MembershipRecord,
    MessageRecord,
    PageRecord,
    PersonRecord,
    Reaction,
    ShiftRecord,
    TranscriptCue,
)

STARTED = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)  # a Tuesday


def at(hour: int, minute: int = 0, day: int = 5) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC)


def msg(when: datetime, author: str | None, text: str = "", **extra: object) -> MessageRecord:
    ts = f"{when.timestamp():.6f}"
    return MessageRecord(channel="C1", ts=ts, at=when, author_key=author, text=text, **extra)  # type: ignore[arg-type]


def page(ident: str, kind: str, when: datetime, person: str | None, **extra: object) -> PageRecord:
    incident = str(extra.pop("incident", "PD-1"))
    return PageRecord(ident, incident, kind, when, person, **extra)  # type: ignore[arg-type]


def scenario() -> tuple[EvidenceBundle, IncidentContext]:
    """A payments incident; each person exercises one rule of method.md section 4."""
    people = {
        "u:cmd": PersonRecord(
            "u:cmd", "Casey", time_zone="Europe/London", title="SRE", start_date=date(2020, 1, 1)
        ),
        "u:ana": PersonRecord(
            "u:ana",
            "Ana",
            time_zone="America/Los_Angeles",
            title="Staff Engineer",
            start_date=date(2015, 6, 1),
        ),
        "u:fay": PersonRecord(
            "u:fay", "Fay", time_zone="Europe/Berlin", start_date=date(2019, 1, 1)
        ),
        "u:max": PersonRecord(
            "u:max", "Max", time_zone="America/New_York", start_date=date(2024, 1, 15)
        ),
        "u:olga": PersonRecord(
            "u:olga", "Olga", time_zone="Asia/Kolkata", start_date=date(2018, 1, 1)
        ),
        "u:nils": PersonRecord("u:nils", "Nils"),
        "u:rex": PersonRecord("u:rex", "Rex"),
        "u:bot": PersonRecord("u:bot", "Alertbot", is_bot=True),
    }
    memberships = [
        MembershipRecord("u:cmd", "payments", date(2020, 1, 1)),
        MembershipRecord("u:ana", "search", date(2015, 6, 1)),
        MembershipRecord("u:fay", "payments", date(2019, 1, 1), date(2023, 12, 6)),
        MembershipRecord("u:fay", "platform", date(2023, 12, 6)),
        MembershipRecord("u:max", "payments", date(2024, 1, 15)),
        MembershipRecord("u:olga", "payments", date(2018, 1, 1)),
    ]
    shifts = [
        ShiftRecord("u:cmd", "payments-primary", at(9, day=4), at(9, day=11), 1),
        ShiftRecord("u:olga", "payments-secondary", at(9, day=4), at(9, day=11), 2),
        ShiftRecord("u:ana", "search-primary", at(9, day=1), at(9, day=4)),
        ShiftRecord("u:sam", "search-primary", at(9, day=4), at(9, day=11)),
    ]
    pages = [
        page("P0", "trigger", at(9, 59), None, summary="Error rate above 5% on payments-api"),
        page("P1", "notify", at(10, 2), "u:cmd", escalation_level=1, method="sms"),
        page("P2", "acknowledge", at(10, 4), "u:cmd"),
        page("P3", "notify", at(10, 40), "u:olga", escalation_level=2),
        # earlier incidents that paged the commander (fatigue); PD-OLD1 notified twice
        page("H1", "notify", at(3, 0), "u:cmd", incident="PD-OLD1", method="sms"),
        page("H1b", "notify", at(3, 1), "u:cmd", incident="PD-OLD1", method="push"),
        page("H2", "notify", at(20, 0, day=4), "u:cmd", incident="PD-OLD2"),
        page("H3", "notify", at(10, 0, day=1), "u:cmd", incident="PD-OLD3"),
        page("H4", "notify", at(10, 0, day=2) - timedelta(days=5), "u:cmd", incident="PD-OLD4"),
    ]
    messages = [
        msg(at(9, 58), "u:bot", "Alert: error rate above 5% on payments-api"),
        msg(at(10, 3), "u:cmd", subtype="channel_join"),
        msg(
            at(10, 5), "u:cmd", "Looking at payments-api, error rate is climbing. Upgrading to SEV1"
        ),
        msg(at(10, 6), None, "message from someone the export could not name"),
        msg(at(10, 14), "u:ana", subtype="channel_join", inviter_key="u:cmd"),
        msg(at(10, 16), "u:ana", "I think the connection pool is exhausted"),
        msg(at(10, 18), "u:ana", "oops, wrong channel", hidden=True),
        msg(at(10, 20), "u:fay", subtype="channel_join"),
        msg(at(10, 22), "u:fay", "The deploy of PR #4521 went out at 09:55, could be related"),
        msg(
            at(10, 30),
            "u:cmd",
            "<@u:max> can you look at the db?",
            mention_keys=("u:max",),
            reactions=(Reaction("eyes", 2, ("u:rex", "u:ana")),),
        ),
        msg(at(10, 33), "u:max", subtype="channel_join"),
        msg(at(10, 35), "u:max", "Rolling back the deploy now"),
        msg(at(10, 41), "u:olga", subtype="channel_join"),
        msg(at(10, 50), "u:nils", "Posted an update on the status page for customers"),
        msg(at(11, 20), "u:cmd", "Error rate is back to normal, marking as resolved"),
    ]
    bundle = EvidenceBundle(people, memberships, messages, pages, shifts)
    context = IncidentContext(
        start=at(9, 30),
        end=at(12, 0),
        started=STARTED,
        owning_teams=("payments",),
        affected_services=("payments-api",),
        roles=(RoleAssignment("commander", "u:cmd", at(10, 5), at(11, 30)),),
        time_zone="Europe/London",
    )
    return bundle, context


@pytest.fixture(scope="module")
def analysis() -> PeopleAnalysis:
    bundle, context = scenario()
    return analyze_people(bundle, context, history={"u:ana": 2, "u:fay": 1, "u:cmd": 5})


def facts(analysis: PeopleAnalysis, key: str) -> PersonFacts:
    person = analysis.person(key)
    assert person is not None
    return person


def test_people_sorted_by_first_involvement_and_bots_left_out(analysis: PeopleAnalysis) -> None:
    keys = [p.person_key for p in analysis.people]
    assert keys == ["u:cmd", "u:ana", "u:fay", "u:max", "u:olga", "u:nils", "u:rex"]
    assert analysis.person("u:bot") is None
    assert analysis.rollup.bots_count == 1
    assert analysis.rollup.bot_messages == 1


def test_paged_commander_on_call_with_fatigue(analysis: PeopleAnalysis) -> None:
    cmd = facts(analysis, "u:cmd")
    assert cmd.arrival == "paged"
    assert cmd.arrival_detail.at == at(10, 2)
    assert cmd.arrival_detail.escalation_level == 1
    assert cmd.arrival_detail.evidence == ("page", "P1")
    assert cmd.on_call_at_arrival is True
    assert "payments-primary" in cmd.explanations["on_call_at_arrival"]
    assert cmd.off_hours_at_arrival is False
    assert cmd.local_time_at_arrival == "2024-03-05 10:02 GMT (Europe/London)"
    assert cmd.pages_in_incident == 1
    # PD-OLD1 (03:00, notified twice: one incident) and PD-OLD2 (20:00 the day before)
    assert cmd.pages_prev_24h == 2
    # plus PD-OLD3 four days before; PD-OLD4 is eight days before
    assert cmd.pages_prev_7d == 3
    # this page <- 03:00 (7h02) <- 20:00 (7h); PD-OLD3 is days earlier
    assert cmd.consecutive_pages == 3
    assert cmd.team_fit == "owning_team"
    assert cmd.roles[0].role == "commander"
    assert cmd.messages == 3
    assert cmd.message_share == round(3 / 7, 4)
    assert cmd.first_message == at(10, 5)
    assert cmd.last_message == at(11, 20)


def test_off_call_person_invited_at_0214_local_by_commander(analysis: PeopleAnalysis) -> None:
    ana = facts(analysis, "u:ana")
    assert ana.arrival == "invited"
    assert ana.arrival_detail.inviter_key == "u:cmd"
    assert ana.on_call_at_arrival is False
    assert "search-primary" in ana.explanations["on_call_at_arrival"]
    assert ana.off_hours_at_arrival is True
    assert ana.local_time_at_arrival == "2024-03-05 02:14 PST (America/Los_Angeles)"
    assert "outside 08:00-20:00" in ana.explanations["off_hours_at_arrival"]
    assert ana.team_fit == "other_team"
    assert ana.teams == ("search",)
    assert ana.title_then == "Staff Engineer"
    assert ana.tenure_days_then == (date(2024, 3, 5) - date(2015, 6, 1)).days


def test_hidden_messages_are_not_participation(analysis: PeopleAnalysis) -> None:
    ana = facts(analysis, "u:ana")
    assert ana.messages == 1
    assert ana.words == 7  # "I think the connection pool is exhausted"
    assert ana.reactions_given == 1
    assert analysis.rollup.hidden_messages == 1


def test_former_member_who_left_90_days_before(analysis: PeopleAnalysis) -> None:
    fay = facts(analysis, "u:fay")
    assert fay.arrival == "self_joined"
    assert fay.team_fit == "former_member"
    assert fay.left_owning_team_on == date(2023, 12, 6)
    assert fay.days_since_left == 90
    assert fay.teams == ("platform",)
    assert "90 days" in fay.explanations["team_fit"]


def test_mentioned_then_joined_newcomer(analysis: PeopleAnalysis) -> None:
    max_ = facts(analysis, "u:max")
    assert max_.arrival == "mentioned"
    assert max_.arrival_detail.mentioner_key == "u:cmd"
    assert max_.arrival_detail.at == at(10, 30)
    assert max_.arrival_detail.evidence == ("message", "C1", f"{at(10, 30).timestamp():.6f}")
    assert max_.tenure_days_then == 50
    assert max_.team_fit == "owning_team"
    assert max_.off_hours_at_arrival is True
    assert max_.local_time_at_arrival == "2024-03-05 05:30 EST (America/New_York)"


def test_paged_silent_person_is_an_observer(analysis: PeopleAnalysis) -> None:
    olga = facts(analysis, "u:olga")
    assert olga.arrival == "paged"
    assert olga.arrival_detail.escalation_level == 2
    assert olga.is_observer is True
    assert olga.reactions_only is False
    assert olga.messages == 0
    assert olga.on_call_at_arrival is True
    assert olga.local_time_at_arrival == "2024-03-05 16:10 IST (Asia/Kolkata)"


def test_person_without_time_zone_or_roster_data_is_unknown(analysis: PeopleAnalysis) -> None:
    nils = facts(analysis, "u:nils")
    assert nils.arrival == "unknown"
    assert nils.arrival_detail.at == at(10, 50)
    assert nils.off_hours_at_arrival is None
    assert nils.local_time_at_arrival is None
    assert nils.explanations["off_hours_at_arrival"] == "unknown: no time zone on record"
    assert nils.team_fit == "unknown"
    assert nils.tenure_days_then is None
    assert nils.explanations["tenure_days_then"].startswith("unknown")


def test_reactions_only_person(analysis: PeopleAnalysis) -> None:
    rex = facts(analysis, "u:rex")
    assert rex.reactions_only is True
    assert rex.is_observer is False
    assert rex.first_seen is None
    assert rex.on_call_at_arrival is None
    assert rex.off_hours_at_arrival is None


def test_rollup(analysis: PeopleAnalysis) -> None:
    rollup = analysis.rollup
    assert rollup.people_count == 7
    assert rollup.responders_count == 5
    assert rollup.observers_count == 1
    assert rollup.pulled_in_off_call_keys == ("u:ana", "u:fay", "u:max", "u:nils")
    assert rollup.pulled_in_off_call_count == 4
    assert rollup.on_call_unknown_count == 1
    assert rollup.teams_involved == ("payments", "platform", "search")
    spread = rollup.time_zone_spread
    assert spread.zones == (
        "America/Los_Angeles",
        "America/New_York",
        "Asia/Kolkata",
        "Europe/Berlin",
        "Europe/London",
    )
    assert spread.max_offset_difference_hours == 13.5  # UTC-8 to UTC+5:30
    assert spread.unknown_count == 2
    assert rollup.unattributed_messages == 1
    assert rollup.total_messages == 7
    assert rollup.repeat_helpers == (RepeatHelper("u:cmd", 5), RepeatHelper("u:ana", 3))
    assert "never a performance score" in rollup.explanations["repeat_helpers"]


def test_every_fact_is_explained(analysis: PeopleAnalysis) -> None:
    needed = {
        "arrival",
        "on_call_at_arrival",
        "off_hours_at_arrival",
        "pages_prev_24h",
        "pages_prev_7d",
        "consecutive_pages",
        "team_fit",
        "tenure_days_then",
        "messages",
        "message_share",
        "is_observer",
    }
    for person in analysis.people:
        assert needed <= set(person.explanations)
        assert all(text for text in person.explanations.values())


def test_result_serialises_to_json(analysis: PeopleAnalysis) -> None:
    data = analysis_to_json(analysis)
    text = json.dumps(data)
    assert '"arrival": "invited"' in text
    people = data["people"]
    assert isinstance(people, list)
    assert people[0]["first_seen"] == "2024-03-05T10:02:00+00:00"
    assert asdict(analysis)["rollup"]["bots_count"] == 1


def test_no_history_means_repeat_helpers_unknown() -> None:
    bundle, context = scenario()
    rollup = analyze_people(bundle, context).rollup
    assert rollup.repeat_helpers is None
    assert rollup.explanations["repeat_helpers"].startswith("unknown")


def test_without_schedules_on_call_is_unknown() -> None:
    bundle, context = scenario()
    bundle.shifts = []
    result = analyze_people(bundle, context)
    assert {p.on_call_at_arrival for p in result.people} == {None}
    assert "no imported on-call schedule" in result.people[0].explanations["on_call_at_arrival"]
    assert result.rollup.pulled_in_off_call_count == 0


def test_without_owning_team_team_fit_is_unknown() -> None:
    bundle, context = scenario()
    result = analyze_people(bundle, replace(context, owning_teams=()))
    assert {p.team_fit for p in result.people} == {"unknown"}
    assert facts(result, "u:ana").teams == ("search",)


def test_dst_uses_the_offset_in_force_at_that_moment() -> None:
    # US clocks went forward on 2024-03-10 at 07:00 UTC; the UK stayed on GMT until 31 March.
    people = {
        "a": PersonRecord("a", "Before", time_zone="America/New_York"),
        "b": PersonRecord("b", "After", time_zone="America/New_York"),
        "c": PersonRecord("c", "Summer", time_zone="Europe/London"),
    }
    summer = datetime(2024, 7, 1, 7, 30, tzinfo=UTC)
    messages = [
        msg(datetime(2024, 3, 10, 6, 30, tzinfo=UTC), "a", "before the change"),
        msg(datetime(2024, 3, 10, 7, 30, tzinfo=UTC), "b", "after the change"),
        msg(summer, "c", "summer morning"),
    ]
    context = IncidentContext(
        start=datetime(2024, 3, 10, tzinfo=UTC),
        end=datetime(2024, 7, 2, tzinfo=UTC),
        started=datetime(2024, 3, 10, 6, 0, tzinfo=UTC),
    )
    result = analyze_people(EvidenceBundle(people=people, messages=messages), context)
    assert facts(result, "a").local_time_at_arrival == "2024-03-10 01:30 EST (America/New_York)"
    assert facts(result, "b").local_time_at_arrival == "2024-03-10 03:30 EDT (America/New_York)"
    assert facts(result, "c").local_time_at_arrival == "2024-07-01 08:30 BST (Europe/London)"
    assert facts(result, "c").off_hours_at_arrival is False  # 07:30 UTC, but 08:30 local
    assert result.rollup.time_zone_spread.max_offset_difference_hours == 5.0


def test_unknown_zone_name_and_author_outside_roster() -> None:
    people = {"m": PersonRecord("m", "Mars", time_zone="Mars/Olympus_Mons")}
    messages = [msg(at(10, 1), "m", "hello"), msg(at(10, 2), "slack:U999", "who am I")]
    context = IncidentContext(start=at(10), end=at(11), started=at(10))
    result = analyze_people(EvidenceBundle(people=people, messages=messages), context)
    mars = facts(result, "m")
    assert mars.off_hours_at_arrival is None
    assert (
        "'Mars/Olympus_Mons' is not a known IANA zone" in mars.explanations["off_hours_at_arrival"]
    )
    stranger = facts(result, "slack:U999")
    assert stranger.in_roster is False
    assert stranger.name == "slack:U999"
    assert "not in the imported roster" in stranger.explanations["name"]
    assert result.rollup.time_zone_spread.zones == ()
    assert result.rollup.time_zone_spread.max_offset_difference_hours is None


def test_mention_after_first_message_is_not_an_arrival() -> None:
    messages = [
        msg(at(10, 1), "a", "I am here already"),
        msg(at(10, 2), "b", "thanks <@a>", mention_keys=("a", "b")),
    ]
    context = IncidentContext(start=at(10), end=at(11), started=at(10))
    result = analyze_people(EvidenceBundle(messages=messages), context)
    assert facts(result, "a").arrival == "unknown"
    assert facts(result, "a").arrival_detail.mentioner_key == "b"
    assert facts(result, "b").arrival == "unknown"  # self-mention ignored


def test_bot_identities_from_roster_reactions_and_pages() -> None:
    people = {"bot": PersonRecord("bot", "Deploybot", is_bot=True), "p": PersonRecord("p", "P")}
    messages = [
        msg(at(10, 1), "bot", "deployed v2", mention_keys=("p",)),
        msg(at(10, 2), None, "integration post", is_bot=True),
        msg(
            at(10, 3),
            "p",
            "ok <@bot>",
            mention_keys=("bot",),
            reactions=(Reaction("robot", 1, ("bot",)),),
        ),
        msg(at(10, 4), "bot", subtype="channel_join"),
    ]
    pages = [page("X", "notify", at(10, 5), "bot")]
    context = IncidentContext(start=at(10), end=at(11), started=at(10))
    result = analyze_people(EvidenceBundle(people=people, messages=messages, pages=pages), context)
    assert [p.person_key for p in result.people] == ["p"]
    assert facts(result, "p").arrival == "mentioned"
    assert facts(result, "p").arrival_detail.mentioner_key == "bot"
    assert result.rollup.bots_count == 1
    assert result.rollup.bot_messages == 3


def test_channel_events_roles_and_page_actions_count_as_presence() -> None:
    messages = [
        msg(at(10, 1), "t", "SEV2: payments", subtype="channel_topic"),
        msg(at(10, 2), None, subtype="channel_join"),
        msg(at(10, 3), None, subtype="channel_topic"),
    ]
    pages = [
        page("A", "assign", at(10, 4), "q", escalation_level=3),
        page("N", "notify", at(10, 5), "q"),
        page("K", "acknowledge", at(10, 6), None),
    ]
    context = IncidentContext(
        start=at(10),
        end=at(11),
        started=at(10),
        roles=(("scribe", "r", at(10, 7), None),),  # type: ignore[arg-type]
    )
    result = analyze_people(EvidenceBundle(messages=messages, pages=pages), context)
    topic = facts(result, "t")
    assert (topic.arrival, topic.messages, topic.is_observer) == ("unknown", 0, True)
    assert topic.first_seen == at(10, 1)
    paged = facts(result, "q")
    assert paged.arrival == "paged"
    assert paged.arrival_detail.escalation_level == 3  # from the assign entry
    assert paged.first_seen == at(10, 4)
    scribe = facts(result, "r")
    assert scribe.roles[0].role == "scribe"
    assert scribe.arrival == "unknown"
    assert scribe.arrival_detail.at == at(10, 7)
    assert context.roles[0] == RoleAssignment("scribe", "r", at(10, 7), None)


def test_page_incident_ids_select_pages_outside_the_window() -> None:
    pages = [
        page("N1", "notify", at(8, 0), "a", incident="PD-9"),
        page("N2", "notify", at(10, 30), "a", incident="PD-OTHER"),
    ]
    context = IncidentContext(start=at(10), end=at(11), started=at(10), page_incident_ids=("PD-9",))
    result = analyze_people(EvidenceBundle(pages=pages), context)
    person = facts(result, "a")
    assert person.pages_in_incident == 1
    assert person.arrival_detail.at == at(8, 0)
    assert person.pages_prev_24h == 0  # PD-OTHER came after impact started


def test_not_paged_person_still_gets_the_run_leading_into_the_incident() -> None:
    pages = [page("H", "notify", at(6, 0), "a", incident="PD-OLD")]
    messages = [msg(at(10, 1), "a", "here")]
    context = IncidentContext(start=at(10), end=at(11), started=at(10))
    person = facts(analyze_people(EvidenceBundle(messages=messages, pages=pages), context), "a")
    assert (person.pages_in_incident, person.pages_prev_24h, person.consecutive_pages) == (0, 1, 1)


def test_start_date_after_the_incident_is_unknown_tenure() -> None:
    people = {"a": PersonRecord("a", "A", start_date=date(2030, 1, 1))}
    context = IncidentContext(start=at(10), end=at(11), started=at(10))
    result = analyze_people(
        EvidenceBundle(people=people, messages=[msg(at(10), "a", "x")]), context
    )
    assert facts(result, "a").tenure_days_then is None
    assert "after" in facts(result, "a").explanations["tenure_days_then"]


def test_messages_outside_the_window_are_ignored() -> None:
    messages = [msg(at(9), "a", "old chatter"), msg(at(10, 30), "b", "in window")]
    context = IncidentContext(start=at(10), end=at(11), started=at(10))
    result = analyze_people(EvidenceBundle(messages=messages), context)
    assert [p.person_key for p in result.people] == ["b"]
    assert facts(result, "b").message_share == 1.0


def test_empty_bundle() -> None:
    context = IncidentContext(start=at(10), end=at(11), started=at(10))
    result = analyze_people(EvidenceBundle(), context)
    assert result.people == []
    assert result.rollup.people_count == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": datetime(2024, 3, 5, 10)}, "start"),  # noqa: DTZ001 - naive on purpose
        ({"end": at(9)}, "end"),
        ({"roles": (RoleAssignment("commander", "a", datetime(2024, 3, 5)),)}, "roles"),  # noqa: DTZ001
        (
            {"roles": (RoleAssignment("commander", "a", at(10), datetime(2024, 3, 5)),)},  # noqa: DTZ001
            "roles",
        ),
    ],
)
def test_context_rejects_naive_or_inverted_times(kwargs: dict[str, object], field: str) -> None:
    base: dict[str, object] = {"start": at(10), "end": at(11), "started": at(10)}
    with pytest.raises(ValidationError) as caught:
        IncidentContext(**{**base, **kwargs})  # type: ignore[arg-type]
    assert caught.value.field == field


def test_unsorted_evidence_and_reaction_only_person_with_time_zone() -> None:
    people = {"r": PersonRecord("r", "R", time_zone="Europe/Paris")}
    messages = [
        msg(at(10, 40), "a", "third", reactions=(Reaction("+1", 1, ("r",)),)),
        msg(at(10, 20), "a", "second"),
        msg(at(10, 30), "a", "middle"),
        msg(at(10, 25), "j", subtype="channel_join"),
        msg(at(10, 10), "j", subtype="channel_join", inviter_key="a"),
        msg(at(10, 15), "j", "after joining"),
    ]
    context = IncidentContext(start=at(10), end=at(11), started=at(10))
    result = analyze_people(EvidenceBundle(people=people, messages=messages), context)
    author = facts(result, "a")
    assert (author.first_message, author.last_message) == (at(10, 20), at(10, 40))
    assert facts(result, "j").arrival == "invited"
    assert facts(result, "j").arrival_detail.at == at(10, 10)
    reactor = facts(result, "r")
    assert reactor.off_hours_at_arrival is None
    assert "no moment" in reactor.explanations["off_hours_at_arrival"]


FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures"
SLACK_EXPORT = FIXTURES / "slack" / "slack-export-viewer" / "tests" / "testarchive_zip_contents"
MENTION = re.compile(r"<@(U[A-Z0-9]+)")


def slack_export_bundle(root: Path) -> EvidenceBundle:
    """A minimal, test-only reading of a real Slack export (the real importer lives elsewhere)."""
    users = json.loads((root / "users.json").read_text(encoding="utf-8"))
    people = {
        f"slack:{u['id']}": PersonRecord(
            f"slack:{u['id']}",
            u.get("real_name") or u["name"],
            time_zone=u.get("tz"),
            title=u.get("profile", {}).get("title") or None,
            is_bot=bool(u.get("is_bot")),
        )
        for u in users
    }
    messages = []
    for channel in json.loads((root / "channels.json").read_text(encoding="utf-8")):
        for day in sorted((root / channel["name"]).glob("*.json")):
            for raw in json.loads(day.read_text(encoding="utf-8")):
                is_bot = raw.get("subtype") == "bot_message" or bool(raw.get("bot_id"))
                author: str | None
                if is_bot:
                    author = f"slack-bot:{raw['bot_id']}"
                else:
                    author = f"slack:{raw['user']}" if raw.get("user") else None
                messages.append(
                    MessageRecord(
                        channel=channel["name"],
                        ts=raw["ts"],
                        at=datetime.fromtimestamp(float(raw["ts"]), UTC),
                        author_key=author,
                        text=raw.get("text", ""),
                        subtype=raw.get("subtype"),
                        inviter_key=f"slack:{raw['inviter']}" if raw.get("inviter") else None,
                        mention_keys=tuple(f"slack:{u}" for u in MENTION.findall(raw["text"])),
                        reactions=tuple(
                            Reaction(r["name"], r["count"], tuple(f"slack:{k}" for k in r["users"]))
                            for r in raw.get("reactions", [])
                        ),
                        is_bot=is_bot,
                    )
                )
    return EvidenceBundle(people=people, messages=messages)


def test_real_slack_export_joins_inviters_and_messages_per_person() -> None:
    if not (SLACK_EXPORT / "users.json").is_file():
        pytest.skip(f"real Slack export fixture not found at {SLACK_EXPORT}")
    bundle = slack_export_bundle(SLACK_EXPORT)
    context = IncidentContext(
        start=datetime(2016, 1, 1, tzinfo=UTC),
        end=datetime(2016, 4, 1, tzinfo=UTC),
        started=datetime(2016, 1, 14, tzinfo=UTC),
    )
    result = analyze_people(bundle, context)
    hamza, harry = "slack:U0BMQB6JE", "slack:U0BMYT2FL"
    hermione, hannibal = "slack:U0BMS113R", "slack:U0BMM2FEH"
    # enrique/2016-01-14.json: the creator joins alone, then invites the three others
    assert [p.person_key for p in result.people] == [hamza, harry, hermione, hannibal]
    arrivals = {p.person_key: (p.arrival, p.arrival_detail.inviter_key) for p in result.people}
    assert arrivals == {
        hamza: ("self_joined", None),
        harry: ("invited", hamza),
        hermione: ("invited", hamza),
        hannibal: ("invited", hamza),
    }
    # counted by hand: Hamza 2 + 3 + 4 messages, Harry 3, Hermione one file share;
    # the file comment has no author; 19 + 3 + 2 bot posts from three bot ids
    per_person = {p.person_key: p.messages for p in result.people}
    assert per_person == {hamza: 9, harry: 3, hermione: 1, hannibal: 0}
    assert facts(result, hamza).message_share == round(9 / 13, 4)
    assert facts(result, hannibal).is_observer is True
    assert facts(result, harry).reactions_given == 1  # :botman: on a bot post
    assert facts(result, harry).arrival_detail.mentioner_key == hamza  # mentioned after joining
    rollup = result.rollup
    assert (rollup.unattributed_messages, rollup.bot_messages, rollup.bots_count) == (1, 24, 3)
    # 1452837318 is 2016-01-15 05:55:18 UTC, 21:55 the evening before in Los Angeles
    assert (
        facts(result, hamza).local_time_at_arrival == "2016-01-14 21:55 PST (America/Los_Angeles)"
    )
    assert facts(result, hamza).off_hours_at_arrival is True
    assert {p.on_call_at_arrival for p in result.people} == {None}  # no schedules imported
    assert rollup.time_zone_spread.zones == ("America/Los_Angeles",)
    assert rollup.time_zone_spread.max_offset_difference_hours == 0.0


def test_identities_are_never_merged_by_guessing() -> None:
    people = {
        "slack:U1": PersonRecord("slack:U1", "Ada Lovelace", email="ada@example.com"),
        "pd:P1": PersonRecord("pd:P1", "Ada Lovelace", email="ada@example.com"),
    }
    messages = [msg(at(10, 1), "slack:U1", "looking")]
    pages = [page("N", "notify", at(10, 0), "pd:P1")]
    context = IncidentContext(start=at(10), end=at(11), started=at(10))
    result = analyze_people(EvidenceBundle(people=people, messages=messages, pages=pages), context)
    assert [(p.person_key, p.arrival) for p in result.people] == [
        ("pd:P1", "paged"),
        ("slack:U1", "unknown"),
    ]
    assert facts(result, "pd:P1").is_observer is True


def test_first_involvements_are_the_analysis_first_seen(analysis: PeopleAnalysis) -> None:
    """The on-call load page dates involvements with `first_involvements`: the same moments
    the analysis shows (bots left out)."""
    from afteraction.core.analysis.people import first_involvements

    bundle, context = scenario()
    expected = {p.person_key: p.first_seen for p in analysis.people if p.first_seen}
    assert first_involvements(bundle, context) == expected


def test_speaking_in_the_call_is_an_involvement_like_a_message() -> None:
    messages = [msg(at(10, 20), "a", "rolling back"), msg(at(10, 30), "b", "later")]
    cues = [
        TranscriptCue(0, 5, "Bea", "I can see the pool filling", at(10, 5), "b"),
        TranscriptCue(5, 9, "Cy", "I'll take comms", at(10, 6), "c"),
        TranscriptCue(9, 12, "Cy", "done", at(10, 7), "c"),
        TranscriptCue(12, 15, None, "(crosstalk)", at(10, 8), None),
        TranscriptCue(15, 20, "Dee", "review next week", at(12), "d"),  # after the window
        TranscriptCue(20, 25, "Eve", "no time known", None, "e"),
    ]
    context = IncidentContext(start=at(10), end=at(11), started=at(10))
    result = analyze_people(EvidenceBundle(messages=messages, cues=cues), context)
    assert {p.person_key for p in result.people} == {"a", "b", "c"}
    bea, cy = facts(result, "b"), facts(result, "c")
    assert bea.first_seen == at(10, 5) and bea.first_message == at(10, 30)
    assert bea.spoke_in_call == 1 and bea.messages == 1
    assert cy.first_seen == at(10, 6) and cy.spoke_in_call == 2 and cy.messages == 0
    assert cy.arrival == "unknown" and cy.arrival_detail.at == at(10, 6)
    assert cy.is_observer is False and cy.reactions_only is False
    assert "call" in cy.explanations["spoke_in_call"]
    assert facts(result, "a").spoke_in_call == 0
    assert [(p.person_key, p.spoke_in_call) for p in result.people] == [
        ("b", 1),
        ("c", 2),
        ("a", 0),
    ]
    assert '"spoke_in_call": 2' in json.dumps(analysis_to_json(result))
    assert first_involvements(EvidenceBundle(messages=messages, cues=cues), context) == {
        "a": at(10, 20),
        "b": at(10, 5),
        "c": at(10, 6),
    }
