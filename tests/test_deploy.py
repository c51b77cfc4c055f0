"""The files in deploy/ describe a topology afteraction can run: every command they start is a
real command with real options, every setting they set is a documented setting that
afteraction reads, and the compose file has the processes tests/scaleout proves."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from afteraction.cli.main import app
from afteraction.config import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def _commands() -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    image = compose["x-afteraction"]
    for name, service in compose["services"].items():
        if service.get("image", image.get("image")) != image["image"]:
            continue
        command = service.get("command") or _dockerfile_cmd()
        found.append((f"compose {name}", list(command)))
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        line = re.search(r"^ExecStart=(.+)$", unit.read_text(), re.M)
        assert line, f"{unit.name} has no ExecStart"
        words = shlex.split(line.group(1).replace("%i", "8001"))
        found.append((unit.name, ["afteraction", *words[1:]]))
    return found


def _dockerfile_cmd() -> list[str]:
    line = re.search(r"^CMD (\[.+\])$", (DEPLOY / "Dockerfile").read_text(), re.M)
    assert line
    return yaml.safe_load(line.group(1))


def test_the_compose_file_runs_the_proven_topology() -> None:
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert {"postgres", "redis", "migrate", "web1", "web2", "worker"} <= set(services)
    assert services["worker"]["command"][:2] == ["afteraction", "worker"]


@pytest.mark.parametrize(("where", "command"), _commands(), ids=lambda v: str(v)[:40])
def test_every_started_command_parses(where: str, command: list[str]) -> None:
    assert command[0] == "afteraction", where
    # --help stops before anything runs, after the parser has refused unknown commands
    # and options ("No such option", exit 2)
    result = CliRunner().invoke(app, [*command[1:], "--help"])
    assert result.exit_code == 0, f"{where}: {result.output}"
    assert "Usage: afteraction" in result.output


def test_the_shared_settings_are_documented_and_read(monkeypatch: pytest.MonkeyPatch) -> None:
    documented = set(re.findall(r"`(AFTERACTION_[A-Z_]+)`", DOCS.read_text()))
    values = {}
    for line in (DEPLOY / "afteraction.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert key in documented, f"{key} is not a documented setting"
            values[key] = value
            monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.secret_key.get_secret_value() == values["AFTERACTION_SECRET_KEY"]
    assert str(settings.database_url) == values["AFTERACTION_DATABASE_URL"]
    assert str(settings.queue.url) == values["AFTERACTION_QUEUE_URL"]
