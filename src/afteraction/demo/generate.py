"""Build the demo organisation of Brightloop (a fictional payments company) and two years of
incident history, deterministically from a seed and a reference date.

What lives here: the directory (teams, people, services, problems) and the generator of
historical incidents. The flagship incident and its evidence files live in `flagship`.
Nothing here reads the clock, touches a database or the network: the same seed and the
same `today` always give the same `DemoOrg`.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from afteraction.demo.model import (
    DemoActionItem,
    DemoIncident,
    DemoOrg,
    DemoPerson,
    DemoProblem,
    DemoReference,
    DemoRole,
    DemoService,
    DemoTeam,
    DemoUpdate,
    team_on,
)

DEFAULT_TODAY = date(2026, 11, 2)
DOMAIN = "brightloop.example"
GITHUB_ORG = "brightloop"
JIRA_BASE = "https://brightloop.atlassian.net/browse"
GRAFANA_BASE = "https://grafana.brightloop.example/d"
HISTORY_DAYS = 730
FLAGSHIP_DAYS_AGO = 13
"""The flagship incident starts this many days before `today` (2026-10-20 by default)."""

TEAMS: tuple[DemoTeam, ...] = (
    DemoTeam(
        "Platform", "platform", "Kubernetes clusters, databases, deploy pipeline, on-call tooling."
    ),
    DemoTeam("Payments", "payments", "Payment authorisation, capture, refunds and the ledger."),
    DemoTeam("Checkout", "checkout", "Cart, checkout API and the hosted checkout page."),
    DemoTeam("Data", "data", "Event pipeline, warehouse and merchant reporting."),
    DemoTeam("Identity", "identity", "Login, sessions, API keys and merchant permissions."),
    DemoTeam("Mobile & Edge", "edge", "Edge gateway, CDN, mobile backend-for-frontend and apps."),
    DemoTeam("Customer Support", "support", "Merchant support, status page and escalations."),
)

JIRA_KEYS = {
    "platform": "PLAT",
    "payments": "PAY",
    "checkout": "CHK",
    "data": "DATA",
    "identity": "IDN",
    "edge": "EDGE",
    "support": "SUP",
}


@dataclass(frozen=True, slots=True)
class _P:
    """One roster row; dates are days before `today`."""

    key: str
    name: str
    title: str
    team: str
    manager: str | None
    started: int
    tz: str
    location: str
    department: str = "Engineering"
    left: int | None = None
    past: tuple[tuple[str, int, int], ...] = ()


_LA, _NY = "America/Los_Angeles", "America/New_York"
_LDN, _BER, _DUB = "Europe/London", "Europe/Berlin", "Europe/Dublin"
_KOL, _SGP, _SYD = "Asia/Kolkata", "Asia/Singapore", "Australia/Sydney"

ROSTER: tuple[_P, ...] = (
    _P(
        "elena.marsh", "Elena Marsh", "VP Engineering", "platform", None, 2900, _LA, "San Francisco"
    ),
    _P(
        "ben.carter",
        "Ben Carter",
        "Engineering Manager",
        "platform",
        "elena.marsh",
        1800,
        _LA,
        "San Francisco",
    ),
    _P(
        "maya.thompson",
        "Maya Thompson",
        "Staff Site Reliability Engineer",
        "platform",
        "ben.carter",
        1650,
        _NY,
        "New York",
    ),
    _P(
        "arjun.mehta",
        "Arjun Mehta",
        "Staff Engineer",
        "platform",
        "ben.carter",
        1400,
        _KOL,
        "Bengaluru",
    ),
    _P(
        "lena.vogel",
        "Lena Vogel",
        "Senior Database Reliability Engineer",
        "platform",
        "ben.carter",
        2100,
        _BER,
        "Berlin",
    ),
    _P(
        "kofi.mensah",
        "Kofi Mensah",
        "Site Reliability Engineer",
        "platform",
        "ben.carter",
        900,
        _LDN,
        "London",
        past=(("checkout", 900, 420),),
    ),
    _P(
        "isabel.duarte",
        "Isabel Duarte",
        "Site Reliability Engineer",
        "platform",
        "ben.carter",
        610,
        _DUB,
        "Dublin",
    ),
    _P(
        "hiro.tanaka",
        "Hiro Tanaka",
        "Senior Site Reliability Engineer",
        "platform",
        "ben.carter",
        1200,
        _SYD,
        "Sydney",
    ),
    _P(
        "rahul.iyer",
        "Rahul Iyer",
        "Engineering Manager",
        "payments",
        "elena.marsh",
        1500,
        _LA,
        "San Francisco",
    ),
    _P(
        "daniel.okafor",
        "Daniel Okafor",
        "Senior Software Engineer",
        "payments",
        "rahul.iyer",
        980,
        _LA,
        "Oakland",
    ),
    _P(
        "jordan.reyes",
        "Jordan Reyes",
        "Site Reliability Engineer",
        "payments",
        "rahul.iyer",
        700,
        _NY,
        "Brooklyn",
    ),
    _P(
        "wei.zhang",
        "Wei Zhang",
        "Senior Site Reliability Engineer",
        "payments",
        "rahul.iyer",
        1300,
        _SGP,
        "Singapore",
    ),
    _P(
        "chloe.martin",
        "Chloe Martin",
        "Software Engineer",
        "payments",
        "rahul.iyer",
        95,
        _LDN,
        "London",
    ),
    _P(
        "priya.nair",
        "Priya Nair",
        "Staff Engineer",
        "payments",
        "rahul.iyer",
        1750,
        _KOL,
        "Bengaluru",
    ),
    _P(
        "marta.kowalski",
        "Marta Kowalski",
        "Software Engineer",
        "payments",
        "rahul.iyer",
        520,
        _BER,
        "Berlin",
    ),
    _P(
        "peter.alvarez",
        "Peter Alvarez",
        "Senior Site Reliability Engineer",
        "payments",
        "rahul.iyer",
        2300,
        _NY,
        "Philadelphia",
        left=270,
    ),
    _P(
        "olivia.brooks",
        "Olivia Brooks",
        "Engineering Manager",
        "checkout",
        "elena.marsh",
        1600,
        _NY,
        "New York",
    ),
    _P(
        "ethan.park",
        "Ethan Park",
        "Senior Software Engineer",
        "checkout",
        "olivia.brooks",
        1100,
        _LA,
        "Seattle",
    ),
    _P(
        "aisha.bello",
        "Aisha Bello",
        "Software Engineer",
        "checkout",
        "olivia.brooks",
        800,
        _LDN,
        "London",
    ),
    _P(
        "lucas.ferreira",
        "Lucas Ferreira",
        "Software Engineer",
        "checkout",
        "olivia.brooks",
        650,
        _BER,
        "Berlin",
    ),
    _P(
        "mei.lin",
        "Mei Lin",
        "Software Engineer",
        "checkout",
        "olivia.brooks",
        1000,
        _SGP,
        "Singapore",
        past=(("identity", 1000, 150),),
    ),
    _P(
        "noah.schmidt",
        "Noah Schmidt",
        "Software Engineer",
        "checkout",
        "olivia.brooks",
        60,
        _BER,
        "Hamburg",
    ),
    _P(
        "sarah.cohen",
        "Sarah Cohen",
        "Engineering Manager",
        "data",
        "elena.marsh",
        1350,
        _NY,
        "Boston",
    ),
    _P(
        "nadia.petrova",
        "Nadia Petrova",
        "Senior Data Engineer",
        "data",
        "sarah.cohen",
        1250,
        _BER,
        "Berlin",
    ),
    _P(
        "tomas.herrera",
        "Tomás Herrera",
        "Senior Software Engineer",
        "data",
        "sarah.cohen",
        1900,
        _LA,
        "Los Angeles",
        past=(("payments", 1900, 240),),
    ),
    _P("vikram.rao", "Vikram Rao", "Data Engineer", "data", "sarah.cohen", 450, _KOL, "Pune"),
    _P(
        "emma.walsh", "Emma Walsh", "Analytics Engineer", "data", "sarah.cohen", 380, _DUB, "Dublin"
    ),
    _P(
        "jonas.berg",
        "Jonas Berg",
        "Engineering Manager",
        "identity",
        "elena.marsh",
        1450,
        _BER,
        "Berlin",
    ),
    _P(
        "david.levi",
        "David Levi",
        "Senior Security Engineer",
        "identity",
        "jonas.berg",
        1150,
        _NY,
        "New York",
    ),
    _P(
        "ana.souza", "Ana Souza", "Software Engineer", "identity", "jonas.berg", 560, _SYD, "Sydney"
    ),
    _P(
        "liam.oconnor",
        "Liam O'Connor",
        "Software Engineer",
        "identity",
        "jonas.berg",
        740,
        _LDN,
        "Manchester",
    ),
    _P(
        "yuki.sato",
        "Yuki Sato",
        "Site Reliability Engineer",
        "identity",
        "jonas.berg",
        330,
        _SGP,
        "Singapore",
    ),
    _P(
        "carlos.mendoza",
        "Carlos Mendoza",
        "Engineering Manager",
        "edge",
        "elena.marsh",
        1250,
        _LA,
        "San Diego",
    ),
    _P(
        "sam.oduya",
        "Sam Oduya",
        "Senior Site Reliability Engineer",
        "edge",
        "carlos.mendoza",
        1050,
        _LDN,
        "London",
    ),
    _P(
        "hannah.fischer",
        "Hannah Fischer",
        "iOS Engineer",
        "edge",
        "carlos.mendoza",
        690,
        _BER,
        "Munich",
    ),
    _P(
        "ryan.murphy",
        "Ryan Murphy",
        "Android Engineer",
        "edge",
        "carlos.mendoza",
        870,
        _NY,
        "New York",
    ),
    _P(
        "zoe.adams",
        "Zoe Adams",
        "Software Engineer",
        "edge",
        "carlos.mendoza",
        140,
        _SYD,
        "Melbourne",
    ),
    _P(
        "grace.kim",
        "Grace Kim",
        "Support Operations Manager",
        "support",
        "elena.marsh",
        1550,
        _NY,
        "New York",
        department="Customer Support",
    ),
    _P(
        "omar.haddad",
        "Omar Haddad",
        "Senior Support Engineer",
        "support",
        "grace.kim",
        990,
        _LDN,
        "London",
        department="Customer Support",
    ),
    _P(
        "julia.novak",
        "Julia Novak",
        "Support Engineer",
        "support",
        "grace.kim",
        420,
        _SGP,
        "Singapore",
        department="Customer Support",
    ),
)

SERVICES: tuple[DemoService, ...] = (
    DemoService(
        "Checkout API", "checkout-api", "checkout", 1, "Creates and confirms checkout sessions."
    ),
    DemoService("Cart service", "cart-service", "checkout", 2, "Carts, line items, promotions."),
    DemoService("Payments API", "payments-api", "payments", 1, "Authorises and captures payments."),
    DemoService("Ledger", "ledger", "payments", 1, "Double-entry ledger of money movements."),
    DemoService("Fraud scoring", "fraud-scoring", "payments", 2, "Scores payments for fraud risk."),
    DemoService("Auth service", "auth-service", "identity", 1, "Login, tokens and API keys."),
    DemoService("Session store", "session-store", "identity", 2, "Redis-backed merchant sessions."),
    DemoService("Edge gateway", "edge-gw", "edge", 1, "TLS termination, routing, rate limits."),
    DemoService("Mobile BFF", "mobile-bff", "edge", 2, "Backend for the merchant mobile apps."),
    DemoService("Events pipeline", "events-pipeline", "data", 2, "Kafka topics and consumers."),
    DemoService(
        "Warehouse loader", "warehouse-loader", "data", 3, "Loads events into the warehouse."
    ),
    DemoService("Deploy pipeline", "deploy-pipeline", "platform", 2, "CI, canaries, rollouts."),
    DemoService(
        "Postgres fleet", "postgres-fleet", "platform", 1, "Managed Postgres and pgbouncer."
    ),
)

PROBLEMS: tuple[DemoProblem, ...] = (
    DemoProblem(
        "PRB-101",
        "Ledger connection pool exhaustion under retry or batch load",
        "payments-api holds a ledger connection across retries; bursts of retries or nightly "
        "batch jobs exhaust the pgbouncer pool and payments start timing out.",
        "known error",
        "Raise the pgbouncer reserve pool and terminate idle-in-transaction backends.",
    ),
    DemoProblem(
        "PRB-102",
        "Manual rotation of edge-gw intermediate certificates",
        "Intermediate certificates on edge-gw were rotated by hand from a runbook; expiries "
        "slipped through twice.",
        "resolved",
        "Rotation now automated with cert-manager; alert 21 days before expiry.",
    ),
    DemoProblem(
        "PRB-103",
        "Consumer lag on events-pipeline during partition rebalance",
        "Rolling restarts trigger stop-the-world rebalances; merchant reports go stale for hours.",
        "known error",
        "Pause the warehouse loader and restart consumers one at a time.",
    ),
    DemoProblem(
        "PRB-104",
        "Session-store eviction storms after node replacement",
        "Replacing a Redis node evicts hot keys; logins fail until the cache warms up.",
        "open",
        "Drain the node slowly and pre-warm with the session replay job.",
    ),
    DemoProblem(
        "PRB-105",
        "Canary analysis passes builds that fail under peak traffic",
        "Canaries run for 10 minutes on 2% of traffic at off-peak hours, too little to see "
        "pool or memory regressions.",
        "open",
        "Hold risky rollouts until the canary has seen a traffic peak.",
    ),
)

PROBLEM_TEMPLATES: dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
    "PRB-101": (
        ("Payment timeouts: ledger connection pool exhausted", "ledger", ("database", "pool")),
        ("payments-api errors during nightly settlement batch", "payments-api", ("batch", "pool")),
    ),
    "PRB-102": (
        ("Certificate expiry on edge-gw", "edge-gw", ("certificate",)),
        (
            "TLS handshake failures on edge-gw after intermediate rotation",
            "edge-gw",
            ("certificate",),
        ),
    ),
    "PRB-103": (
        (
            "Merchant reports stale: consumer lag on events-pipeline",
            "events-pipeline",
            ("kafka", "lag"),
        ),
        (
            "Warehouse loader behind after events-pipeline rebalance",
            "warehouse-loader",
            ("kafka", "lag"),
        ),
    ),
    "PRB-104": (
        ("Login failures after session-store node replacement", "session-store", ("redis",)),
        ("Eviction storm on session-store", "session-store", ("redis", "capacity")),
    ),
    "PRB-105": (("Bad build passed canary and reached 100% on {svc}", "*", ("deploy", "canary")),),
}

GENERIC_TEMPLATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Elevated 5xx on {svc} after config push", ("config-change",)),
    ("Elevated 5xx on {svc} after deploy", ("deploy",)),
    ("Latency regression on {svc}: p99 above SLO", ("latency",)),
    ("{svc} pods crash-looping after node pool upgrade", ("kubernetes",)),
    ("Disk filling up on {svc} hosts", ("capacity",)),
    ("DNS resolution failures from {svc}", ("dns",)),
    ("Third-party provider timeouts affecting {svc}", ("third-party",)),
    ("Memory leak in {svc} after dependency bump", ("deploy", "memory")),
    ("Stale feature flag made {svc} serve old behaviour", ("feature-flag",)),
    ("Customer-reported errors on {svc} for EU merchants", ("customer-reported",)),
    ("{svc} database failover took longer than expected", ("database",)),
    ("Rate limiter misconfiguration throttling {svc}", ("config-change", "rate-limit")),
    ("Alert storm from {svc}, no customer impact", ("alerting",)),
    ("Slow queries on {svc} after index change", ("database", "migration")),
    ("Queue backlog on {svc}", ("capacity", "queue")),
    ("Partial outage of {svc} in eu-west-1", ("cloud-provider",)),
    ("Health checks flapping on {svc}", ("alerting", "kubernetes")),
)

SECURITY_TEMPLATES: tuple[str, ...] = (
    "Credential-stuffing attempts against auth-service",
    "API key found in a public repository",
    "Critical CVE in the {svc} base image",
    "Unexpected admin role granted to a merchant account",
)
GAMEDAY_TEMPLATES: tuple[str, ...] = (
    "Gameday: region failover for {svc}",
    "Gameday: kill the primary database behind {svc}",
    "Gameday: drop 30% of traffic to {svc}",
)
MAINTENANCE_TEMPLATES: tuple[str, ...] = (
    "Planned maintenance: Postgres major upgrade behind {svc}",
    "Planned maintenance: TLS configuration rollout on {svc}",
    "Planned maintenance: Kafka broker replacement for {svc}",
)

IMPACT_BY_SEVERITY = {
    "SEV1": "Most merchants could not take payments; checkout success fell below 60%.",
    "SEV2": "A core flow was degraded for many merchants; errors or timeouts for a share of "
    "requests.",
    "SEV3": "Limited impact: a small share of merchants saw errors or delays; a workaround "
    "existed.",
    "SEV4": "No customer impact observed; internal degradation or a near miss.",
}

ACTION_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("Add an alert on {svc} saturation before errors start", "prevention"),
    ("Write a runbook section for this failure mode of {svc}", "learning"),
    ("Add a canary step that holds through a traffic peak for {svc}", "prevention"),
    ("Backfill the data affected on {svc}", "recovery"),
    ("Clean up the temporary mitigation on {svc}", "recovery"),
    ("Share this incident at the {team} team review", "learning"),
    ("Load-test {svc} with production-like retry behaviour", "prevention"),
    ("Document ownership and escalation path for {svc}", "learning"),
    ("Reconcile merchants affected by the {svc} errors", "recovery"),
    ("Add a dashboard panel for {svc} dependency latency", "prevention"),
)

UPDATE_BODIES = {
    "investigating": "We are investigating {what}. Next update in 30 minutes.",
    "identified": "We have identified a likely trigger and are working on a fix.",
    "monitoring": "A mitigation is in place and error rates are back to normal; monitoring.",
    "resolved": "The incident is resolved. A learning review will follow.",
}


def _short_id(prefix: str, seed_text: str, length: int) -> str:
    """A stable, Slack- or PagerDuty-looking id derived from text (no randomness)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    number = int.from_bytes(hashlib.sha256(seed_text.encode()).digest()[:12], "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, len(alphabet))
        chars.append(alphabet[digit])
    return prefix + "".join(chars)


def email_of(key: str) -> str:
    return f"{key}@{DOMAIN}"


def build_people(today: date = DEFAULT_TODAY) -> tuple[DemoPerson, ...]:
    """The roster, with dates anchored to `today`."""
    people = []
    for row in ROSTER:
        days = timedelta
        past = tuple(
            (slug, today - days(start), today - days(end)) for slug, start, end in row.past
        )
        people.append(
            DemoPerson(
                email=email_of(row.key),
                name=row.name,
                title=row.title,
                department=row.department,
                team=row.team,
                manager_email=email_of(row.manager) if row.manager else None,
                start_date=today - days(row.started),
                end_date=today - days(row.left) if row.left is not None else None,
                time_zone=row.tz,
                location=row.location,
                slack_id=_short_id("U0", "slack:" + row.key, 8),
                pagerduty_id=_short_id("P", "pd:" + row.key, 6),
                github_login=row.key.replace(".", "-"),
                past_teams=past,
            )
        )
    return tuple(people)


@dataclass(slots=True)
class _Ctx:
    rng: random.Random
    today: date
    people: tuple[DemoPerson, ...]
    services: dict[str, DemoService]
    counters: dict[str, int]

    def next_number(self, key: str, first: int) -> int:
        value = self.counters.get(key, first) + self.rng.randint(1, 9)
        self.counters[key] = value
        return value


def _utc(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _lognormal_minutes(rng: random.Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median), sigma)


def _start_times(rng: random.Random, count: int, first: datetime, last: datetime) -> list[datetime]:
    """Incident start times; more during European and American working hours."""
    hour_weights = [2, 2, 2, 2, 2, 2, 3, 4, 6, 8, 9, 9, 9, 9, 10, 10, 10, 9, 8, 7, 6, 5, 4, 3]
    span_days = (last - first).days
    starts = []
    for _ in range(count):
        day = first + timedelta(days=rng.randrange(span_days))
        hour = rng.choices(range(24), weights=hour_weights)[0]
        starts.append(day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60)))
    return sorted(starts)


def _pick_shape(rng: random.Random, ctx: _Ctx) -> tuple[str, str, str, tuple[str, ...], str | None]:
    """Choose (type, title, service slug, tags, problem key) for one incident."""
    slugs = sorted(ctx.services)
    roll = rng.random()
    if roll < 0.03:
        svc = rng.choice(["auth-service", "payments-api", "edge-gw", "mobile-bff"])
        title = rng.choice(SECURITY_TEMPLATES).format(svc=svc)
        service = "auth-service" if "auth-service" in title else svc
        return "security", title, service, ("security",), None
    if roll < 0.055:
        svc = rng.choice(["payments-api", "checkout-api", "ledger", "session-store"])
        return "gameday", rng.choice(GAMEDAY_TEMPLATES).format(svc=svc), svc, ("gameday",), None
    if roll < 0.09:
        svc = rng.choice(["postgres-fleet", "edge-gw", "events-pipeline"])
        title = rng.choice(MAINTENANCE_TEMPLATES).format(svc=svc)
        return "maintenance", title, svc, ("planned",), None
    if roll < 0.27:
        problem = rng.choices(list(PROBLEM_TEMPLATES), weights=[5, 2, 4, 3, 2])[0]
        title, svc, tags = rng.choice(PROBLEM_TEMPLATES[problem])
        if svc == "*":
            svc = rng.choice(["payments-api", "checkout-api", "cart-service", "mobile-bff"])
        return "default", title.format(svc=svc), svc, tags, problem
    weights = [
        5 if ctx.services[s].tier == 1 else 3 if ctx.services[s].tier == 2 else 1 for s in slugs
    ]
    svc = rng.choices(slugs, weights=weights)[0]
    title, tags = rng.choice(GENERIC_TEMPLATES)
    return "default", title.format(svc=svc), svc, tags, None


def _severity(rng: random.Random, kind: str) -> str:
    if kind in ("gameday", "maintenance"):
        return rng.choice(["SEV3", "SEV4"])
    return rng.choices(["SEV1", "SEV2", "SEV3", "SEV4"], weights=[4, 17, 46, 33])[0]


def _timings(rng: random.Random, severity: str, kind: str) -> dict[str, float]:
    """Minutes after `started` for each milestone (durations skewed, severity a weak factor)."""
    if kind in ("gameday", "maintenance"):
        total = rng.uniform(45, 240)
        return {
            "detected": 0,
            "declared": 0,
            "acknowledged": 1,
            "mitigated": total * 0.8,
            "resolved": total,
        }
    factor = {"SEV1": 1.2, "SEV2": 1.0, "SEV3": 0.9, "SEV4": 1.4}[severity]
    total = min(max(_lognormal_minutes(rng, 80, 1.35) * factor, 4.0), 14 * 24 * 60)
    detect = 0.0 if rng.random() < 0.2 else min(_lognormal_minutes(rng, 5, 1.1), 0.4 * total)
    ack = detect + min(_lognormal_minutes(rng, 4, 1.0), 0.3 * (total - detect))
    declared = min(detect + _lognormal_minutes(rng, 6, 1.0), total)
    mitigated = ack + (total - ack) * rng.betavariate(2, 2)
    return {
        "detected": detect,
        "declared": declared,
        "acknowledged": ack,
        "mitigated": mitigated,
        "resolved": total,
    }


def _drop_some(rng: random.Random, milestones: dict[str, datetime | None], early: bool) -> None:
    """Leave some milestones missing, as real records do (more often in the early months)."""
    boost = 1.8 if early else 1.0
    for name, chance in (("detected", 0.045), ("acknowledged", 0.05), ("mitigated", 0.055)):
        if rng.random() < chance * boost:
            milestones[name] = None


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
    if team == "payments" or service == "postgres-fleet" or "database" in tags:
        helpers.append(("lena.vogel", 0.4))
    if "deploy" in tags or "kubernetes" in tags:
        helpers.append(("arjun.mehta", 0.35))
    helpers.append((rng.choice(["maya.thompson", "kofi.mensah", "hiro.tanaka"]), 0.2))
    for key, chance in helpers:
        email = email_of(key)
        person = next(p for p in ctx.people if p.email == email)
        if rng.random() < chance and team_on(person, day) and email not in chosen:
            chosen.append(email)
    return chosen or [email_of("maya.thompson")]


def _commander(ctx: _Ctx, severity: str, responders: list[str], day: date) -> str:
    pool = [
        "maya.thompson",
        "arjun.mehta",
        "ben.carter",
        "olivia.brooks",
        "rahul.iyer",
        "sarah.cohen",
        "carlos.mendoza",
        "peter.alvarez",
        "hiro.tanaka",
    ]
    if severity in ("SEV1", "SEV2"):
        candidates = [
            email_of(k) for k in pool if team_on(_by_email(ctx, email_of(k)), day) is not None
        ]
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
        body = UPDATE_BODIES[state].format(what=f"errors on {service}")
        updates.append(DemoUpdate(at, state, body, author))
        last = at
    return tuple(updates)


def _repo_for(service: str) -> str:
    return "infra" if service in ("postgres-fleet", "deploy-pipeline") else service


def _references(ctx: _Ctx, service: str, tags: tuple[str, ...]) -> tuple[DemoReference, ...]:
    rng = ctx.rng
    team = ctx.services[service].team
    refs = []
    changey = bool({"deploy", "config-change", "migration", "canary"} & set(tags))
    if rng.random() < (0.75 if changey else 0.3):
        repo = _repo_for(service)
        number = ctx.next_number("pr:" + repo, rng.randint(300, 1500))
        url = f"https://github.com/{GITHUB_ORG}/{repo}/pull/{number}"
        refs.append(DemoReference("github pr", url, f"{repo}#{number}"))
    if rng.random() < 0.7:
        key = JIRA_KEYS[team]
        number = ctx.next_number("jira:" + key, rng.randint(100, 600))
        refs.append(DemoReference("jira", f"{JIRA_BASE}/{key}-{number}", f"{key}-{number}"))
    if rng.random() < 0.5:
        uid = _short_id("", "dash:" + service, 9).lower()
        url = f"{GRAFANA_BASE}/{uid}/{service}-overview"
        refs.append(DemoReference("dashboard", url, f"{service} overview"))
    if rng.random() < 0.15:
        url = f"https://github.com/{GITHUB_ORG}/runbooks/blob/main/{service}.md"
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
    for title, kind in rng.sample(ACTION_TEMPLATES, rng.randint(low, high)):
        due = anchor + timedelta(days=rng.randint(7, 60))
        if due < ctx.today:
            status = rng.choices(["done", "wont do", "in progress", "open"], [55, 10, 12, 23])[0]
        else:
            status = rng.choices(["open", "in progress", "done"], [45, 35, 20])[0]
        key = JIRA_KEYS[team]
        number = ctx.next_number("jira:" + key, rng.randint(100, 600))
        items.append(
            DemoActionItem(
                title=title.format(svc=service, team=team),
                kind=kind,
                owner_email=rng.choice(owners),
                due=due,
                status=status,
                url=f"{JIRA_BASE}/{key}-{number}",
            )
        )
    return tuple(items)


def _milestones(
    rng: random.Random, started: datetime, severity: str, kind: str, early: bool, limit: datetime
) -> dict[str, datetime | None]:
    offsets = _timings(rng, severity, kind)
    ms: dict[str, datetime | None] = {"started": started}
    for name in ("detected", "declared", "acknowledged", "mitigated", "resolved"):
        ms[name] = min(started + timedelta(minutes=offsets[name]), limit).replace(microsecond=0)
    ms["closed"] = None
    if kind not in ("gameday", "maintenance"):
        _drop_some(rng, ms, early)
    return ms


def _settle(
    rng: random.Random, ms: dict[str, datetime | None], status: str, limit: datetime
) -> None:
    """Make milestones agree with the final status (active ones are not resolved yet)."""
    if status in ("triage", "declined", "merged"):
        for name in ("acknowledged", "mitigated", "resolved"):
            ms[name] = None
    elif status in ("investigating", "identified"):
        ms["acknowledged"] = ms["acknowledged"] or ms["declared"]
        ms["mitigated"] = ms["resolved"] = None
    elif status == "monitoring":
        ms["mitigated"] = ms["mitigated"] or ms["resolved"]
        ms["resolved"] = None
    if status == "closed":
        resolved = ms["resolved"]
        assert resolved is not None
        closed = min(resolved + timedelta(hours=_lognormal_minutes(rng, 30, 1.0)), limit)
        ms["closed"] = closed.replace(microsecond=0)


def _statuses(rng: random.Random, starts: list[datetime], today: date) -> list[str]:
    """Final status per incident: mostly closed, recent ones resolved, a handful active."""
    count = len(starts)
    statuses = ["closed"] * count
    recent = [i for i, s in enumerate(starts) if (today - s.date()).days <= 45]
    for i in recent:
        if rng.random() < 0.5:
            statuses[i] = "resolved"
    for i, status in zip(
        rng.sample(recent, 4), ("monitoring", "identified", "investigating", "triage"), strict=True
    ):
        statuses[i] = status
    older = [i for i in range(count) if i not in recent]
    picks = rng.sample(older, 8)
    for i, status in zip(picks, ["declined"] * 3 + ["merged"] * 2 + ["resolved"] * 3, strict=True):
        statuses[i] = status
    return statuses


def _incident(
    ctx: _Ctx, number: int, started: datetime, status: str, early: bool, limit: datetime
) -> DemoIncident:
    rng = ctx.rng
    kind, title, service, tags, problem = _pick_shape(rng, ctx)
    severity = _severity(rng, kind)
    if status in ("declined", "merged", "triage"):
        severity = "SEV4" if status != "merged" else severity
    ms = _milestones(rng, started, severity, kind, early, limit)
    _settle(rng, ms, status, limit)
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
        customer_impact=IMPACT_BY_SEVERITY[severity] if kind == "default" else "None (planned).",
        milestones=ms,
        roles=roles,
        updates=_updates(ctx, severity, status, roles, ms, service),
        action_items=_action_items(ctx, severity, service, [commander, *responders], ms)
        if status in ("closed", "resolved")
        else (),
        references=_references(ctx, service, tags),
        problem=problem,
        impacts=_impacts(number, kind, ms),
    )


def _impacts(
    number: int, kind: str, ms: dict[str, datetime | None]
) -> tuple[tuple[datetime, datetime | None], ...]:
    """Customers are affected from started until mitigated; every seventh incident relapses
    between mitigation and resolution. No random draw, so the rest of the sample is unchanged;
    planned work and incidents without a start record no impact (missing, never zero)."""
    started, mitigated, resolved = ms.get("started"), ms.get("mitigated"), ms.get("resolved")
    if kind != "default" or started is None:
        return ()
    end = mitigated or resolved
    if (end is None and ms.get("closed") is not None) or (end is not None and end < started):
        return ()  # over but not recorded when customers stopped being affected, or garbled
    first = (started, end)
    if number % 7 or mitigated is None or resolved is None or resolved <= mitigated:
        return (first,)
    gap = resolved - mitigated
    return (first, (mitigated + gap / 3, mitigated + gap / 2))


def build_history(ctx: _Ctx, first: datetime, last: datetime) -> list[DemoIncident]:
    """Roughly 300 incidents between `first` and `last`, numbered in order of start."""
    count = ctx.rng.randint(290, 310)
    starts = _start_times(ctx.rng, count, first, last)
    statuses = _statuses(ctx.rng, starts, ctx.today)
    limit = _utc(ctx.today) - timedelta(hours=6)
    early_until = first + (last - first) / 3
    return [
        _incident(ctx, number, started, status, started < early_until, limit)
        for number, (started, status) in enumerate(zip(starts, statuses, strict=True), start=1)
    ]


def build_org(seed: int = 7, *, today: date = DEFAULT_TODAY) -> DemoOrg:
    """The whole demo organisation; the flagship incident is the highest-numbered one."""
    from afteraction.demo.flagship import build_flagship_incident

    people = build_people(today)
    services = {s.slug: s for s in SERVICES}
    ctx = _Ctx(random.Random(seed), today, people, services, {})
    flagship_day = today - timedelta(days=FLAGSHIP_DAYS_AGO)
    first = _utc(today - timedelta(days=HISTORY_DAYS))
    history = build_history(ctx, first, _utc(flagship_day - timedelta(days=2)))
    flagship = build_flagship_incident(len(history) + 1, people, today)
    return DemoOrg(
        teams=TEAMS,
        people=people,
        services=SERVICES,
        problems=PROBLEMS,
        incidents=(*history, flagship),
    )
