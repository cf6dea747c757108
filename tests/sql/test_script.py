"""`sparkify-dw sql` and `alembic upgrade head --sql`: every statement for Redshift, reviewable
offline, parsed by sqlfluff's Redshift grammar, compared with golden files, and (for the engines
that run here) executed for real.

Golden files: `tests/sql/golden/`. After an intended change to the DDL or the COPY, rewrite
them with `SPARKIFY_UPDATE_GOLDEN=1 scripts/test tests/sql/test_script.py` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from sqlalchemy_redshift.dialect import RedshiftIdentifierPreparer

from sparkify_dw.config import Settings
from sparkify_dw.migrate import head_revision, offline_sql
from sparkify_dw.models import Base
from sparkify_dw.script import run_script
from tests.helpers import Run, parse_redshift, python, sparkify
from tests.oracle import read_events, read_songs

GOLDEN = Path(__file__).parent / "golden"
REDSHIFT_URL = "redshift+redshift_connector://awsuser:Sup3rS3cret@cluster.example:5439/dev"
ROLE = "arn:aws:iam::123456789012:role/dwhRole"


def _statements(script: str) -> list[str]:
    """The script's statements: each ends with `;` at the end of a line."""
    without_comments = "\n".join(
        line for line in script.splitlines() if not line.lstrip().startswith("--")
    )
    return [s.strip() for s in re.split(r";\s*\n", without_comments + "\n") if s.strip()]


def _normalised(sql: str) -> str:
    return " ".join(sql.split())


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SPARKIFY_UPDATE_GOLDEN"):
        path.write_text(actual)
    assert path.is_file(), f"no golden file {path}: run with SPARKIFY_UPDATE_GOLDEN=1"
    assert _normalised(actual) == _normalised(path.read_text()), (
        f"{name} changed: if intended, SPARKIFY_UPDATE_GOLDEN=1 and review the diff"
    )


@pytest.fixture
def dwh_cfg(tmp_path: Path) -> Path:
    """The original scripts' dwh.cfg, with a password that must never be printed."""
    config = tmp_path / "dwh.cfg"
    config.write_text(
        "[CLUSTER]\nHOST=cluster.example\nDB_NAME=dev\nDB_USER=awsuser\n"
        "DB_PASSWORD=Sup3rS3cret\nDB_PORT=5439\n\n"
        f"[IAM_ROLE]\nARN='{ROLE}'\n\n"
        "[S3]\nLOG_DATA='s3://udacity-dend/log_data'\n"
        "LOG_JSONPATH='s3://udacity-dend/log_json_path.json'\n"
        "SONG_DATA='s3://udacity-dend/song_data'\n"
    )
    return config


@pytest.fixture(scope="module")
def redshift_script() -> str:
    settings = Settings(
        db_url=REDSHIFT_URL,
        song_data="s3://udacity-dend/song_data",
        log_data="s3://udacity-dend/log_data",
        log_jsonpath="s3://udacity-dend/log_json_path.json",
        iam_role_arn=ROLE,
    )
    return run_script("redshift", settings)


def test_the_redshift_script_parses_and_carries_the_design_the_copies_and_the_merge(
    redshift_script: str,
) -> None:
    parse_redshift(redshift_script)
    flat = _normalised(redshift_script)
    for expected in (
        "DISTKEY (start_time)",
        "SORTKEY (start_time)",
        "DISTSTYLE ALL",
        "IDENTITY(0,1)",
        "COPY staging_songs FROM 's3://udacity-dend/song_data'",
        "COPY staging_events FROM 's3://udacity-dend/log_data'",
        f"aws_iam_role={ROLE}",
        "FORMAT AS JSON AS 's3://udacity-dend/log_json_path.json'",
        "CREATE TABLE IF NOT EXISTS sparkify_dw_lock (locked_by VARCHAR(64));",
        "LOCK sparkify_dw_lock;",
        "DELETE FROM users USING merge_users",
        "INSERT INTO songplays (start_time,",
        "INSERT INTO alembic_version (version_num) VALUES ('0001');",
    ):
        assert expected in flat, expected
    assert "RETURNING" not in flat  # sqlalchemy-redshift issue 281
    assert "Sup3rS3cret" not in redshift_script
    statements = _statements(redshift_script)
    assert statements[0] == "BEGIN"
    assert statements.count("COMMIT") == 2  # the migrations', then the load's
    analytics = statements[statements.index("COMMIT", statements.index("BEGIN", 1)) + 1 :]
    assert len(analytics) == 10  # every analytics query, after the load
    assert all(s.startswith("SELECT") for s in analytics)
    assert all(not s.endswith(";") for s in statements)  # one `;` each, split cleanly


def test_sql_command_prints_the_script_from_a_dwh_cfg_without_its_password(
    tmp_path: Path, dwh_cfg: Path
) -> None:
    result = sparkify("sql", "--dialect", "redshift", "--config", str(dwh_cfg), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Sup3rS3cret" not in result.stdout + result.stderr
    assert f"aws_iam_role={ROLE}" in result.stdout
    assert "COPY staging_events FROM 's3://udacity-dend/log_data'" in result.stdout
    parse_redshift(result.stdout)


def test_alembic_offline_for_redshift_writes_ddl_that_parses(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    result = python(
        "-m",
        "alembic",
        "-c",
        str(repo / "alembic.ini"),
        "upgrade",
        "head",
        "--sql",
        cwd=tmp_path,
        env={"SPARKIFY_DB_URL": REDSHIFT_URL},
    )
    assert result.returncode == 0, result.stderr
    ddl = result.stdout
    assert "RETURNING" not in ddl  # the version table's INSERT must run on Redshift
    assert "INSERT INTO alembic_version (version_num) VALUES ('0001');" in ddl
    assert f"UPDATE alembic_version SET version_num='{head_revision()}'" in ddl
    assert "Sup3rS3cret" not in ddl + result.stderr
    parse_redshift(ddl)


def test_golden_redshift_ddl() -> None:
    _golden("redshift_ddl.sql", offline_sql(REDSHIFT_URL))


def test_golden_redshift_copies(redshift_script: str) -> None:
    copies = [s for s in _statements(redshift_script) if s.startswith("COPY ")]
    assert len(copies) == 2
    _golden("redshift_copy.sql", ";\n\n".join(copies) + ";\n")


def test_identifiers_are_quoted_exactly_where_redshift_reserves_them(
    redshift_script: str,
) -> None:
    # AWS's reserved words (sqlalchemy-redshift keeps the list): none of the contract's names
    # (time, year, hour, day, month, level, location, …) is one, so none needs quoting; a name
    # that is would be quoted by the dialect.
    reserved = RedshiftIdentifierPreparer.reserved_words
    names = {t.name for t in Base.metadata.tables.values()} | {
        c.name for t in Base.metadata.tables.values() for c in t.columns
    }
    assert {n for n in names if n.lower() in reserved} == set()
    assert '"' not in redshift_script.split("-- 2. The load")[0]
    preparer = RedshiftIdentifierPreparer(sa.create_engine(REDSHIFT_URL).dialect)
    assert preparer.quote("user") == '"user"'
    assert preparer.quote("timestamp") == '"timestamp"'
    assert preparer.quote("time") == "time"


@pytest.mark.reference
def test_varchar_sizes_hold_the_real_data_in_bytes(reference_dir: Path) -> None:
    from sparkify_dw.models import StagingEvent, StagingSong

    jsonpaths = json.loads((reference_dir / "log_json_path.json").read_text())["jsonpaths"]
    keys = [p.split("'")[1] for p in jsonpaths]
    events_columns = list(StagingEvent.__table__.columns)
    for records, columns, key_of in (
        (
            read_events(reference_dir / "log_data"),
            events_columns,
            dict(zip([c.name for c in events_columns], keys, strict=True)),
        ),
        (read_songs(reference_dir / "song_data"), list(StagingSong.__table__.columns), None),
    ):
        for column in columns:
            length = getattr(column.type, "length", None)
            if length is None:
                continue
            key = key_of[column.name] if key_of else column.name
            widest = max(len(str(r.get(key) or "").encode()) for r in records)
            assert widest <= length, f"{column.table.name}.{column.name}: {widest} > {length}"


def _run_statements(execute: object, script: str) -> None:
    for statement in _statements(script):
        execute(statement)  # type: ignore[operator]


def test_the_duckdb_script_runs_on_duckdb(tmp_path: Path) -> None:
    script = run_script("duckdb")
    connection = duckdb.connect(str(tmp_path / "script.duckdb"))
    try:
        _run_statements(connection.execute, script)
        tables = {r[0] for r in connection.execute("SHOW TABLES").fetchall()}
        version = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    finally:
        connection.close()
    assert {"songplays", "users", "songs", "artists", "time", "load_errors"} <= tables
    assert version == [(head_revision(),)]


@pytest.mark.postgres
def test_the_postgresql_script_runs_on_postgresql(postgres_url: str) -> None:
    import psycopg

    script = run_script("postgresql")
    conninfo = sa.make_url(postgres_url).set(drivername="postgresql")
    with psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True) as conn:
        _run_statements(conn.execute, script)
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables").fetchall()}
        version = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {"songplays", "users", "songs", "artists", "time", "load_errors"} <= tables
    assert version == [(head_revision(),)]


def test_a_malformed_role_arn_is_one_line_not_a_traceback(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    config = tmp_path / "dwh.cfg"
    config.write_text("[IAM_ROLE]\nARN=arn:aws:iam::123:role/dwhRole\n")
    result = cli("sql", "--config", str(config))
    result.error_line("The IAM role ARN 'arn:aws:iam::123:role/dwhRole'", "12-digit account")


def test_alembic_takes_the_cluster_from_a_dwh_cfg(tmp_path: Path, dwh_cfg: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    args = ("-m", "alembic", "-c", str(repo / "alembic.ini"), "-x", f"config={dwh_cfg}")
    result = python(*args, "upgrade", "head", "--sql", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "DISTKEY (start_time)" in result.stdout  # Redshift's DDL: the cluster's dialect
    assert "Sup3rS3cret" not in result.stdout + result.stderr
    missing = python(*args[:-1], "config=nowhere.cfg", "upgrade", "head", "--sql", cwd=tmp_path)
    assert missing.returncode != 0
    assert "Config file not found" in missing.stderr
    assert "Traceback" not in missing.stderr
