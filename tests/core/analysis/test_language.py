"""Tests for the blame-aware language check (method.md section 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from afteraction.core.analysis.language import (
    CATEGORIES,
    Finding,
    check_text,
    open_findings,
)

EVAL_SET = Path(__file__).parent / "data" / "language_eval.tsv"
PEOPLE = ["Priya Raman", "Sam Okafor"]


def load_eval_set() -> tuple[list[str], list[tuple[str, str, str]]]:
    """People named in the header comment, and (label, category, sentence) rows."""
    people: list[str] = []
    rows: list[tuple[str, str, str]] = []
    for line in EVAL_SET.read_text(encoding="utf-8").splitlines():
        if line.startswith("# people:"):
            people = [p.strip() for p in line.split(":", 1)[1].split(";")]
        elif line and not line.startswith(("#", "label\t")):
            label, category, sentence = line.split("\t", 2)
            rows.append((label, category, sentence))
    return people, rows


def cats(text: str, people: list[str] | None = None) -> list[str]:
    return [f.category for f in check_text(text, people=people or PEOPLE)]


# ------------------------------------------------------------------ evaluation set


def test_eval_set_shape() -> None:
    _, rows = load_eval_set()
    assert len(rows) >= 300
    ok = sum(1 for label, _, _ in rows if label == "ok")
    assert ok / len(rows) >= 0.45
    assert {label for label, _, _ in rows} == {"flag", "ok"}
    for label, category, _ in rows:
        assert (category in CATEGORIES) if label == "flag" else category == ""
    assert {c for label, c, _ in rows if label == "flag"} == set(CATEGORIES)


def test_eval_set_precision_and_recall() -> None:
    people, rows = load_eval_set()
    tp = fp = fn = right_category = 0
    for label, category, sentence in rows:
        found = check_text(sentence, people=people)
        if found and label == "flag":
            tp += 1
            right_category += category in {f.category for f in found}
        elif found:
            fp += 1
        elif label == "flag":
            fn += 1
    assert tp / (tp + fp) >= 0.9
    assert tp / (tp + fn) >= 0.8
    assert right_category / tp >= 0.9


# ------------------------------------------------------------------ categories and subjects


def test_categories_are_the_nine_of_the_method() -> None:
    assert set(CATEGORIES) == {
        "counterfactual",
        "omission",
        "normative",
        "attribution",
        "single_cause",
        "legacy_framing",
        "interrogation",
        "hindsight",
        "naming_individuals",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The on-call engineer failed to acknowledge the page.", ["omission"]),
        ("Requests failed to connect.", []),
        ("The health check did not pass.", []),
        ("We should have rolled back sooner.", ["counterfactual"]),
        ("This would have caused data loss.", []),
        ("Each repository should have a pipeline.", []),
        ("Just restart it.", ["hindsight"]),
        ("There was just a single OID left.", []),
        ("The proper procedure was ignored.", ["normative", "omission"]),
        ("The replicas have proper isolation.", []),
        ("The root cause was a bad deploy.", ["single_cause"]),
        ("We wrote a post-mortem.", ["legacy_framing"]),
        ("Why did you restart the primary?", ["interrogation"]),
        ("Why did the primary restart?", []),
        ("Priya did not check the replica lag.", ["naming_individuals"]),
        ("Priya checked the replica lag.", []),
        ("The team's failure to rotate keys mattered.", ["omission"]),
        ("Priya's failure to rotate keys mattered.", ["naming_individuals"]),
        ("The service's failure to start mattered.", []),
        ("A failure to connect was logged.", []),
        ("It was Priya's fault.", ["naming_individuals"]),
        ("It was the disk's fault.", []),
        ("It was not his fault.", []),
        ("It was our fault.", ["attribution"]),
        ("Failure to connect was logged.", []),
        ("We asked why did you restart it.", ["interrogation"]),
        ("The warning was ignored.", ["omission"]),
        ("The alert was missed.", ["omission"]),
        ("Three heartbeats were missed.", []),
        ("We missed our SLO for the month.", []),
        ("We missed the page.", ["omission"]),
        ("Nobody could have predicted the vendor change.", []),
        ("Sam could not have known the flag was shared.", []),
        ("The outage was caused by Priya.", ["naming_individuals"]),
        ("If only one node fails, writes continue.", []),
        ("If only we had paged earlier.", ["counterfactual"]),
        ("Had the engineer checked, it would not have happened.", ["counterfactual"]),
        ("The team had checked the plan.", []),
        ("Who approved this change?", ["interrogation"]),
        ("The engineer who approved the change was on leave.", []),
        ("The graph should clearly label units.", []),
        ("The graph clearly showed the spike.", ["hindsight"]),
        ("Inadequate capacity in the pool caused queueing.", []),
        ("Inadequate testing let the bug through.", ["normative"]),
        ("The job simply retries.", []),
        ("You could simply retry.", ["hindsight"]),
        ("This was not carelessness.", []),
        ("The deploy team was blamed.", ["attribution"]),
        ("The disk was at fault.", []),
        ("The blame-aware format helps.", []),
        ("The team made a mistake.", ["attribution"]),
        ("Sam made a mistake.", ["naming_individuals"]),
        # the subject is the pronoun right before the verb, not the sentence's first word
        ("This was a breaking change we did not catch.", ["omission"]),
        ("One datacenter switched over, but the generators failed to hold voltage.", []),
        ("One of the nodes failed to restart.", []),
        ("The node will fail to ship logs.", []),
        ("The relays did not trip; their operators were told.", []),
        ("They were fined for failing to file the report.", ["omission"]),
        ("The failure of the on-call engineer to escalate prolonged it.", ["omission"]),
        ("The failure of Priya to escalate prolonged it.", ["naming_individuals"]),
        ("The failure of the disk to spin up was logged.", []),
        ("The team hasn't adopted the runbook.", ["omission"]),
        ("We haven't needed a failover in years.", []),
        ("The patch hasn't rolled out yet.", []),
        ("A bug caused the flag to be ignored.", []),
        ("That one is our bad.", ["attribution"]),
        ("Our bad actors list grew.", []),
        ("Lazy loading delays the script.", []),
        ("The lazy-loaded bundle broke.", []),
        ("A poor rollout strategy delayed the fix.", ["normative"]),
        ("Warnings from the vendor were not acted on.", ["omission"]),
        ("Customers had to reinstall if they did not disable capture.", []),
        ("We didn't learn much.", []),
        ("Did not disable the pipeline despite the risk.", ["omission"]),
        ("Did not affect customers.", []),
        ("The vendor did not notify customers.", ["omission"]),
        ("The job did not notify anyone.", []),
        ("The date was computed by simply adding a year.", []),
        ("Instead of debugging, just roll it back.", ["hindsight"]),
    ],
)
def test_subject_and_sense_decide(text: str, expected: list[str]) -> None:
    assert cats(text) == expected


# ------------------------------------------------------------------ Markdown awareness


def test_code_quotes_urls_and_logs_are_evidence_not_voice() -> None:
    text = "\n".join(
        [
            "```",
            "we should have rolled back",
            "```",
            "",
            "    the engineer failed to renew",
            "",
            "> Sam: we forgot to renew it",
            "Run `just restart` first.",
            'He wrote "we missed the alert" at 10:02.',
            "She wrote “we should have paged” later.",
            "See https://wiki.example/post-mortem-template for details.",
            "See [the guide](https://wiki.example/rca) for details.",
            "2024-03-04T10:15:02Z ERROR operator failed to renew lease",
            "~~~",
            "root cause",
            "~~~",
        ]
    )
    assert check_text(text) == []


def test_log_needs_both_timestamp_and_level() -> None:
    assert cats("At 10:15:02 the engineer failed to renew the lease.") == ["omission"]


def test_indented_list_continuation_is_not_code() -> None:
    text = "- first item\n    - the engineer failed to renew the lease\n"
    assert cats(text) == ["omission"]


def test_headings_only_judged_for_framing() -> None:
    assert cats("## Root cause\n") == ["single_cause"]
    assert cats("# RCA for the DNS outage\n") == ["legacy_framing"]
    assert cats("## What we failed to do\n") == []
    assert cats("## Why did you restart it?\n") == []


def test_words_inside_other_words_are_not_flagged() -> None:
    assert check_text("ORCA justified the adjustment; the postmortemless RCAX job ran.") == []


# ------------------------------------------------------------------ positions and fingerprints


def test_positions_are_one_based_and_end_exclusive() -> None:
    text = "Intro line.\nThe team failed to renew it.\n"
    (finding,) = check_text(text)
    assert isinstance(finding, Finding)
    assert (finding.line, finding.column, finding.end_column) == (2, 10, 19)
    assert finding.text == "failed to" == text[finding.start : finding.end]
    assert finding.end_line == 2
    assert finding.rule == "omission.failed_to"
    assert finding.message and finding.suggestion


def test_span_wrapping_a_line_reports_end_line() -> None:
    (finding,) = check_text("See the post-\nmortem.\n".replace("post-\n", "post\n"))
    assert finding.category == "legacy_framing"
    assert (finding.line, finding.end_line, finding.end_column) == (1, 2, 7)


def test_naming_finding_has_its_own_message() -> None:
    (finding,) = check_text("Sam forgot to renew it.", people=["Sam Okafor"])
    assert finding.category == "naming_individuals"
    assert "person" in finding.message


def test_fingerprint_survives_unrelated_edits() -> None:
    body = "The engineer forgot to renew it."
    before = check_text(body)[0].fingerprint
    after = check_text("# Summary\n\nA new paragraph.\n\n" + body).pop().fingerprint
    assert before == after
    assert check_text("The engineer forgot to rotate it.")[0].fingerprint != before


def test_repeated_sentences_get_distinct_fingerprints() -> None:
    findings = check_text("We forgot to renew it.\n\nWe forgot to renew it.\n")
    assert len({f.fingerprint for f in findings}) == 2


def test_open_findings_drops_dismissed() -> None:
    findings = check_text("We forgot to renew it. The root cause was DNS.")
    assert len(findings) == 2
    remaining = open_findings(findings, [findings[0].fingerprint])
    assert remaining == [findings[1]]


def test_overlapping_rules_report_once() -> None:
    found = check_text("The root cause analysis is attached.")
    assert [(f.text, f.category) for f in found] == [("root cause analysis", "legacy_framing")]


# ------------------------------------------------------------------ letter case


def test_case_of_the_text_does_not_matter_and_findings_keep_it() -> None:
    found = check_text("The on-call engineer FAILED TO notice it. Priya Raman Should Have Paged.")
    assert [(f.rule, f.text) for f in found] == [
        ("omission.failed_to", "FAILED TO"),
        ("counterfactual.modal", "Should Have Paged"),
    ]


def test_non_ascii_text_is_checked_like_ascii_text() -> None:
    ascii_text = 'The engineer didn\'t check the "disk". Obviously a post-mortem.'
    curly = "The engineer didn’t check the “disk”. Obviously a post-mortem, café."
    assert [(f.category, f.start, f.end) for f in check_text(curly)] == [
        (f.category, f.start, f.end) for f in check_text(ascii_text)
    ]


def test_letters_that_fold_to_ascii_are_still_matched() -> None:
    # IGNORECASE equates "ſ" (long s) with "s" and the Kelvin sign with "k"
    found = check_text("We wrote a poſt-mortem. The \u212aey root cause was config.")
    assert [f.rule for f in found] == ["legacy.postmortem", "single_cause.root_cause"]
    assert found[0].text == "poſt-mortem"
