"""`sparkify-dw check`, and the checks `sparkify-dw run` prints, as a user runs them: the
command's own process on DuckDB and PostgreSQL; the mistakes through `main()` in this one.

The checks themselves: tests/integration/test_checks.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from tests.helpers import Run, load_dir, sparkify, without_keys


def _sql(connection: Connection, statement: str, **params: object) -> None:
    connection.execute(sa.text(statement), params)


def _orphan_play_and_duplicated_user(engine: Engine) -> None:
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO songplays (songplay_id, start_time, user_id, level, session_id) "
            "SELECT max(songplay_id) + 1, min(start_time), 999999, 'free', 1 FROM songplays",
        )
        without_keys(c, "users")
        _sql(
            c,
            "INSERT INTO users SELECT * FROM users "
            "WHERE user_id = (SELECT min(user_id) FROM users)",
        )


def test_check_names_the_failed_checks_and_exits_1(
    engine: Engine, db_url: str, data_dir: Path, tmp_path: Path
) -> None:
    load_dir(engine, data_dir)
    engine.dispose()  # DuckDB: one process at a time
    passed = sparkify("check", "--db", db_url, cwd=tmp_path)
    assert passed.returncode == 0, passed.stderr
    assert "15 checks: 15 passed, 0 failed, 0 warning(s)" in passed.stdout

    _orphan_play_and_duplicated_user(engine)
    engine.dispose()  # DuckDB: one process at a time
    failed = sparkify("check", "--db", db_url, cwd=tmp_path)
    line = failed.error_line("2 data-quality check(s) failed")
    assert line.endswith(": unique_users, plays_have_users")
    assert "FAILED" in failed.stdout
    assert "user_id=999999" in failed.stdout
    assert "15 checks: 13 passed, 2 failed, 0 warning(s)" in failed.stdout


def test_check_without_a_warehouse_says_so_in_one_line(
    db_url: str, tmp_path: Path, cli: Callable[..., Run]
) -> None:
    result = cli("check", "--db", db_url)
    result.error_line("no warehouse at", "run `sparkify-dw run` first")
    assert not (tmp_path / "test.duckdb").exists()  # the check did not create the file
    missing_folder = cli("check", "--db", "duckdb:///nowhere/at/all.duckdb")  # in tmp_path
    missing_folder.error_line("no warehouse at duckdb:///nowhere/at/all.duckdb")


def test_run_prints_the_checks_and_a_failure_exits_1_with_the_load_committed(
    tmp_path: Path, sample_dir: Path
) -> None:
    db = f"duckdb:///{tmp_path / 'w.duckdb'}"
    first = sparkify("run", "--db", db, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Data-quality checks: 15 checks: 15 passed, 0 failed, 0 warning(s)" in first.stdout

    engine = sa.create_engine(db)
    with engine.begin() as c:  # a play by nobody: no merge removes it
        _sql(
            c,
            "INSERT INTO songplays (start_time, user_id, level, session_id) "
            # the last day: the first day's file (changed below) brings none of its plays
            "SELECT max(start_time), 999999, 'free', 1 FROM songplays",
        )
    engine.dispose()
    logs = tmp_path / "logs"
    logs.mkdir()
    first_day = sorted((sample_dir / "log_data").rglob("*.json"))[0]
    (logs / first_day.name).write_bytes(first_day.read_bytes() + b"{broken\n")
    run = ("run", "--db", db, "--song-data", str(sample_dir / "song_data"), "--log-data",
           str(logs), "--max-error", "1")  # fmt: skip
    scoped = sparkify(*run, cwd=tmp_path)  # the play by nobody is not a row this load names
    assert scoped.returncode == 0, scoped.stderr
    assert (
        "Data-quality checks of the load's rows (`sparkify-dw check` reads every row): "
        "15 checks: 14 passed, 0 failed, 1 warning(s)"
    ) in scoped.stdout
    second = sparkify(*run, "--all", "--check-all", cwd=tmp_path)
    second.error_line(
        "1 data-quality check(s) failed after the load (the load itself is committed): "
        "plays_have_users",
    )
    assert "1 rejected" in second.stdout  # the load's report came first
    assert "15 checks: 13 passed, 1 failed, 1 warning(s)" in second.stdout
    assert "load_errors_reviewed" in second.stdout
    with sa.create_engine(db).connect() as c:  # the load was committed: staging is that day
        staged = c.execute(sa.text("SELECT count(*) FROM staging_events")).scalar_one()
    assert staged == len(first_day.read_text().splitlines())


def test_a_warning_alone_exits_0(tmp_path: Path, sample_dir: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    first_day = sorted((sample_dir / "log_data").rglob("*.json"))[0]
    (logs / first_day.name).write_bytes(first_day.read_bytes() + b"{broken\n")
    db = f"duckdb:///{tmp_path / 'w.duckdb'}"
    run = sparkify(
        "run", "--db", db, "--song-data", str(sample_dir / "song_data"), "--log-data", str(logs),
        "--max-error", "1", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "15 checks: 14 passed, 0 failed, 1 warning(s)" in run.stdout
    check = sparkify("check", "--db", db, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "load_errors_reviewed" in check.stdout
    assert "err_code=1216" in check.stdout
