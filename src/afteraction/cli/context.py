"""What every command needs: settings, a database session, the CLI's acting principal,
and one way to report errors (message on stderr, non-zero exit)."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

import orjson
import typer
from pydantic import BaseModel
from pydantic import ValidationError as SettingsError
from rich.console import Console
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.core import TyperGroup

from afteraction.config import Settings
from afteraction.core.access import Actor
from afteraction.core.errors import AfteractionError
from afteraction.storage.db import explain, make_engine, make_session_factory

err_console = Console(stderr=True)
console = Console()
T = TypeVar("T")


@dataclass
class CliState:
    settings_factory: Callable[[], Settings]
    _settings: Settings | None = field(default=None, init=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = self.settings_factory()
            except SettingsError as error:
                fail(f"configuration error: {error.errors()[0]['msg']}", code=2)
        return self._settings

    @contextmanager
    def session(self) -> Iterator[Session]:
        engine = make_engine(self.settings.database_url)
        session = make_session_factory(engine)()
        try:
            yield session
        finally:
            session.close()
            engine.dispose()


def cli_actor() -> Actor:
    """Commands act as an administrator named after the operating-system user."""
    try:
        who = getpass.getuser()
    except Exception:
        who = "unknown"
    return Actor(user_id=None, label=f"cli:{who}", role="admin")


def fail(message: str, *, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _said(error: AfteractionError) -> str:
    field_name = error.details.get("field")
    return f"{error.message} (field: {field_name})" if field_name else error.message


def run(action: Callable[[], T]) -> T:
    """Run `action`, turning domain errors into a message and exit code 1."""
    try:
        return action()
    except AfteractionError as error:
        fail(_said(error))


class GuardedGroup(TyperGroup):
    """The root command group. Whatever command runs, a domain error, or a database or
    file-system error an operator can act on (read-only file, full disk, missing folder,
    locked file, server down), ends it with one line naming the file or server and what to
    do, and a non-zero exit: never a traceback with SQL. Anything else is a bug and keeps
    its traceback."""

    def invoke(self, ctx: Any) -> Any:  # click.Context (typer may vendor its own click)
        try:
            return super().invoke(ctx)
        except AfteractionError as error:
            fail(_said(error))
        except (DBAPIError, OSError) as error:
            state = ctx.obj
            built = isinstance(state, CliState) and state._settings is not None
            explained = explain(error, state.settings.database_url) if built else None
            if explained is None:
                raise
            fail(explained.message)


def state_of(ctx: typer.Context) -> CliState:
    state: CliState = ctx.obj
    return state


def say(line: str) -> None:
    """Print one plain line of output: no markup read from it (a path or a title may hold
    square brackets), no highlighting, never wrapped, so scripts can grep it."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def print_model(model: BaseModel) -> None:
    """Print a shared Read model as `--json` output: the same fields the API sends."""
    print_json(model.model_dump(mode="json"))
