"""The package stays readable: no module over 600 lines, and no import cycle between
afteraction's modules, including cycles hidden by imports inside functions (grimp reads
every import statement, wherever it stands). Imports made only for type checking are left
out: they never run.

An afteraction module is imported inside a function only where the reason is listed in
`DEFERRED`: what `afteraction serve`, `demo` and `worker` compose, and the import services a
single CLI command needs (40-85 ms each), so `afteraction --help` and the other commands do
not pay for them. Third-party imports inside functions are optional or heavy libraries (the
PDF renderer, the embedding model, alembic, Slack's SDK) and are not listed.

The layers themselves are import-linter contracts in pyproject.toml (`lint-imports` in CI).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "afteraction"
MAX_LINES = 600


def test_no_module_is_over_600_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in sorted(PACKAGE.rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"split these modules (over {MAX_LINES} lines): {long}"


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    grimp = pytest.importorskip("grimp", reason="grimp comes with the dev extras (import-linter)")
    graph = grimp.build_graph("afteraction", exclude_type_checking_imports=True)
    modules = {m for m in graph.modules if m.startswith("afteraction")}
    edges = {
        m: {i for i in graph.find_modules_directly_imported_by(m) if i in modules} for m in modules
    }
    assert _cycles(edges) == []


DEFERRED = {
    "cli/main.py": {"afteraction.web.app", "afteraction.demo.evidence_shift",
                    "afteraction.demo.load", "afteraction.jobs"},
    "cli/report.py": {"afteraction.services.report_export", "afteraction.services.report_claims",
                      "afteraction.services.report_publishing"},
    "cli/imports.py": {"afteraction.services.imports.slack",
                       "afteraction.services.imports.slack_preview"},
    "cli/import_other.py": {"afteraction.services.imports.pagerduty",
                            "afteraction.adapters.slack_api", "afteraction.services.imports.slack",
                            "afteraction.services.imports.roster",
                            "afteraction.services.imports.oncall",
                            "afteraction.services.imports.transcripts",
                            "afteraction.services.imports.past_reports"},
    "services/imports/slack.py": {"afteraction.adapters"},  # slack_api: Slack's SDK, live only
}  # fmt: skip


def test_afteraction_modules_are_imported_inside_functions_only_for_a_listed_reason() -> None:
    unlisted = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(PACKAGE))
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "afteraction"
                ):
                    if node.module not in DEFERRED.get(where, set()):
                        unlisted.append(f"{where}:{node.lineno} {node.module}")
    assert unlisted == [], f"import these at the top of the module, or list why: {unlisted}"
