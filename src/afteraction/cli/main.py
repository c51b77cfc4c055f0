"""Entry point of the `afteraction` command: the root Typer app, its settings callback and
the small command groups (db, user, serve, demo, worker). Larger groups live in their own
modules and are added here.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.engine import make_url

from afteraction import __version__
from afteraction.cli import backup, imports, incident, metrics, privacy
from afteraction.cli.context import (
    CliState,
    GuardedGroup,
    cli_actor,
    console,
    fail,
    print_model,
    run,
    say,
    state_of,
)
from afteraction.cli.lint_language import lint_language
from afteraction.config import Settings, development_settings
from afteraction.services import passwords, throttle, users
from afteraction.services.schemas.users import UserRead, user_read
from afteraction.storage.db import (
    current_revision,
    head_revision,
    make_engine,
    make_session_factory,
    upgrade,
    writing,
)
from afteraction.storage.tables import User
from afteraction.storage.types import utcnow

app = typer.Typer(
    name="afteraction",
    help="Self-hosted incident tracker and learning-from-incidents studio.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    cls=GuardedGroup,
)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
user_app = typer.Typer(help="Users and API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(incident.app, name="incident")
from afteraction.cli import report as report_cli  # noqa: E402

app.add_typer(report_cli.app, name="report")
app.add_typer(imports.app, name="import")
app.add_typer(privacy.app, name="privacy")
app.command("metrics")(metrics.metrics)
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)
app.command("export")(backup.export)
app.command("import-all")(backup.import_all)


def _version(value: bool) -> None:
    if value:
        console.print(f"afteraction {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="AFTERACTION_DATABASE_URL",
            help="Overrides the configured database URL.",
            show_envvar=True,
        ),
    ] = None,
    version: Annotated[  # noqa: ARG001 - handled by its eager callback
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """afteraction: record incidents, learn from them, measure reliability honestly.

    Settings come from AFTERACTION_* environment variables and a .env file
    (see docs/configuration.md).
    """

    def factory() -> Settings:
        overrides = {"database_url": database_url} if database_url else {}
        return Settings(**overrides)  # type: ignore[arg-type]

    if ctx.obj is None:
        ctx.obj = CliState(settings_factory=factory)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, revision: str = "head") -> None:
    """Create or migrate the database schema to the latest revision.

    Example: afteraction db upgrade
    """
    settings = state_of(ctx).settings
    upgrade(settings.database_url, revision)
    console.print(f"database at {revision}: {_redact(settings.database_url)}")


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Print the database's schema revision and the latest one.

    Example: afteraction db current
    """
    engine = make_engine(state_of(ctx).settings.database_url)
    try:
        current, head = current_revision(engine), head_revision()
    finally:
        engine.dispose()
    console.print(f"current: {current or 'none'}  latest: {head}")
    if current != head:
        console.print("run 'afteraction db upgrade' to migrate")


def _redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _read_password(prompt: bool) -> str:
    if sys.stdin.isatty() and prompt:
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("no password given on standard input", code=2)
    return password


@user_app.command("create")
def user_create(
    ctx: typer.Context,
    email: str,
    role: Annotated[str, typer.Option(help="admin, investigator, responder or viewer.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a user. The password (at least 12 characters, not a common one) is prompted
    for, or read from standard input when it is not a terminal.

    Example: echo 'a-long-s3cret-phrase' | afteraction user create admin@example.com --role admin
    """

    password = _read_password(prompt=True)
    with state_of(ctx).session() as session:

        def create() -> UserRead:
            with writing(session):
                user = users.create_user(
                    session, cli_actor(), email=email, password=password, role=role, name=name
                )
                return user_read(user)

        created = run(create)
    if json_output:
        print_model(created)
    else:
        console.print(f"created {role} {created.email}")


@user_app.command("password")
def user_password(ctx: typer.Context, email: str) -> None:
    """Set a user's password (at least 12 characters, not a common one); all their login
    sessions end. The password is prompted for, or read from standard input when it is not
    a terminal.

    Example: echo 'a-new-long-pass' | afteraction user password ops@example.com
    """

    password = _read_password(prompt=True)
    with state_of(ctx).session() as session:

        def change() -> str:
            with writing(session):
                user = passwords.user_by_email(session, email)
                passwords.set_password(session, cli_actor(), user, password, now=utcnow())
                return user.email

        console.print(f"password changed for {run(change)}; their sessions were signed out")


@user_app.command("force-reset")
def user_force_reset(ctx: typer.Context, email: str) -> None:
    """Make a user choose a new password at their next login; their sessions end now.

    Example: afteraction user force-reset ops@example.com
    """

    with state_of(ctx).session() as session:

        def reset() -> str:
            with writing(session):
                user = passwords.user_by_email(session, email)
                passwords.force_reset(session, cli_actor(), user, now=utcnow())
                return user.email

        console.print(f"{run(reset)} must choose a new password at their next login")


@user_app.command("unlock")
def user_unlock(ctx: typer.Context, email: str) -> None:
    """End a sign-in lock after too many wrong passwords (it also ends by itself).

    Example: afteraction user unlock ops@example.com
    """

    with state_of(ctx).session() as session:

        def unlock() -> int:
            with writing(session):
                return throttle.clear_account(session, cli_actor(), email)

        forgotten = run(unlock)
    console.print(f"{email.strip().lower()} may sign in again ({forgotten} failures forgotten)")


@user_app.command("list")
def user_list(ctx: typer.Context) -> None:
    """List users and their roles.

    Example: afteraction user list
    """
    with state_of(ctx).session() as session:
        for user in users.list_users(session):
            console.print(
                f"{user.email}\t{user.role}\t{'active' if user.is_active else 'disabled'}"
            )


@user_app.command("token")
def user_token(
    ctx: typer.Context,
    email: str,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
) -> None:
    """Create an API token for a user and print it once.

    Example: afteraction user token admin@example.com --name ci
    """

    with state_of(ctx).session() as session:

        def issue() -> str:
            with writing(session):
                user = session.scalar(select(User).where(User.email == email.lower()))
                if user is None:
                    fail(f"no user {email}")
                return users.issue_token(session, cli_actor(), user_id=user.id, name=name).secret

        say(run(issue))


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    worker: Annotated[bool, typer.Option(help="Run the job consumer in this process.")] = True,
    migrate: Annotated[bool, typer.Option(help="Run 'db upgrade' first.")] = True,
) -> None:
    """Run the web server (and, by default, the background job consumer).

    Example: afteraction serve --host 0.0.0.0 --port 8000
    """
    settings = state_of(ctx).settings
    if migrate:
        upgrade(settings.database_url)
    _serve(settings, host, port, worker=worker and settings.run_worker_in_process)


def _serve(settings: Settings, host: str, port: int, *, worker: bool) -> None:
    import uvicorn

    from afteraction.web.app import create_app

    application = create_app(settings, start_worker=worker)
    console.print(f"serving on http://{host}:{port}  (Ctrl+C to stop)")
    uvicorn.run(application, host=host, port=port, log_level="warning", proxy_headers=True)


@app.command("demo")
def demo(
    ctx: typer.Context,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve after loading.")
    ] = True,
) -> None:
    """Build the bundled sample organisation into the configured database, then serve it.

    Leaves the database URL and a generated secret key in ./.env (never changing an existing
    one), so the other commands work in this folder without extra settings.

    Example: afteraction demo --port 8000
    """
    from afteraction.demo.evidence_shift import demo_day
    from afteraction.demo.load import load_demo

    state = state_of(ctx)
    overrides: dict[str, object] = {"environment": "demo"}
    if state._settings is None and "AFTERACTION_ENVIRONMENT" not in os.environ:
        state._settings = development_settings(**overrides)  # demo allows a generated secret
        if ctx.parent and ctx.parent.params.get("database_url"):
            state._settings = development_settings(
                database_url=ctx.parent.params["database_url"], **overrides
            )
    settings = state.settings
    started = time.perf_counter()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session:
        summary = load_demo(session, today=demo_day(datetime.now(UTC).date()))
    engine.dispose()
    took = time.perf_counter() - started
    if summary.already_loaded:
        console.print("demo data already present; leaving it as it is")
    else:
        console.print(
            f"loaded {summary.incidents} incidents, {summary.people} people, "
            f"{summary.teams} teams, {summary.services} services in {took:.1f}s"
        )
    console.print(f"database: {_redact(settings.database_url)}")
    console.print(_remember_demo_settings(settings, Path(".env")))
    console.print(f"log in at http://{host}:{port}/login with any of:")
    for email, role in summary.users:
        console.print(f"  {email:26} {role:13} password: {summary.password}", highlight=False)
    if serve_after:
        _serve(settings, host, port, worker=settings.run_worker_in_process)


def _remember_demo_settings(settings: Settings, env_file: Path) -> str:
    """Write the demo's database URL and secret to `.env` in this folder, so that every other
    command (and `afteraction serve`) works here without extra settings. An existing `.env`
    is never changed: the message says what it lacks instead."""
    if "AFTERACTION_SECRET_KEY" in os.environ:
        return "settings: from the environment (AFTERACTION_SECRET_KEY is set)"
    if env_file.exists():
        if "AFTERACTION_SECRET_KEY" in env_file.read_text(encoding="utf-8", errors="replace"):
            return f"settings: {env_file} (left as it is)"
        return (
            f"settings: {env_file} exists without AFTERACTION_SECRET_KEY, so other commands here "
            "need AFTERACTION_ENVIRONMENT=development or a secret key; left as it is"
        )
    lines = (
        "# Written by `afteraction demo`: the CLI and `afteraction serve` read these here.",
        f"AFTERACTION_DATABASE_URL={settings.database_url}",
        f"AFTERACTION_SECRET_KEY={settings.secret_key.get_secret_value()}",
    )
    env_file.touch(mode=0o600)
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f"settings: wrote {env_file} (database URL and a generated secret key)"


@app.command("worker")
def worker(ctx: typer.Context, workers: Annotated[int, typer.Option(min=1, max=64)] = 2) -> None:
    """Run background job consumers (imports, reminders) until stopped.

    Example: afteraction worker --workers 4
    """
    from afteraction.jobs import build_queue, recover_stopped_imports

    settings = state_of(ctx).settings
    failed = recover_stopped_imports(settings)
    if failed:
        console.print(f"failed {len(failed)} import job(s) whose worker had stopped: {failed}")
    queue = build_queue(settings)
    consumer = queue.huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    console.print(f"job consumer running with {workers} workers (Ctrl+C to stop)")
    consumer.run()


app.command("lint-language")(lint_language)


def main() -> None:
    app(prog_name="afteraction")


if __name__ == "__main__":  # pragma: no cover
    main()
