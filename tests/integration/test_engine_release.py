"""An engine a notebook keeps does not lock its DuckDB file (issue 16): the library's DuckDB
engines hold no connection between uses, so `sparkify-dw run` in a terminal loads meanwhile."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from sparkify_dw import make_engine, open_warehouse
from sparkify_dw.analytics import run_query
from tests.helpers import sparkify


@pytest.fixture
def warehouse(sample_warehouse: str, tmp_path: Path) -> str:
    """A copy of the loaded sample warehouse: its URL."""
    path = tmp_path / "sample.duckdb"
    shutil.copy(sample_warehouse.removeprefix("duckdb:///"), path)
    return f"duckdb:///{path}"


def _songplays(url: str) -> int:
    engine = open_warehouse(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT count(*) FROM songplays")).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.parametrize("read_only", [False, True], ids=["read-write", "read-only"])
def test_an_engine_a_notebook_keeps_does_not_block_a_load(
    warehouse: str, tmp_path: Path, read_only: bool
) -> None:
    engine = make_engine(warehouse, read_only=read_only)  # kept, as a notebook keeps it
    try:
        before = run_query(engine, "level-split")  # used once: a connection was opened
        run = sparkify("run", "--db", warehouse, "--full-refresh", cwd=tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "Conflicting lock" not in run.stderr
        # The same engine reads what the terminal's load committed.
        assert run_query(engine, "level-split").rows == before.rows
    finally:
        engine.dispose()
    assert _songplays(warehouse) > 0


def test_a_connection_held_open_still_locks_the_file(warehouse: str, tmp_path: Path) -> None:
    """What the engine cannot release: a Connection the notebook keeps open (documented)."""
    engine = make_engine(warehouse)
    try:
        with engine.connect():
            run = sparkify("run", "--db", warehouse, cwd=tmp_path)
        assert run.returncode == 1
        assert "Conflicting lock" in run.stderr
    finally:
        engine.dispose()


def test_an_in_memory_database_keeps_its_connection() -> None:
    """`:memory:` is the pool's one connection: releasing it would lose the database."""
    engine = make_engine("duckdb:///:memory:")
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE t (a INTEGER)"))
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 0
    finally:
        engine.dispose()
