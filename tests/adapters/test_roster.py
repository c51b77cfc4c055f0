"""HR roster CSV parsing and identity matching."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from tests.adapters._shared_fixtures import DATA

from afteraction.adapters.roster import match_identities, normalise_name, parse_roster
from afteraction.core.errors import ImportFailed
from afteraction.core.evidence import MembershipRecord, PersonRecord


def test_basic_roster_people_managers_extras_and_memberships() -> None:
    roster = parse_roster(DATA / "roster_basic.csv")
    assert [p.key for p in roster.people] == [
        "ada@example.com",
        "jose@example.com",
        "grace@example.com",
        "lin@example.com",
    ]
    ada, jose, grace, lin = roster.people
    assert (ada.name, ada.email, ada.location, ada.title, ada.time_zone) == (
        "Ada Lovelace",
        "ada@example.com",
        "London",
        "Director",
        "Europe/London",
    )
    assert jose.start_date == date(2021, 3, 4)  # M/D/YYYY
    assert jose.manager_key == "ada@example.com"  # by name
    assert grace.manager_key == "ada@example.com"  # by email
    assert grace.end_date == date(2023, 6, 30)
    assert lin.manager_key is None
    assert roster.warnings == [
        "roster_basic.csv: row 5: manager 'Nobody Known' is not in the roster"
    ]
    assert roster.teams == ["Platform", "Payments"]
    assert roster.memberships[2] == MembershipRecord(
        "grace@example.com", "Platform", date(2020, 2, 1), date(2023, 6, 30)
    )
    assert roster.extra_columns["ada@example.com"] == {"costCenter": "CC-1"}


def test_team_change_history_both_formats() -> None:
    roster = parse_roster(DATA / "roster_history.csv")
    assert roster.memberships == [
        MembershipRecord("alan@example.com", "Payments", date(2020, 1, 6), date(2022, 1, 10)),
        MembershipRecord("alan@example.com", "Search", date(2022, 1, 10), None),
        MembershipRecord("karen@example.com", "Research", date(2018, 3, 1), date(2021, 9, 1)),
        MembershipRecord("karen@example.com", "Search", date(2021, 9, 1), None),
    ]
    assert roster.warnings == []


def test_bom_is_ignored_and_cp1252_falls_back_with_a_warning() -> None:
    assert parse_roster(DATA / "roster_bom.csv").people[0].name == "Ada Lovelace"
    roster = parse_roster(DATA / "roster_cp1252.csv")
    assert roster.people[0].name == "Renée Dupont"
    assert roster.teams == ["Café"]
    assert roster.warnings == ["roster_cp1252.csv: not UTF-8 (line 2); read as Windows-1252"]


def test_duplicate_email_names_both_rows() -> None:
    with pytest.raises(ImportFailed) as info:
        parse_roster(DATA / "roster_duplicate.csv")
    assert "rows 2 and 3" in str(info.value)
    assert info.value.where == "roster_duplicate.csv: row 3"


def test_streams_header_variants_and_column_mapping() -> None:
    text = "Full Name,E-mail Address,Dept,Time_Zone,Squad\nBob Ross,bob@x.io,Art,tz/x,Paint\n"
    roster = parse_roster(io.StringIO(text), columns={"Squad": "team"})
    bob = roster.people[0]
    assert (bob.key, bob.department, bob.time_zone) == ("bob@x.io", "Art", "tz/x")
    assert roster.teams == ["Paint"]
    binary = parse_roster(io.BytesIO(b"name,team\nNo Mail,Ops\n"))
    assert binary.people[0].key == "name:No Mail"


def test_hostile_rows() -> None:
    with pytest.raises(ImportFailed) as info:
        parse_roster(io.StringIO("name,startDate\nA B,31/31/2020\n"))
    assert info.value.where == "roster.csv: row 2, column startDate"
    with pytest.raises(ImportFailed, match="no 'name' or 'email'"):
        parse_roster(io.StringIO("foo,bar\n1,2\n"))
    with pytest.raises(ImportFailed, match="not 'YYYY-MM-DD Team'"):
        parse_roster(io.StringIO("name,teamHistory\nA B,2020-01-01\n"))
    roster = parse_roster(io.StringIO("name,email,team,previousTeam\n,,X,\nA B,,T,Old,extra\n"))
    assert roster.warnings == [
        "roster.csv: row 2: no name and no email; row skipped",
        "roster.csv: row 3: 1 cell(s) beyond the header ignored",
        "roster.csv: row 3: previousTeam without teamChangeDate ignored",
    ]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="cannot read file"):
        parse_roster(tmp_path / "none.csv")


def test_normalise_name() -> None:
    assert normalise_name("  José  Núñez-O'Neil ") == "jose nunez o neil"


def test_match_identities_email_then_full_name_never_first_name() -> None:
    people = [
        PersonRecord("ada@example.com", "Ada Lovelace", email="ada@example.com"),
        PersonRecord("jose@example.com", "José Núñez", email="jose@example.com"),
        PersonRecord("name:Sam", "Sam"),
        PersonRecord("s1@x", "Sam Lee"),
        PersonRecord("s2@x", "Sam Lee"),
    ]
    identities = [
        PersonRecord("slack:U1", "A. L.", email="ADA@example.com"),
        PersonRecord("pagerduty:P1", "jose nunez"),
        PersonRecord("slack:U2", "Sam"),
        PersonRecord("slack:U3", "Sam Lee"),  # ambiguous
        PersonRecord("slack:U4", "Ada"),  # first name alone
    ]
    matches, unmatched = match_identities(people, identities)
    assert [(m.identity_key, m.person_key, m.by) for m in matches] == [
        ("slack:U1", "ada@example.com", "email"),
        ("pagerduty:P1", "jose@example.com", "name"),
    ]
    assert [u.key for u in unmatched] == ["slack:U2", "slack:U3", "slack:U4"]
