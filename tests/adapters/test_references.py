"""GitHub, Jira and dashboard references in free text, and counting them across texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from afteraction.adapters.references import ReferenceCounter, extract_references

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def kinds_keys(text: str, **options: Any) -> list[tuple[str, str]]:
    return [(r.kind, r.key) for r in extract_references(text, **options)]


def test_github_urls_normalised_including_slack_wrapping() -> None:
    text = (
        "fix in <https://github.com/acme/api/pull/123|#123>, files at "
        "https://github.com/acme/api/pull/123/files. Issue (https://github.com/acme/api/issues/9#x)."
        " Commit https://github.com/acme/api/commit/ABCDEF1234567890abcdef1234567890abcdef12 and "
        "https://github.com/acme/api/pull/5/commits/0123456789abcdef"
    )
    refs = extract_references(text)
    assert [(r.kind, r.key, r.url) for r in refs] == [
        ("github pr", "acme/api#123", "https://github.com/acme/api/pull/123"),
        ("github pr", "acme/api#123", "https://github.com/acme/api/pull/123"),
        ("github issue", "acme/api#9", "https://github.com/acme/api/issues/9"),
        (
            "github commit",
            "acme/api@abcdef1",
            "https://github.com/acme/api/commit/abcdef1234567890abcdef1234567890abcdef12",
        ),
        (
            "github commit",
            "acme/api@0123456",
            "https://github.com/acme/api/commit/0123456789abcdef",
        ),
    ]


def test_github_enterprise_hosts_and_non_matching_github_urls() -> None:
    text = "https://git.corp.io/a/b/pull/1 https://github.com/a/b https://github.com/a/b/wiki/x"
    assert kinds_keys(text) == []
    assert kinds_keys(text, github_hosts=["git.corp.io"]) == [("github pr", "a/b#1")]


def test_jira_urls_always_bare_keys_only_with_configuration() -> None:
    text = "see OPS-42, https://acme.atlassian.net/browse/OPS-42 and SEV-1 INC-42 UTF-8 ISO-8601"
    assert kinds_keys(text) == [("jira", "OPS-42")]  # the URL only
    text2 = text + " HTTP-2 thisNOT-123 PAY-7 CVE-2024-1234"
    with_base = extract_references(text2, jira_base_url="https://acme.atlassian.net/")
    assert [(r.key, r.url) for r in with_base] == [
        ("OPS-42", "https://acme.atlassian.net/browse/OPS-42"),
        ("OPS-42", "https://acme.atlassian.net/browse/OPS-42"),
        ("PAY-7", "https://acme.atlassian.net/browse/PAY-7"),
    ]
    allow = extract_references(text2, jira_projects=["pay", "SEV"])
    assert [(r.key, r.url) for r in allow] == [
        ("OPS-42", "https://acme.atlassian.net/browse/OPS-42"),  # URLs are always recognised
        ("SEV-1", ""),  # the allow list is trusted over the deny list
        ("PAY-7", ""),
    ]
    cloud = extract_references("https://acme.atlassian.net/jira/software/projects/AB/issues/AB-3")
    assert [(r.kind, r.key) for r in cloud] == [("jira", "AB-3")]


def test_dashboards() -> None:
    text = (
        "https://grafana.acme.io/d/abc123/api?orgId=1 https://metrics.acme.io/d/xyz/db "
        "(https://app.datadoghq.com/dashboard/q-1/api?tpl=1). https://docs.datadoghq.com/x "
        "https://logs.acme.io/app/kibana#/discover?_g=(time:(from:now-15m)) "
        "https://kibana.acme.io/s/ops https://one.newrelic.com/launcher/x https://onenr.io/0abc "
        "https://docs.newrelic.com/x https://example.com/d"
    )
    refs = extract_references(text)
    assert [(r.kind, r.key) for r in refs] == [
        ("dashboard", "grafana"),
        ("dashboard", "grafana"),
        ("dashboard", "datadog"),
        ("dashboard", "kibana"),
        ("dashboard", "kibana"),
        ("dashboard", "newrelic"),
        ("dashboard", "newrelic"),
    ]
    assert refs[2].url == "https://app.datadoghq.com/dashboard/q-1/api?tpl=1"
    assert refs[3].url == "https://logs.acme.io/app/kibana#/discover?_g=(time:(from:now-15m))"


def test_counter_deduplicates_counts_and_keeps_earliest_time() -> None:
    counter = ReferenceCounter(jira_base_url="https://acme.atlassian.net")
    counter.add("PR https://github.com/o/r/pull/1 and OPS-1", at=T0 + timedelta(minutes=5))
    counter.add("again <https://github.com/o/r/pull/1|pr>", at=T0)  # arrives later, seen earlier
    counter.add("https://acme.atlassian.net/browse/OPS-1 https://grafana.x/d/a", at=None)
    results = counter.results()
    assert len(counter) == 3
    assert [(c.reference.key, c.count, c.first_seen) for c in results] == [
        ("o/r#1", 2, T0),
        ("OPS-1", 2, T0 + timedelta(minutes=5)),
        ("grafana", 1, None),
    ]


def test_counter_prefers_a_reference_with_a_url() -> None:
    counter = ReferenceCounter(jira_projects=["OPS"])
    counter.add("OPS-9 first, bare", at=T0)
    counter.add("https://jira.acme.io/browse/OPS-9", at=T0 + timedelta(hours=1))
    [only] = counter.results()
    assert (only.count, only.first_seen) == (2, T0)
    assert only.reference.url == "https://jira.acme.io/browse/OPS-9"
