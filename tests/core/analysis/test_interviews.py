"""Interview planning: who to talk to and why, and questions drawn from their own actions."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from afteraction.core.analysis.interviews import (
    InterviewSuggestion,
    draft_questions,
    suggest_interviewees,
)
from afteraction.core.analysis.people import (
    IncidentContext,
    PeopleAnalysis,
    RoleAssignment,
    analyze_people,
)
from afteraction.core.errors import NotFound
from afteraction.core.evidence import EvidenceBundle, PersonRecord

from .test_people import at, msg, scenario

WHY_DID_YOU = re.compile(r"\bwhy did you\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def planned() -> tuple[EvidenceBundle, PeopleAnalysis, list[InterviewSuggestion]]:
    bundle, context = scenario()
    analysis = analyze_people(bundle, context)
    return bundle, analysis, suggest_interviewees(analysis, bundle, context)


def reasons_of(suggestions: list[InterviewSuggestion], key: str) -> dict[str, str]:
    suggestion = next(s for s in suggestions if s.person_key == key)
    return {r.code: r.explanation for r in suggestion.reasons}


def test_ranking_and_reasons(
    planned: tuple[EvidenceBundle, PeopleAnalysis, list[InterviewSuggestion]],
) -> None:
    _, _, suggestions = planned
    ranked = [(s.person_key, s.priority) for s in suggestions]
    assert ranked == [
        ("u:cmd", 9),  # key player 3 + commander 3 + first acknowledger 2 + owner 1
        ("u:max", 6),  # off call 3 + newcomer 2 + owner 1
        ("u:fay", 5),  # off call 3 + former owner 2
        ("u:ana", 3),  # off call 3
        ("u:nils", 3),  # off call 3
        ("u:olga", 2),  # silent observer 1 + owner 1
    ]
    cmd = reasons_of(suggestions, "u:cmd")
    assert set(cmd) == {"key_player", "role_holder", "first_acknowledger", "service_owner"}
    assert cmd["key_player"] == "wrote 3 messages (43% of all), number 1 by messages"
    assert cmd["service_owner"] == "member of the team that owns payments-api"
    assert "u:rex" not in {s.person_key for s in suggestions}  # nothing to ask about


def test_off_call_helper_reason_names_their_local_time(
    planned: tuple[EvidenceBundle, PeopleAnalysis, list[InterviewSuggestion]],
) -> None:
    _, _, suggestions = planned
    ana = reasons_of(suggestions, "u:ana")["helped_off_call"]
    assert ana == (
        "helped while not on call; first involved at 2024-03-05 02:14 PST "
        "(America/Los_Angeles) outside their working hours (invited)"
    )
    assert "outside" not in reasons_of(suggestions, "u:nils")["helped_off_call"]


def test_newcomer_former_owner_and_observer(
    planned: tuple[EvidenceBundle, PeopleAnalysis, list[InterviewSuggestion]],
) -> None:
    _, _, suggestions = planned
    assert reasons_of(suggestions, "u:max")["newcomer"].startswith("had been here 50 days")
    assert reasons_of(suggestions, "u:fay")["former_owner"].startswith(
        "left the owning team 90 days before"
    )
    observer = reasons_of(suggestions, "u:olga")["silent_observer"]
    assert "status change at 11:20 GMT" in observer


def test_newcomer_threshold_is_a_parameter() -> None:
    bundle, context = scenario()
    analysis = analyze_people(bundle, context)
    suggestions = suggest_interviewees(analysis, bundle, context, newcomer_days=30)
    assert "newcomer" not in reasons_of(suggestions, "u:max")


def test_people_who_may_feel_blamed() -> None:
    bundle, context = scenario()
    bundle.messages += [
        msg(at(9, 50), "u:dev", "I deployed the new pool settings"),
        msg(at(10, 10), "u:ana", "was it <@u:kim>'s deploy?", mention_keys=("u:kim",)),
        msg(at(11, 0), "u:ana", "I merged PR #9 after the incident"),  # too late to count
        msg(at(9, 51), "u:ana", "I rolled back my deploy", hidden=True),
    ]
    context = replace(context, change_authors=("u:max",))
    analysis = analyze_people(bundle, context)
    suggestions = suggest_interviewees(analysis, bundle, context)
    dev = reasons_of(suggestions, "u:dev")["may_feel_blamed"]
    assert dev.startswith("wrote about their own change near the start of impact (at 09:50 GMT")
    assert "talk early, privately, and about the work rather than the person" in dev
    kim = reasons_of(suggestions, "u:kim")["may_feel_blamed"]
    assert kim.startswith("was named in a message about a change")
    assert "@someone" in kim  # no directory entry for u:kim: never a raw id
    max_ = reasons_of(suggestions, "u:max")["may_feel_blamed"]
    assert max_.startswith("named as the author of a change linked to this incident")
    assert "may_feel_blamed" not in reasons_of(suggestions, "u:ana")


def test_questions_for_the_off_call_helper(
    planned: tuple[EvidenceBundle, PeopleAnalysis, list[InterviewSuggestion]],
) -> None:
    bundle, analysis, _ = planned
    assert draft_questions("u:ana", bundle, analysis) == [
        "At 02:14 PST Casey added you to the channel. What did you know about the incident at "
        "that point, and what did you look at first?",
        "It was 02:14 PST where you were. What was it like to pick this up at that hour, and "
        "what made it hard?",
        "You were not on call at the time. How did you decide to get involved, and what did "
        "you expect you could add?",
        "At 02:16 PST you wrote \u201cI think the connection pool is exhausted\u201d. What were "
        "you looking at then, and how did you know?",
        "Looking back over the whole incident, what made it hard to handle from where you were?",
    ]


def test_questions_follow_each_persons_actions(
    planned: tuple[EvidenceBundle, PeopleAnalysis, list[InterviewSuggestion]],
) -> None:
    bundle, analysis, _ = planned
    cmd = draft_questions("u:cmd", bundle, analysis)
    assert cmd[0].startswith("At 10:02 GMT you were paged (escalation level 1).")
    assert (
        "At 10:30 GMT you asked \u201c@Max can you look at the db?\u201d. What were you hoping "
        "to find out?"
    ) in cmd
    assert (
        "You held the commander role from 10:05 GMT to 11:30 GMT. What made that role hard to "
        "do in this incident?"
    ) in cmd
    max_ = draft_questions("u:max", bundle, analysis)
    assert (
        max_[0]
        == "At 05:30 EST Casey mentioned you. What did you understand was being asked of you?"
    )
    assert (
        "At 05:35 EST you wrote \u201cRolling back the deploy now\u201d. What options did you "
        "consider at that point?"
    ) in max_
    assert any(q.startswith("You had been here 50 days.") for q in max_)
    fay = draft_questions("u:fay", bundle, analysis)
    assert fay[0].startswith("At 11:20 CET you joined the channel. How did you hear")
    olga = draft_questions("u:olga", bundle, analysis)
    assert any(q.startswith("You were following the channel without writing.") for q in olga)
    nils = draft_questions("u:nils", bundle, analysis)
    assert nils[0] == "How did you first hear about this incident, and what did you do first?"
    assert any("How did you decide what to tell people outside the channel?" in q for q in nils)
    assert any(q.startswith("At 10:50 UTC you wrote") for q in nils)  # no time zone: UTC
    rex = draft_questions("u:rex", bundle, analysis)
    assert rex[0] == "How did you first hear about this incident, and what did you do first?"


def test_no_question_asks_why_did_you() -> None:
    bundle, context = scenario()
    bundle.messages.append(msg(at(10, 55), "u:ana", "Why did you restart it?"))
    bundle.messages.append(msg(at(10, 56), "u:ana", "```why did you```"))
    analysis = analyze_people(bundle, context)
    for person in analysis.people:
        for question in draft_questions(person.person_key, bundle, analysis, limit=50):
            assert not WHY_DID_YOU.search(question)
            assert not question.lower().startswith("why")
    quoted = draft_questions("u:ana", bundle, analysis, limit=50)
    assert any("[code]" in q for q in quoted)


def test_limit_keeps_the_most_important_in_incident_order(
    planned: tuple[EvidenceBundle, PeopleAnalysis, list[InterviewSuggestion]],
) -> None:
    bundle, analysis, _ = planned
    two = draft_questions("u:cmd", bundle, analysis, limit=2)
    assert two[0].startswith("At 10:02 GMT you were paged")
    assert two[1].startswith("At 10:05 GMT you wrote \u201cLooking at payments-api")
    assert draft_questions("u:cmd", bundle, analysis, limit=0) == []


def test_long_messages_are_quoted_shortened() -> None:
    bundle, context = scenario()
    long_text = "I think " + "the replica lag keeps growing and " * 10
    bundle.messages.append(msg(at(10, 0), "u:ana", long_text))
    analysis = analyze_people(bundle, context)
    question = draft_questions("u:ana", bundle, analysis)[3]
    quote = question.split("\u201c")[1].split("\u201d")[0]
    assert quote.endswith("\u2026")
    assert len(quote) <= 100


def test_unknown_person_raises_not_found(
    planned: tuple[EvidenceBundle, PeopleAnalysis, list[InterviewSuggestion]],
) -> None:
    bundle, analysis, _ = planned
    with pytest.raises(NotFound):
        draft_questions("u:nobody", bundle, analysis)


def test_open_role_and_mention_by_someone_unknown() -> None:
    people = {"p": PersonRecord("p", "Pat", time_zone="UTC")}
    messages = [
        msg(at(10, 1), None, "can <@p> help?", mention_keys=("p",)),
        msg(at(10, 2), "p", "on it"),
        msg(at(10, 3), "q", subtype="channel_join", inviter_key="slack:U77"),
    ]
    context = IncidentContext(
        start=at(10),
        end=at(11),
        started=at(10),
        roles=(RoleAssignment("commander", "p", at(10, 2)),),
    )
    bundle = EvidenceBundle(people=people, messages=messages)
    analysis = analyze_people(bundle, context)
    pat = draft_questions("p", bundle, analysis)
    assert (
        pat[0]
        == "At 10:01 UTC someone mentioned you. What did you understand was being asked of you?"
    )
    assert "You held the commander role from 10:02 UTC. What made that role hard" in " ".join(pat)
    q = draft_questions("q", bundle, analysis)
    assert q[0].startswith("At 10:03 UTC slack:U77 added you to the channel.")
    suggestions = suggest_interviewees(analysis, bundle, context)
    assert reasons_of(suggestions, "p")["role_holder"] == "held the role(s): commander"
    assert [s.priority for s in suggestions] == [6]  # key player 3 + commander 3
