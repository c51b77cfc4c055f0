"""`afteraction export --json` and `afteraction import-all` move the whole organisation
between databases of either kind, table by table, row by row. Here the demo organisation
leaves the suite's database (SQLite, or PostgreSQL in CI), goes into a fresh SQLite file,
comes back out of it unchanged, and goes back into the suite's database unchanged."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from afteraction.cli.main import app
from afteraction.config import development_settings
from afteraction.core.access import SYSTEM
from afteraction.core.errors import Conflict, ValidationError
from afteraction.demo.load import load_demo
from afteraction.services import search, transfer
from afteraction.storage.db import make_engine, make_session_factory
from afteraction.storage.tables import Incident
from tests.analysis_fixtures import build
from tests.conftest import _empty


def _tables(path: Path) -> dict[str, list[list[object]]]:
    """Every table's rows in an export, by table name."""
    out: dict[str, list[list[object]]] = {}
    current: list[list[object]] = []
    with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as handle:
        for raw in handle:
            item = orjson.loads(raw)
            if isinstance(item, dict) and "table" in item:
                current = out.setdefault(item["table"], [])
                current.append(item["columns"])
            elif isinstance(item, list):
                current.append(item)
    return out


def test_the_demo_organisation_round_trips_between_databases(
    database_url: str, engine: Engine, db: Session, tmp_path: Path
) -> None:
    load_demo(db)
    db.commit()
    here = development_settings(database_url=database_url)
    first = transfer.export_all(here, tmp_path / "first.jsonl.gz")
    assert first.rows["messages"] > 100 and first.rows["incidents"] > 20

    sqlite_url = f"sqlite:///{tmp_path / 'moved.db'}"
    there = development_settings(database_url=sqlite_url)
    moved = transfer.import_all(there, first.path)
    assert moved.rows == first.rows and moved.dialect == "sqlite"
    second = transfer.export_all(there, tmp_path / "second.jsonl")
    assert _tables(second.path) == _tables(first.path)

    # what the moved database serves: the same incidents, and its search index was rebuilt
    moved_engine = make_engine(sqlite_url)
    with make_session_factory(moved_engine)() as moved_db:
        keys = moved_db.scalars(select(Incident.id, Incident.title).order_by(Incident.id)).all()
        assert keys == db.scalars(select(Incident.id, Incident.title).order_by(Incident.id)).all()
        word = "rollback"
        assert (
            len(search.search(moved_db, SYSTEM, word, kinds=("messages",)).hits)
            == len(search.search(db, SYSTEM, word, kinds=("messages",)).hits)
            > 0
        )
    moved_engine.dispose()

    # and back into the suite's database, emptied: the same rows again
    db.close()
    _empty(engine)
    with pytest.raises(Conflict):
        transfer.import_all(there, first.path)  # the moved database holds data now
    back = transfer.import_all(here, second.path, force=True)
    assert back.rows == first.rows
    third = transfer.export_all(here, tmp_path / "third.jsonl")
    assert _tables(third.path) == _tables(first.path)
    # new rows get new ids after the loaded ones (PostgreSQL's sequences were moved on)
    with make_session_factory(engine)() as after:
        from afteraction.services import incidents as repo
        from afteraction.storage.db import writing

        with writing(after):
            row, _ = repo.declare(after, SYSTEM, repo.IncidentInput("After the move", "SEV3"))
        assert row.id > max(r[0] for r in _tables(first.path)["incidents"][1:])  # type: ignore[type-var]
    _empty(engine)


def test_bad_exports_are_refused_and_change_nothing(
    database_url: str, db: Session, tmp_path: Path
) -> None:
    target = development_settings(database_url=f"sqlite:///{tmp_path / 'target.db'}")
    missing = tmp_path / "none.jsonl"
    with pytest.raises(ValidationError, match="no export"):
        transfer.import_all(target, missing)
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"hello": 1}\n')
    with pytest.raises(ValidationError, match="not an afteraction export"):
        transfer.import_all(target, junk)
    here = development_settings(database_url=database_url)
    good = transfer.export_all(here, tmp_path / "good.jsonl")
    lines = good.path.read_bytes().splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(b"".join(lines[:-1]))  # no end line
    with pytest.raises(ValidationError, match="incomplete"):
        transfer.import_all(target, cut)
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b"".join([*lines[:-1], b"{not json\n", lines[-1]]))
    with pytest.raises(ValidationError, match=f"line {len(lines)}"):
        transfer.import_all(target, broken)
    with pytest.raises(Conflict, match="exists"):
        transfer.export_all(here, good.path)


def test_the_commands(database_url: str, db: Session, tmp_path: Path) -> None:
    build(db)
    runner = CliRunner()
    env = {"AFTERACTION_DATABASE_URL": database_url, "AFTERACTION_ENVIRONMENT": "development"}
    path = tmp_path / "org.jsonl.gz"
    out = runner.invoke(app, ["export", "--json", str(path)], env=env)
    assert out.exit_code == 0 and "exported" in out.stdout, out.output
    target = {**env, "AFTERACTION_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    loaded = runner.invoke(app, ["import-all", str(path)], env=target)
    assert loaded.exit_code == 0 and "imported" in loaded.stdout, loaded.output
    again = runner.invoke(app, ["import-all", str(path)], env=target)
    assert again.exit_code == 1 and "already holds data" in again.output
    forced = runner.invoke(app, ["import-all", str(path), "--force"], env=target)
    assert forced.exit_code == 0, forced.output
