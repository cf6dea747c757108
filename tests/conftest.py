"""Shared fixtures: the engines every integration test runs on, where the data is, and the
command run in this process (`cli`)."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from sparkify_dw.config import SAMPLE_DIR
from tests.helpers import Run, load_dir

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference-data" / "sparkify"
PG_ADMIN_URL = os.environ.get(
    "SPARKIFY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The real Sparkify data beside the project (../shared), or a skip where it is absent."""
    if not (REFERENCE / "log_data").is_dir():
        pytest.skip(f"reference data not found at {REFERENCE} (a clone without ../shared)")
    return REFERENCE


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a DuckDB file with the bundled sample loaded, once per worker; the tests only
    read it (and dispose of their engines: another process may open it next)."""
    from sparkify_dw.db import make_engine

    url = f"duckdb:///{tmp_path_factory.mktemp('warehouse') / 'sample.duckdb'}"
    engine = make_engine(url)
    try:
        load_dir(engine, SAMPLE_DIR)
    finally:
        engine.dispose()
    return url


@pytest.fixture(params=["sample", pytest.param("reference", marks=pytest.mark.reference)])
def data_dir(request: pytest.FixtureRequest) -> Path:
    """The bundled sample, and the real Sparkify data where ../shared is present."""
    return Path(request.getfixturevalue(f"{request.param}_dir"))


def _postgres_admin() -> Engine:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        reason = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {str(exc.orig).splitlines()[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)
    return engine


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    admin = _postgres_admin()
    name = f"sparkify_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    return f"duckdb:///{tmp_path / 'test.duckdb'}"


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on DuckDB (a file on disk) and on the real PostgreSQL server."""
    fixture = "duckdb_url" if request.param == "duckdb" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    from sparkify_dw.db import make_engine

    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection to a database migrated to the latest schema."""
    from sparkify_dw import upgrade

    with engine.begin() as conn:
        upgrade(conn)
    with engine.connect() as conn:
        yield conn


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., Run]:
    """`sparkify-dw args…` through `sparkify_dw.cli.main()` in this process, in `tmp_path`,
    without SPARKIFY_ variables: what a user sees (exit code, stdout, stderr) without a new
    process.

    main(), not typer's CliRunner on the app: main() is what turns an error into one line.
    """
    from sparkify_dw.cli import main

    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        # each sets an option (SPARKIFY_DB_URL: --db); the password variable sets none
        if name.startswith("SPARKIFY_") and name != "SPARKIFY_DB_PASSWORD":
            monkeypatch.delenv(name)

    def invoke(*args: str) -> Run:
        capsys.readouterr()  # what came before is not this command's
        with monkeypatch.context() as patch:
            patch.setattr(sys, "argv", ["sparkify-dw", *args])
            try:
                main()
                code = 0
            except SystemExit as exit_:
                code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return invoke
