"""The documentation covers what exists: every setting, every command, an example for each.

Fails when a setting (an `AFTERACTION_*` variable of `config.variables()`, with the nested
setting it fills) is missing from docs/configuration.md, when a command of the `afteraction`
tree is missing from docs/cli.md, or when a command's help has no `Example:`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from afteraction.cli.main import app
from afteraction.config import variables

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """Leaf commands of the click tree Typer builds (groups have a `commands` mapping)."""
    subcommands = getattr(command, "commands", None)
    if isinstance(subcommands, dict):
        for name, sub in sorted(subcommands.items()):
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(("afteraction", *path)), command


COMMANDS = dict(_commands(typer.main.get_command(app)))


def test_the_command_tree_is_found() -> None:
    assert {"afteraction db upgrade", "afteraction incident list", "afteraction demo"} <= set(
        COMMANDS
    )


@pytest.mark.parametrize(("env", "path"), sorted((env, path) for env, path, _ in variables()))
def test_every_setting_is_documented(env: str, path: str) -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert f"| `{env}` | `{path}` |" in text, (
        f"{env} ({path}) is missing from docs/configuration.md; run: cog -r docs/configuration.md"
    )


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_documented(name: str) -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert f"### `{name}`" in text, f"{name} is missing from docs/cli.md; run: cog -r docs/cli.md"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_help_has_an_example(name: str) -> None:
    help_text = COMMANDS[name].help or ""
    examples = [
        line.strip() for line in help_text.splitlines() if line.strip().startswith("Example:")
    ]
    assert examples, f"the help of {name!r} needs an 'Example: {name} ...' line"
    assert all(example.removeprefix("Example:").strip() for example in examples)
