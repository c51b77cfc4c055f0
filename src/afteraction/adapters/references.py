"""Work-item and dashboard references found in free text (chat, notes, reports).

Lives here: `extract_references` (one text → ReferenceRecords in order of appearance, repeats
included) and `ReferenceCounter` (many texts → deduplicated references with counts and the
first time each was seen). Does not live here: fetching titles from GitHub or Jira.

Recognised:
- GitHub URLs `https://github.com/<owner>/<repo>/pull/<n>` ("github pr", key `owner/repo#n`),
  `/issues/<n>` ("github issue", key `owner/repo#n`), `/commit/<sha>` and
  `/pull/<n>/commits/<sha>` ("github commit", key `owner/repo@<first 7 of sha>`). The URL is
  normalised to the canonical form (no trailing path, query or fragment).
- Jira browse URLs `https://<host>/browse/KEY-1` and `…/issues/KEY-1` on `*.atlassian.net`
  ("jira", key `KEY-1`). Bare keys `ABC-123` only when `jira_projects` (allow list of
  project keys) or `jira_base_url` is given; with only a base URL, a deny list drops look-alikes
  (`SEV-1`, `INC-42`, `UTF-8`, `ISO-8601`, `HTTP-2`, `CVE-…`, …). Keys need a word boundary
  (`thisNOT-123` is not a key).
- Dashboards ("dashboard", key = tool name): hosts containing `grafana` or paths with
  `/d/<uid>` or `/d-solo/<uid>` (Grafana); `*.datadoghq.com`/`.eu`, `*.ddog-gov.com` (not
  `docs.`); hosts containing `kibana` or paths with `/app/kibana`, `/app/dashboards`,
  `/app/discover` (Kibana); `*.newrelic.com` (not `docs.`), `onenr.io` (New Relic).
Slack's `<url|label>` wrapping is handled: the target URL is parsed, not the label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from afteraction.core.evidence import ReferenceRecord

JIRA_DENY_LIST = frozenset(
    {"SEV", "INC", "UTF", "ISO", "HTTP", "CVE", "RFC", "TLS", "SSL", "SHA", "GH", "PR", "P", "CWE",
     "GHSA", "PEP", "IPV", "AES", "RSA", "MD", "COVID", "WCAG", "IEEE", "X", "H", "S"}
)  # fmt: skip

_URL_RE = re.compile(r"https?://[^\s<>|\"'`\[\]{}]+", re.IGNORECASE)
_GITHUB_RE = re.compile(
    r"^/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)/"
    r"(?:(?P<kind>pull|issues)/(?P<num>\d+)(?:/commits/(?P<psha>[0-9a-f]{7,40}))?"
    r"|commit/(?P<sha>[0-9a-f]{7,40}))(?:[/?#]|$)",
    re.IGNORECASE,
)
_JIRA_URL_RE = re.compile(r"/(?:browse|issues)/([A-Z][A-Z0-9_]+-\d+)(?:[/?#]|$)")
_JIRA_KEY_RE = re.compile(r"(?<![\w/-])([A-Z][A-Z0-9_]+)-(\d+)(?![\w-])")
_TRAILING = ".,;:!?'\""


def _trim(url: str) -> str:
    """Drop trailing punctuation and unbalanced closing parentheses."""
    while url:
        if url[-1] in _TRAILING:
            url = url[:-1]
        elif url[-1] == ")" and url.count(")") > url.count("("):
            url = url[:-1]
        else:
            break
    return url


def _github(host: str, path: str, hosts: frozenset[str]) -> ReferenceRecord | None:
    if host not in hosts:
        return None
    match = _GITHUB_RE.match(path)
    if not match:
        return None
    owner, repo = match["owner"], match["repo"]
    base = f"https://{host}/{owner}/{repo}"
    sha = match["sha"] or match["psha"]
    if sha:
        sha = sha.lower()
        return ReferenceRecord(
            "github commit", f"{base}/commit/{sha}", key=f"{owner}/{repo}@{sha[:7]}"
        )
    kind = "github pr" if match["kind"].lower() == "pull" else "github issue"
    segment = "pull" if kind == "github pr" else "issues"
    return ReferenceRecord(
        kind, f"{base}/{segment}/{match['num']}", key=f"{owner}/{repo}#{match['num']}"
    )


def _dashboard_tool(host: str, path: str) -> str | None:
    if "grafana" in host or re.match(r"^/d(?:-solo)?/[\w-]+", path):
        return "grafana"
    if re.search(r"(^|\.)(datadoghq\.(com|eu)|ddog-gov\.com)$", host) and not host.startswith(
        "docs."
    ):
        return "datadog"
    if "kibana" in host or re.search(r"/app/(kibana|dashboards|discover)", path):
        return "kibana"
    if (host.endswith("newrelic.com") and not host.startswith("docs.")) or host == "onenr.io":
        return "newrelic"
    return None


def _url_reference(url: str, github_hosts: frozenset[str]) -> ReferenceRecord | None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path
    found = _github(host, path, github_hosts)
    if found:
        return found
    jira = _JIRA_URL_RE.search(path)
    if jira and ("/browse/" in path or host.endswith(".atlassian.net")):
        key = jira.group(1)
        return ReferenceRecord("jira", f"{parts.scheme}://{parts.netloc}/browse/{key}", key=key)
    tool = _dashboard_tool(host, path + ("#" + parts.fragment if parts.fragment else ""))
    if tool:
        return ReferenceRecord("dashboard", url, key=tool)
    return None


def extract_references(
    text: str,
    *,
    jira_base_url: str | None = None,
    jira_projects: Iterable[str] | None = None,
    github_hosts: Iterable[str] = ("github.com",),
) -> list[ReferenceRecord]:
    """Every reference in `text`, in order of appearance (repeats included)."""
    hosts = frozenset(h.lower() for h in github_hosts)
    found: list[tuple[int, ReferenceRecord]] = []
    spans: list[tuple[int, int]] = []
    for match in _URL_RE.finditer(text):
        url = _trim(match.group(0))
        spans.append((match.start(), match.start() + len(url)))
        reference = _url_reference(url, hosts)
        if reference:
            found.append((match.start(), reference))
    projects = frozenset(p.upper() for p in jira_projects) if jira_projects is not None else None
    if projects is not None or jira_base_url:
        base = (jira_base_url or "").rstrip("/")
        for match in _JIRA_KEY_RE.finditer(text):
            if any(start <= match.start() < end for start, end in spans):
                continue
            project = match.group(1)
            allowed = project in projects if projects is not None else project not in JIRA_DENY_LIST
            if allowed:
                key = match.group(0)
                url = f"{base}/browse/{key}" if base else ""
                found.append((match.start(), ReferenceRecord("jira", url, key=key)))
    found.sort(key=lambda item: item[0])
    return [reference for _, reference in found]


def reference_identity(reference: ReferenceRecord) -> tuple[str, str]:
    """What makes two references the same: kind + key (GitHub, Jira) or kind + URL."""
    if reference.kind == "dashboard" or not reference.key:
        return reference.kind, reference.url
    return reference.kind, reference.key


@dataclass(frozen=True, slots=True)
class CountedReference:
    reference: ReferenceRecord
    count: int
    first_seen: datetime | None


@dataclass(slots=True)
class _Tally:
    reference: ReferenceRecord
    count: int
    first_seen: datetime | None


class ReferenceCounter:
    """Deduplicate references across many texts, counting them and keeping first-seen time.

    `add(text, at=...)` for each message or note; `results()` at the end. Texts may arrive in
    any order: `first_seen` is the earliest `at` given for a reference.
    """

    def __init__(
        self,
        *,
        jira_base_url: str | None = None,
        jira_projects: Iterable[str] | None = None,
        github_hosts: Iterable[str] = ("github.com",),
    ) -> None:
        self._jira_base_url = jira_base_url
        self._jira_projects = list(jira_projects) if jira_projects is not None else None
        self._github_hosts = tuple(github_hosts)
        self._tallies: dict[tuple[str, str], _Tally] = {}

    def add(self, text: str, *, at: datetime | None = None) -> list[ReferenceRecord]:
        """Count the references in one text seen at `at`; return them."""
        references = extract_references(
            text,
            jira_base_url=self._jira_base_url,
            jira_projects=self._jira_projects,
            github_hosts=self._github_hosts,
        )
        for reference in references:
            self.add_reference(reference, at=at)
        return references

    def add_reference(self, reference: ReferenceRecord, *, at: datetime | None = None) -> None:
        identity = reference_identity(reference)
        tally = self._tallies.get(identity)
        if tally is None:
            self._tallies[identity] = _Tally(reference, 1, at)
            return
        tally.count += 1
        if at is not None and (tally.first_seen is None or at < tally.first_seen):
            tally.first_seen = at
        if not tally.reference.url and reference.url:
            tally.reference = reference

    def add_counted(self, counted: Iterable[CountedReference]) -> None:
        """Fold in what another counter found (its `results()`), as if its texts had been
        added here after the ones before: counts add up, the earliest time seen and the
        first record with a URL win, new references come after the known ones."""
        for item in counted:
            identity = reference_identity(item.reference)
            tally = self._tallies.get(identity)
            if tally is None:
                self._tallies[identity] = _Tally(item.reference, item.count, item.first_seen)
                continue
            tally.count += item.count
            seen = item.first_seen
            if seen is not None and (tally.first_seen is None or seen < tally.first_seen):
                tally.first_seen = seen
            if not tally.reference.url and item.reference.url:
                tally.reference = item.reference

    def results(self) -> list[CountedReference]:
        """References in the order first added, with counts and earliest time seen."""
        return [
            CountedReference(t.reference, t.count, t.first_seen) for t in self._tallies.values()
        ]

    def __len__(self) -> int:
        return len(self._tallies)
