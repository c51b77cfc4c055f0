"""Realism and determinism of the generated demo organisation and incident history."""

from __future__ import annotations

import re
import statistics
from datetime import date, timedelta

import pytest

from afteraction.core.incidents import (
    ACTION_ITEM_KINDS,
    ACTION_ITEM_STATUSES,
    ACTIVE_STATUSES,
    DEFAULT_LIFECYCLE,
    DEFAULT_ROLES,
    INCIDENT_TYPES,
    MILESTONES,
    PROBLEM_STATUSES,
    REFERENCE_KINDS,
    milestone_order_problems,
)
from afteraction.demo.generate import build_org
from afteraction.demo.model import DemoOrg, team_on

TODAY = date(2026, 11, 2)
ORDER = ("started", "detected", "acknowledged", "mitigated", "resolved", "closed")


@pytest.fixture(scope="module")
def org() -> DemoOrg:
    return build_org()


def history(org: DemoOrg) -> list:
    return [i for i in org.incidents if not i.flagship]


def test_same_seed_gives_identical_org(org):
    assert build_org() == org
    assert build_org(7, today=TODAY) == org


def test_other_seed_changes_history_not_directory(org):
    other = build_org(8)
    assert other.people == org.people
    assert [i.title for i in other.incidents] != [i.title for i in org.incidents]


def test_directory_sizes(org):
    assert 35 <= len(org.people) <= 45
    assert 6 <= len(org.teams) <= 7
    assert 11 <= len(org.services) <= 14
    assert len(org.problems) >= 4
    assert 280 <= len(history(org)) <= 320


def test_people_look_like_an_organisation(org):
    emails = {p.email for p in org.people}
    assert len(emails) == len(org.people)
    assert len({p.slack_id for p in org.people}) == len(org.people)
    assert all(p.slack_id.startswith("U") and p.pagerduty_id.startswith("P") for p in org.people)
    assert all(p.manager_email is None or p.manager_email in emails for p in org.people)
    assert sum(p.manager_email is None for p in org.people) == 1
    assert any("Manager" in p.title for p in org.people)
    continents = {p.time_zone.split("/")[0] for p in org.people}
    assert {"America", "Europe", "Asia"} <= continents
    newcomers = [p for p in org.people if (TODAY - p.start_date).days < 183]
    assert len(newcomers) >= 2
    assert len([p for p in org.people if p.past_teams]) >= 3
    leavers = [p for p in org.people if p.end_date is not None]
    assert len(leavers) == 1


def test_team_changes_are_consistent(org):
    slugs = {t.slug for t in org.teams}
    for person in org.people:
        assert person.team in slugs
        for slug, start, end in person.past_teams:
            assert slug in slugs and slug != person.team
            assert person.start_date <= start < end <= TODAY
            assert team_on(person, start) == slug
            assert team_on(person, end) == person.team
    leaver = next(p for p in org.people if p.end_date)
    assert team_on(leaver, leaver.end_date) is None
    assert team_on(leaver, leaver.end_date - timedelta(days=1)) == leaver.team
    assert org.team_on(leaver.email, leaver.start_date - timedelta(days=1)) is None
    with pytest.raises(KeyError):
        org.person("nobody@example.invalid")


def test_leaver_is_referenced_by_old_incidents(org):
    leaver = next(p for p in org.people if p.end_date)
    touched = [i for i in org.incidents for r in i.roles if r.person_email == leaver.email]
    assert touched
    assert all(i.milestones["started"].date() < leaver.end_date for i in touched)


def test_every_reference_exists(org):
    emails = {p.email for p in org.people}
    teams = {t.slug for t in org.teams}
    services = {s.slug for s in org.services}
    problems = {p.key for p in org.problems}
    assert all(s.team in teams and s.tier in (1, 2, 3) for s in org.services)
    assert all(p.status in PROBLEM_STATUSES for p in org.problems)
    for incident in org.incidents:
        assert set(incident.services) <= services
        assert set(incident.teams) <= teams
        assert incident.problem is None or incident.problem in problems
        assert {r.person_email for r in incident.roles} <= emails
        assert {u.author_email for u in incident.updates} <= emails
        assert {a.owner_email for a in incident.action_items} <= emails


def test_vocabulary_matches_core(org):
    statuses = set(DEFAULT_LIFECYCLE.statuses)
    for incident in org.incidents:
        assert incident.status in statuses
        assert incident.type in INCIDENT_TYPES
        assert incident.severity in ("SEV1", "SEV2", "SEV3", "SEV4")
        assert set(incident.milestones) == set(MILESTONES)
        assert all(r.role in DEFAULT_ROLES for r in incident.roles)
        assert all(a.kind in ACTION_ITEM_KINDS for a in incident.action_items)
        assert all(a.status in ACTION_ITEM_STATUSES for a in incident.action_items)
        assert all(r.kind in REFERENCE_KINDS for r in incident.references)
        assert all(u.status in statuses for u in incident.updates)


def test_numbers_follow_start_order_and_flagship_is_last(org):
    numbers = [i.number for i in org.incidents]
    assert numbers == sorted(numbers) == list(range(1, len(numbers) + 1))
    starts = [i.milestones["started"] for i in org.incidents]
    assert starts == sorted(starts)
    assert [i.flagship for i in org.incidents].count(True) == 1
    assert org.incidents[-1].flagship


def test_history_covers_two_years(org):
    first = history(org)[0].milestones["started"].date()
    last = history(org)[-1].milestones["started"].date()
    assert (TODAY - first).days >= 700
    assert (TODAY - last).days <= 45


def test_milestones_are_aware_ordered_and_in_the_past(org):
    for incident in org.incidents:
        values = incident.milestones
        assert values["started"] is not None
        present = [values[name] for name in ORDER if values[name] is not None]
        assert present == sorted(present), incident.number
        assert milestone_order_problems(values) == []
        for value in values.values():
            if value is not None:
                assert value.utcoffset() == timedelta(0)
                assert value.date() < TODAY


def test_status_agrees_with_milestones(org):
    for incident in org.incidents:
        ms, status = incident.milestones, incident.status
        if status == "closed":
            assert ms["resolved"] is not None and ms["closed"] is not None
        elif status == "resolved":
            assert ms["resolved"] is not None and ms["closed"] is None
        else:
            assert ms["resolved"] is None and ms["closed"] is None
        if status == "monitoring":
            assert ms["mitigated"] is not None
        if status in ("investigating", "identified"):
            assert ms["acknowledged"] is not None


def test_status_mix(org):
    statuses = [i.status for i in history(org)]
    assert statuses.count("closed") / len(statuses) > 0.85
    assert 2 <= sum(s in ACTIVE_STATUSES for s in statuses) <= 8
    assert statuses.count("resolved") >= 2
    assert "declined" in statuses and "merged" in statuses


def test_severity_and_types_are_skewed(org):
    severities = [i.severity for i in history(org)]
    share = {s: severities.count(s) / len(severities) for s in ("SEV1", "SEV2", "SEV3", "SEV4")}
    assert share["SEV1"] < 0.05 < share["SEV2"] < share["SEV3"]
    types = {t: [i.type for i in history(org)].count(t) for t in INCIDENT_TYPES}
    assert types["default"] > 0.8 * len(severities)
    assert min(types.values()) >= 2
    assert 2 <= sum(i.private for i in org.incidents) <= 10


def test_durations_are_heavy_tailed(org):
    minutes = [
        (i.milestones["resolved"] - i.milestones["started"]).total_seconds() / 60
        for i in history(org)
        if i.milestones["resolved"] is not None and i.type == "default"
    ]
    median = statistics.median(minutes)
    p90 = statistics.quantiles(minutes, n=10)[-1]
    assert median < 0.7 * statistics.mean(minutes)
    assert p90 / median > 2
    assert max(minutes) > 10 * median


def test_severity_does_not_predict_duration(org):
    def median_for(severity: str) -> float:
        return statistics.median(
            (i.milestones["resolved"] - i.milestones["started"]).total_seconds()
            for i in history(org)
            if i.severity == severity and i.milestones["resolved"] and i.type == "default"
        )

    ratio = median_for("SEV2") / median_for("SEV4")
    assert 0.3 < ratio < 3


def test_some_milestones_are_missing(org):
    closed = [i for i in history(org) if i.status in ("closed", "resolved")]
    missing = [
        i
        for i in closed
        if any(i.milestones[m] is None for m in ("detected", "acknowledged", "mitigated"))
    ]
    assert 0.10 <= len(missing) / len(closed) <= 0.20


def test_problems_recur(org):
    counts = {p.key: 0 for p in org.problems}
    for incident in org.incidents:
        if incident.problem:
            counts[incident.problem] += 1
    assert sum(c >= 3 for c in counts.values()) >= 4


def test_action_items_follow_through_is_partial(org):
    items = [a for i in history(org) for a in i.action_items]
    overdue = [a for a in items if a.due < TODAY]
    done = sum(a.status == "done" for a in overdue) / len(overdue)
    assert 0.4 < done < 0.75
    assert all(a.url.startswith("https://") for a in items)


def test_references_look_real(org):
    refs = [r for i in org.incidents for r in i.references]
    kinds = {r.kind for r in refs}
    assert {"github pr", "jira", "dashboard"} <= kinds
    jira = [r for r in refs if r.kind == "jira"]
    assert all(re.match(r"[A-Z][A-Z0-9_]+-\d+\b", r.title) for r in jira)
    assert all(re.search(r"/browse/[A-Z][A-Z0-9_]+-\d+$", r.url) for r in jira)


def test_roles_and_updates(org):
    for incident in history(org):
        commanders = [r for r in incident.roles if r.role == "commander"]
        assert len(commanders) == 1
        for update in incident.updates:
            assert update.at >= incident.milestones["started"]
