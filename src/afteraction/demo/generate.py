"""Build the demo organisation of Brightloop (a fictional payments company) and two years of
incident history, deterministically from a seed and a reference date.

What lives here: the generator of historical incidents (who responded, what they wrote,
linked and promised), which draws from the vocabulary of `data/history.yaml`
(`story.vocabulary`) and takes its times from `timings`, and `build_org`, which joins them
with the directory of `data/org.yaml` and the flagship incident (`flagship`). Nothing here reads the
clock, touches a database or the network: the same seed and the same `today` always give
the same `DemoOrg`.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from afteraction.demo import timings
from afteraction.demo.flagship import build_flagship_incident
from afteraction.demo.model import (
    DemoActionItem,
    DemoIncident,
    DemoOrg,
    DemoPerson,
    DemoReference,
    DemoRole,
    DemoService,
    DemoUpdate,
    team_on,
)
from afteraction.demo.story import Directory, Vocabulary, directory, people_on, vocabulary

CHANGE_TAGS = frozenset({"deploy", "config-change", "migration", "canary"})
"""Tags of incidents that followed a change: they more often link a pull request."""
INFRA_SERVICES = ("postgres-fleet", "deploy-pipeline")
"""Services whose code lives in the infra repository."""


def _short_id(prefix: str, seed_text: str, length: int) -> str:
    """A stable, Slack- or PagerDuty-looking id derived from text (no randomness)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    number = int.from_bytes(hashlib.sha256(seed_text.encode()).digest()[:12], "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, len(alphabet))
        chars.append(alphabet[digit])
    return prefix + "".join(chars)


@dataclass(slots=True)
class _Ctx:
    rng: random.Random
    today: date
    people: tuple[DemoPerson, ...]
    services: dict[str, DemoService]
    counters: dict[str, int]
    org: Directory
    words: Vocabulary

    def next_number(self, key: str, first: int) -> int:
        value = self.counters.get(key, first) + self.rng.randint(1, 9)
        self.counters[key] = value
        return value

    def email(self, key: str) -> str:
        return self.org.email(key)


def _utc(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _pick_shape(rng: random.Random, ctx: _Ctx) -> tuple[str, str, str, tuple[str, ...], str | None]:
    """Choose (type, title, service slug, tags, problem key) for one incident."""
    slugs = sorted(ctx.services)
    roll = rng.random()
    words = ctx.words
    if roll < 0.03:
        svc = rng.choice(words.kinds["security"].services)
        title = rng.choice(words.kinds["security"].titles).format(svc=svc)
        service = "auth-service" if "auth-service" in title else svc
        return "security", title, service, ("security",), None
    if roll < 0.055:
        svc = rng.choice(words.kinds["gameday"].services)
        title = rng.choice(words.kinds["gameday"].titles).format(svc=svc)
        return "gameday", title, svc, ("gameday",), None
    if roll < 0.09:
        svc = rng.choice(words.kinds["maintenance"].services)
        title = rng.choice(words.kinds["maintenance"].titles).format(svc=svc)
        return "maintenance", title, svc, ("planned",), None
    if roll < 0.27:
        problem = rng.choices(list(words.problem_incidents), weights=words.problem_weights)[0]
        title, svc, tags = rng.choice(words.problem_incidents[problem])
        if svc == "*":
            svc = rng.choice(words.other_services)
        return "default", title.format(svc=svc), svc, tags, problem
    weights = [
        5 if ctx.services[s].tier == 1 else 3 if ctx.services[s].tier == 2 else 1 for s in slugs
    ]
    svc = rng.choices(slugs, weights=weights)[0]
    title, tags = rng.choice(ctx.words.generic_incidents)
    return "default", title.format(svc=svc), svc, tags, None


def _severity(rng: random.Random, kind: str) -> str:
    if kind in ("gameday", "maintenance"):
        return rng.choice(["SEV3", "SEV4"])
    return rng.choices(["SEV1", "SEV2", "SEV3", "SEV4"], weights=[4, 17, 46, 33])[0]


def _active_members(ctx: _Ctx, team: str, day: date) -> list[DemoPerson]:
    return [p for p in ctx.people if team_on(p, day) == team]


def _responders(ctx: _Ctx, service: str, tags: tuple[str, ...], day: date, size: int) -> list[str]:
    """Emails of the people who worked the incident: owners first, then the usual helpers."""
    rng = ctx.rng
    team = ctx.services[service].team
    members = [p for p in _active_members(ctx, team, day) if "Manager" not in p.title]
    rng.shuffle(members)
    chosen = [p.email for p in members[:size]]
    helpers = []
    occasions = ctx.words.helpers
    if team == "payments" or service == "postgres-fleet" or "database" in tags:
        helpers.append((occasions["database"][0][0], occasions["database"][1]))
    if "deploy" in tags or "kubernetes" in tags:
        helpers.append((occasions["deploys"][0][0], occasions["deploys"][1]))
    helpers.append((rng.choice(occasions["anyone"][0]), occasions["anyone"][1]))
    for key, chance in helpers:
        email = ctx.email(key)
        person = next(p for p in ctx.people if p.email == email)
        if rng.random() < chance and team_on(person, day) and email not in chosen:
            chosen.append(email)
    return chosen or [ctx.email(ctx.words.commanders[0])]


def _commander(ctx: _Ctx, severity: str, responders: list[str], day: date) -> str:
    if severity in ("SEV1", "SEV2"):
        emails = [ctx.email(key) for key in ctx.words.commanders]
        candidates = [e for e in emails if team_on(_by_email(ctx, e), day) is not None]
        return ctx.rng.choice(candidates)
    return responders[0]


def _by_email(ctx: _Ctx, email: str) -> DemoPerson:
    return next(p for p in ctx.people if p.email == email)


def _roles(
    ctx: _Ctx, severity: str, commander: str, responders: list[str], ms: dict[str, datetime | None]
) -> tuple[DemoRole, ...]:
    started = ms["started"]
    assert started is not None
    begin = ms["declared"] or ms["acknowledged"] or started
    end = ms["resolved"]
    roles = [DemoRole("commander", commander, begin, end)]
    for email in responders:
        if email != commander:
            joined = begin + timedelta(minutes=ctx.rng.randint(0, 40))
            roles.append(DemoRole("responder", email, joined, end))
    day = started.date()
    if severity in ("SEV1", "SEV2"):
        support = _active_members(ctx, "support", day)
        if support:
            comms = ctx.rng.choice(support).email
            roles.append(DemoRole("communications lead", comms, begin + timedelta(minutes=5), end))
        if ctx.rng.random() < 0.3 and len(responders) > 1:
            roles.append(DemoRole("scribe", responders[-1], begin, end))
        if end is not None:
            outsiders = [
                p
                for p in ctx.people
                if team_on(p, day)
                and p.email not in responders
                and p.email != commander
                and p.department == "Engineering"
            ]
            investigator = ctx.rng.choice(outsiders).email
            roles.append(DemoRole("investigator", investigator, end, None))
    return tuple(roles)


def _updates(
    ctx: _Ctx,
    severity: str,
    status: str,
    roles: tuple[DemoRole, ...],
    ms: dict[str, datetime | None],
    service: str,
) -> tuple[DemoUpdate, ...]:
    author = next(
        (r.person_email for r in roles if r.role == "communications lead"), roles[0].person_email
    )
    if severity == "SEV4" and ctx.rng.random() < 0.6:
        return ()
    first = ms["declared"] or ms["acknowledged"] or ms["started"]
    assert first is not None
    steps: list[tuple[str, datetime | None]] = [
        ("investigating", first + timedelta(minutes=3)),
        ("identified", None),
        ("monitoring", ms["mitigated"]),
        ("resolved", ms["resolved"]),
    ]
    ack, mitigated = ms["acknowledged"], ms["mitigated"]
    if ack and mitigated and status not in ("triage", "investigating"):
        steps[1] = ("identified", ack + (mitigated - ack) / 2)
    updates = []
    last = first
    for state, at in steps:
        if at is None or at < last:
            continue
        body = ctx.words.update_bodies[state].format(what=f"errors on {service}")
        updates.append(DemoUpdate(at, state, body, author))
        last = at
    return tuple(updates)


def _repo_for(service: str) -> str:
    return "infra" if service in INFRA_SERVICES else service


def _references(ctx: _Ctx, service: str, tags: tuple[str, ...]) -> tuple[DemoReference, ...]:
    rng = ctx.rng
    team = ctx.services[service].team
    refs = []
    changey = bool(CHANGE_TAGS & set(tags))
    links = ctx.org.links
    if rng.random() < (0.75 if changey else 0.3):
        repo = _repo_for(service)
        number = ctx.next_number("pr:" + repo, rng.randint(300, 1500))
        url = f"{links['github']}/{repo}/pull/{number}"
        refs.append(DemoReference("github pr", url, f"{repo}#{number}"))
    if rng.random() < 0.7:
        key = ctx.org.jira_keys[team]
        number = ctx.next_number("jira:" + key, rng.randint(100, 600))
        refs.append(DemoReference("jira", f"{links['jira']}/{key}-{number}", f"{key}-{number}"))
    if rng.random() < 0.5:
        uid = _short_id("", "dash:" + service, 9).lower()
        url = f"{links['grafana']}/{uid}/{service}-overview"
        refs.append(DemoReference("dashboard", url, f"{service} overview"))
    if rng.random() < 0.15:
        url = f"{links['github']}/runbooks/blob/main/{service}.md"
        refs.append(DemoReference("doc", url, f"{service} runbook"))
    return tuple(refs)


def _action_items(
    ctx: _Ctx, severity: str, service: str, owners: list[str], ms: dict[str, datetime | None]
) -> tuple[DemoActionItem, ...]:
    rng = ctx.rng
    low, high = {"SEV1": (3, 6), "SEV2": (2, 4), "SEV3": (0, 3), "SEV4": (0, 1)}[severity]
    anchor = (ms["resolved"] or ms["started"] or _utc(ctx.today)).date()
    team = ctx.services[service].team
    items = []
    for title, kind in rng.sample(ctx.words.action_items, rng.randint(low, high)):
        due = anchor + timedelta(days=rng.randint(7, 60))
        if due < ctx.today:
            status = rng.choices(["done", "wont do", "in progress", "open"], [55, 10, 12, 23])[0]
        else:
            status = rng.choices(["open", "in progress", "done"], [45, 35, 20])[0]
        key = ctx.org.jira_keys[team]
        number = ctx.next_number("jira:" + key, rng.randint(100, 600))
        items.append(
            DemoActionItem(
                title=title.format(svc=service, team=team),
                kind=kind,
                owner_email=rng.choice(owners),
                due=due,
                status=status,
                url=f"{ctx.org.links['jira']}/{key}-{number}",
            )
        )
    return tuple(items)


def _incident(
    ctx: _Ctx, number: int, started: datetime, status: str, early: bool, limit: datetime
) -> DemoIncident:
    rng = ctx.rng
    kind, title, service, tags, problem = _pick_shape(rng, ctx)
    severity = _severity(rng, kind)
    if status in ("declined", "merged", "triage"):
        severity = "SEV4" if status != "merged" else severity
    ms = timings.milestones(rng, started, severity, kind, early, limit)
    timings.settle(rng, ms, status, limit)
    day = started.date()
    size = {"SEV1": 4, "SEV2": 3, "SEV3": 2, "SEV4": 1}[severity]
    responders = _responders(ctx, service, tags, day, rng.randint(1, size))
    commander = _commander(ctx, severity, responders, day)
    roles = _roles(ctx, severity, commander, responders, ms)
    team = ctx.services[service].team
    teams = tuple(dict.fromkeys([team, *(ctx.services[s].team for s in [service])]))
    helper_teams = {t for r in roles if (t := team_on(_by_email(ctx, r.person_email), day))}
    private = kind == "security" and rng.random() < 0.55
    summary = f"{title}. Owned by the {team} team; {len(responders)} people responded."
    return DemoIncident(
        number=number,
        title=title,
        summary=summary,
        severity=severity,
        status=status,
        type=kind,
        private=private,
        services=(service,),
        teams=teams + tuple(sorted(helper_teams - set(teams) - {"support"})),
        tags=tags,
        customer_impact=ctx.words.impact_by_severity[severity]
        if kind == "default"
        else "None (planned).",
        milestones=ms,
        roles=roles,
        updates=_updates(ctx, severity, status, roles, ms, service),
        action_items=_action_items(ctx, severity, service, [commander, *responders], ms)
        if status in ("closed", "resolved")
        else (),
        references=_references(ctx, service, tags),
        problem=problem,
        impacts=timings.impacts(number, kind, ms),
    )


def build_history(ctx: _Ctx, first: datetime, last: datetime) -> list[DemoIncident]:
    """Roughly 300 incidents between `first` and `last`, numbered in order of start."""
    count = ctx.rng.randint(290, 310)
    starts = timings.start_times(ctx.rng, count, first, last)
    statuses = timings.statuses(ctx.rng, starts, ctx.today)
    limit = _utc(ctx.today) - timedelta(hours=6)
    early_until = first + (last - first) / 3
    return [
        _incident(ctx, number, started, status, started < early_until, limit)
        for number, (started, status) in enumerate(zip(starts, statuses, strict=True), start=1)
    ]


def build_org(seed: int = 7, *, today: date | None = None) -> DemoOrg:
    """The whole demo organisation, built for `today` (default: the story date of
    `data/org.yaml`); the flagship incident is the highest-numbered one."""
    org = directory()
    today = today or org.story_date
    people = people_on(today)
    services = {s.slug: s for s in org.services}
    ctx = _Ctx(random.Random(seed), today, people, services, {}, org, vocabulary())
    flagship_day = today - timedelta(days=org.flagship_days_ago)
    first = _utc(today - timedelta(days=org.history_days))
    history = build_history(ctx, first, _utc(flagship_day - timedelta(days=2)))
    flagship = build_flagship_incident(len(history) + 1, people, today)
    return DemoOrg(
        teams=org.teams,
        people=people,
        services=org.services,
        problems=org.problems,
        incidents=(*history, flagship),
    )
