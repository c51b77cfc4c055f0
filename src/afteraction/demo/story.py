"""The demo's story, read from its data files under `demo/data/`: the organisation
(`org.yaml`), the vocabulary of the generated history (`history.yaml`) and the flagship
incident (`flagship/`).

Lives here: reading and checking those files, and the organisation's records of `model`
with every date moved from the story date to the day the demo is built for. Does not live
here: generating the history (`generate`), the flagship record (`flagship`), database writes
(`load`, `analysis`). A file that does not have its expected shape raises `StoryError`
naming the file, the entry and the key.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from afteraction.demo.model import DemoPerson, DemoProblem, DemoService, DemoTeam

DATA = Path(__file__).resolve().parent / "data"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StoryError(ValueError):
    """A demo data file is missing or does not have the shape its reader expects."""


@cache
def read(relative: str) -> Any:
    """The parsed YAML file `relative` (to `demo/data/`); read once per process."""
    text = read_text(relative)
    try:
        return yaml.load(text, Loader=_LOADER)  # a safe loader: plain data only
    except yaml.YAMLError as error:
        raise StoryError(f"{relative}: not valid YAML: {error}") from error


def read_text(relative: str) -> str:
    """The text of the data file `relative` (to `demo/data/`)."""
    try:
        return (DATA / relative).read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise StoryError(f"demo data file missing: {DATA / relative}") from error


def fields(
    value: object, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    """`value` as a mapping with every `required` key and no key outside `optional`."""
    if not isinstance(value, dict):
        raise StoryError(f"{where}: expected a mapping, got {type(value).__name__}")
    missing = [key for key in required if key not in value]
    unknown = sorted(str(key) for key in value if key not in required and key not in optional)
    if missing or unknown:
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unknown {', '.join(unknown)}"] if unknown else []
        raise StoryError(f"{where}: {'; '.join(problems)}")
    return value


def mapping(value: object, where: str) -> dict[str, Any]:
    """`value` as a mapping with any keys."""
    return fields(value, where, (), tuple(value) if isinstance(value, dict) else ())


def items(value: object, where: str) -> list[Any]:
    """`value` as a list (an absent list is empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise StoryError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def moment(value: object, where: str) -> datetime:
    """A timestamp written with its zone (`2026-10-20T20:31:00Z`), in UTC."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise StoryError(f"{where}: expected a time with its zone, like 2026-10-20T20:31:00Z")
    return value.astimezone(UTC)


def day(value: object, where: str) -> date:
    """A calendar date written as YYYY-MM-DD."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise StoryError(f"{where}: expected a date like 2026-10-20, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Directory:
    """The organisation as of the story date."""

    story_date: date
    domain: str
    links: dict[str, str]
    """Base URLs by system: github (the organisation), jira (issue browser), grafana."""
    history_days: int
    flagship_days_ago: int
    teams: tuple[DemoTeam, ...]
    jira_keys: dict[str, str]
    people: tuple[DemoPerson, ...]
    services: tuple[DemoService, ...]
    problems: tuple[DemoProblem, ...]

    def email(self, key: str) -> str:
        """The email of the person whose roster key is `key`."""
        return f"{key}@{self.domain}"

    def shift(self, today: date) -> timedelta:
        """How far every date of the story moves when the demo is built for `today`."""
        return today - self.story_date


@cache
def directory() -> Directory:
    """The organisation of `org.yaml`."""
    name = "org.yaml"
    top = fields(
        read(name),
        name,
        ("story_date", "domain", "links", "history_days", "flagship_days_ago", "teams"),
        ("people", "services", "problems"),
    )
    domain = str(top["domain"])
    teams = [
        fields(t, f"{name}: teams[{i}]", ("slug", "name", "jira_key", "description"))
        for i, t in enumerate(items(top["teams"], f"{name}: teams"))
    ]
    return Directory(
        story_date=day(top["story_date"], f"{name}: story_date"),
        domain=domain,
        links={str(k): str(v) for k, v in mapping(top["links"], f"{name}: links").items()},
        history_days=int(top["history_days"]),
        flagship_days_ago=int(top["flagship_days_ago"]),
        teams=tuple(DemoTeam(t["name"], t["slug"], t["description"]) for t in teams),
        jira_keys={t["slug"]: t["jira_key"] for t in teams},
        people=tuple(
            _person(p, f"{name}: people[{i}]", domain)
            for i, p in enumerate(items(top.get("people"), f"{name}: people"))
        ),
        services=tuple(
            DemoService(**fields(s, f"{name}: services[{i}]", _SERVICE))
            for i, s in enumerate(items(top.get("services"), f"{name}: services"))
        ),
        problems=tuple(
            DemoProblem(**fields(p, f"{name}: problems[{i}]", _PROBLEM))
            for i, p in enumerate(items(top.get("problems"), f"{name}: problems"))
        ),
    )


_SERVICE = ("name", "slug", "team", "tier", "description")
_PROBLEM = ("key", "title", "description", "status", "workaround")
_PERSON = ("key", "name", "title", "team", "manager", "start_date", "time_zone", "location")
_PERSON_IDS = ("slack_id", "pagerduty_id", "github_login")


def _person(value: object, where: str, domain: str) -> DemoPerson:
    row = fields(value, where, _PERSON + _PERSON_IDS, ("department", "end_date", "past_teams"))
    past = tuple(
        (str(p["team"]), day(p["start"], f"{where}: past_teams"), day(p["end"], f"{where}"))
        for p in (
            fields(item, f"{where}: past_teams[{i}]", ("team", "start", "end"))
            for i, item in enumerate(items(row.get("past_teams"), f"{where}: past_teams"))
        )
    )
    end = row.get("end_date")
    return DemoPerson(
        email=f"{row['key']}@{domain}",
        name=str(row["name"]),
        title=str(row["title"]),
        department=str(row.get("department", "Engineering")),
        team=str(row["team"]),
        manager_email=f"{row['manager']}@{domain}" if row["manager"] else None,
        start_date=day(row["start_date"], f"{where}: start_date"),
        end_date=day(end, f"{where}: end_date") if end is not None else None,
        time_zone=str(row["time_zone"]),
        location=str(row["location"]),
        slack_id=str(row["slack_id"]),
        pagerduty_id=str(row["pagerduty_id"]),
        github_login=str(row["github_login"]),
        past_teams=past,
    )


def people_on(today: date) -> tuple[DemoPerson, ...]:
    """The people of `org.yaml`, their dates moved to a demo built for `today`."""
    org = directory()
    shift = org.shift(today)
    if not shift:
        return org.people
    return tuple(
        dataclasses.replace(
            person,
            start_date=person.start_date + shift,
            end_date=person.end_date + shift if person.end_date else None,
            past_teams=tuple((t, a + shift, b + shift) for t, a, b in person.past_teams),
        )
        for person in org.people
    )


@dataclass(frozen=True, slots=True)
class Kind:
    """Incidents of one type other than default: the services they touch, their titles."""

    services: tuple[str, ...]
    titles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What the history generator draws from (`history.yaml`); people are roster keys."""

    commanders: tuple[str, ...]
    helpers: dict[str, tuple[tuple[str, ...], float]]
    """By occasion (database, deploys, anyone): the people, one of whom may join, and how
    likely that is."""
    problem_incidents: dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]]
    """By problem key: (title, service slug or "*", tags) of its incidents."""
    problem_weights: tuple[int, ...]
    other_services: tuple[str, ...]
    generic_incidents: tuple[tuple[str, tuple[str, ...]], ...]
    kinds: dict[str, Kind]
    impact_by_severity: dict[str, str]
    action_items: tuple[tuple[str, str], ...]
    update_bodies: dict[str, str]


@cache
def vocabulary() -> Vocabulary:
    """The vocabulary of `history.yaml`."""
    name = "history.yaml"
    kinds = ("security", "gameday", "maintenance")
    top = fields(
        read(name),
        name,
        ("commanders", "helpers", "problem_incidents", "other_services", "generic_incidents")
        + kinds
        + ("impact_by_severity", "action_templates", "update_bodies"),
    )
    helpers = {}
    for occasion, value in mapping(top["helpers"], f"{name}: helpers").items():
        where = f"{name}: helpers: {occasion}"
        row = fields(value, where, ("chance",), ("person", "people"))
        people = [row["person"]] if "person" in row else items(row.get("people"), where)
        helpers[str(occasion)] = (tuple(str(p) for p in people), float(row["chance"]))
    problems = [
        fields(p, f"{name}: problem_incidents[{i}]", ("problem", "weight", "incidents"))
        for i, p in enumerate(items(top["problem_incidents"], f"{name}: problem_incidents"))
    ]
    return Vocabulary(
        commanders=tuple(items(top["commanders"], f"{name}: commanders")),
        helpers=helpers,
        problem_incidents={
            p["problem"]: tuple(
                (i["title"], i["service"], tuple(i["tags"]))
                for i in (
                    fields(x, f"{name}: {p['problem']}", ("title", "service", "tags"))
                    for x in items(p["incidents"], f"{name}: {p['problem']}")
                )
            )
            for p in problems
        },
        problem_weights=tuple(int(p["weight"]) for p in problems),
        other_services=tuple(items(top["other_services"], f"{name}: other_services")),
        generic_incidents=tuple(
            (g["title"], tuple(g["tags"]))
            for g in (
                fields(x, f"{name}: generic_incidents[{i}]", ("title", "tags"))
                for i, x in enumerate(items(top["generic_incidents"], f"{name}: generic"))
            )
        ),
        kinds={
            kind: Kind(
                tuple(row["services"]),
                tuple(items(row["titles"], f"{name}: {kind}: titles")),
            )
            for kind in kinds
            for row in [fields(top[kind], f"{name}: {kind}", ("services", "titles"))]
        },
        impact_by_severity=mapping(top["impact_by_severity"], f"{name}: impact_by_severity"),
        action_items=tuple(
            (a["title"], a["kind"])
            for a in (
                fields(x, f"{name}: action_templates[{i}]", ("title", "kind"))
                for i, x in enumerate(items(top["action_templates"], f"{name}: actions"))
            )
        ),
        update_bodies=mapping(top["update_bodies"], f"{name}: update_bodies"),
    )
