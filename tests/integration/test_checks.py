"""The data-quality checks (sparkify_dw.checks) on DuckDB and PostgreSQL, and as Redshift SQL.

A sound warehouse passes every check; each check fails when its rule is broken by hand. The
star tables have keys on DuckDB and PostgreSQL (informational only on Redshift, which is why the
uniqueness checks exist), so a test that needs a duplicate first recreates the table without
its keys: `CREATE TABLE t_copy AS SELECT * FROM t`, drop `t`, rename the copy. The same
statements work on both engines (DuckDB cannot drop a primary key; PostgreSQL could with
`ALTER TABLE … DROP CONSTRAINT`).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlfluff
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy_redshift.dialect import RedshiftDialect_redshift_connector

from sparkify_dw import upgrade
from sparkify_dw.checks import CHECKS, CheckResult, Severity, run_checks
from tests.helpers import copy_batch, load_dir, run_module

ERROR_CHECKS = {c.name for c in CHECKS if c.severity is Severity.ERROR}


def _not_passed(results: list[CheckResult]) -> dict[str, int]:
    return {r.name: r.offending for r in results if not r.passed}


def _by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


def _without_keys(connection: Connection, table: str) -> None:
    """Recreate `table` with the same rows and no primary key or unique constraint."""
    connection.exec_driver_sql(f"CREATE TABLE {table}_copy AS SELECT * FROM {table}")
    connection.exec_driver_sql(f"DROP TABLE {table}")
    connection.exec_driver_sql(f"ALTER TABLE {table}_copy RENAME TO {table}")


def _sql(connection: Connection, statement: str, **params: object) -> None:
    connection.execute(sa.text(statement), params)


def _orphan_play_and_duplicated_user(engine: Engine) -> None:
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO songplays (songplay_id, start_time, user_id, level, session_id) "
            "SELECT max(songplay_id) + 1, min(start_time), 999999, 'free', 1 FROM songplays",
        )
        _without_keys(c, "users")
        _sql(
            c,
            "INSERT INTO users SELECT * FROM users "
            "WHERE user_id = (SELECT min(user_id) FROM users)",
        )


def sparkify(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_module("sparkify_dw", *args, cwd=cwd)


def _one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


# A sound warehouse -----------------------------------------------------------------------------


def test_every_check_passes_after_a_load_and_after_incremental_loads(
    engine: Engine, sample_dir: Path, tmp_path: Path
) -> None:
    # The first half of the logs, then all of them: staging then holds only the last batch.
    logs = sorted((sample_dir / "log_data").rglob("*.json"))
    half = copy_batch(logs[: len(logs) // 2], tmp_path / "half")
    load_dir(engine, sample_dir, log_data=half)
    first = run_checks(engine)
    assert [r.name for r in first] == [c.name for c in CHECKS]
    assert _not_passed(first) == {}

    load_dir(engine, sample_dir)
    load_dir(engine, sample_dir, log_data=half)  # staging: half; songplays: every play
    results = run_checks(engine)
    assert _not_passed(results) == {}
    assert all(r.examples == () for r in results)


@pytest.mark.reference
def test_every_check_passes_on_the_reference_data_and_the_sample(
    engine: Engine, reference_dir: Path, sample_dir: Path
) -> None:
    load_dir(engine, reference_dir)
    assert _not_passed(run_checks(engine)) == {}
    load_dir(engine, sample_dir)  # another catalogue and other logs, merged in
    assert _not_passed(run_checks(engine)) == {}


# Each rule broken -------------------------------------------------------------------------------


def test_a_migrated_but_empty_warehouse_fails_only_the_emptiness_check(engine: Engine) -> None:
    with engine.begin() as c:
        upgrade(c)
    results = _by_name(run_checks(engine))
    assert _not_passed(list(results.values())) == {"star_tables_not_empty": 5}
    assert [e["table_name"] for e in results["star_tables_not_empty"].examples] == sorted(
        ["songplays", "users", "songs", "artists", "time"]
    )
    assert results["star_tables_not_empty"].failed

    with engine.begin() as c:
        _sql(c, "INSERT INTO artists (artist_id, name) VALUES ('AR1', 'One')")
    results = _by_name(run_checks(engine))
    assert results["star_tables_not_empty"].offending == 4


def test_each_check_fails_when_its_rule_is_broken(engine: Engine, sample_dir: Path) -> None:
    load_dir(engine, sample_dir)
    with engine.connect() as c:
        plays = c.execute(sa.text("SELECT songplay_id FROM songplays ORDER BY songplay_id"))
        p = [row[0] for row in plays]
        songs = [r[0] for r in c.execute(sa.text("SELECT song_id FROM songs ORDER BY song_id"))]
        first_user = c.execute(sa.text("SELECT min(user_id) FROM users")).scalar_one()
        next_id = c.execute(sa.text("SELECT max(songplay_id) + 1 FROM songplays")).scalar_one()
    with engine.begin() as c:
        for table in ("songplays", "users", "songs", "artists", "time"):
            _without_keys(c, table)
        # plays_have_users: a play by a user who is not in users
        # plays_have_time: a play whose start_time is not in time
        _sql(
            c,
            "INSERT INTO songplays (songplay_id, start_time, user_id, level, session_id) VALUES "
            "(:a, (SELECT min(start_time) FROM time), 999999, 'free', 1), "
            "(:b, TIMESTAMP '2000-01-01 00:00:00', :user, 'free', 1)",
            a=next_id,
            b=next_id + 1,
            user=first_user,
        )
        # unique_plays: a play stored twice (another songplay_id, the same identity)
        _sql(
            c,
            "INSERT INTO songplays SELECT :new, start_time, user_id, level, song_id, artist_id, "
            "session_id, location, user_agent FROM songplays WHERE songplay_id = :id",
            new=next_id + 2,
            id=p[0],
        )
        # unique_users / unique_songs / unique_artists / unique_time: a row stored twice
        _sql(c, "INSERT INTO users SELECT * FROM users WHERE user_id = :u", u=first_user)
        _sql(c, "INSERT INTO songs SELECT * FROM songs WHERE song_id = :s", s=songs[0])
        _sql(
            c,
            "INSERT INTO artists SELECT * FROM artists "
            "WHERE artist_id = (SELECT min(artist_id) FROM artists)",
        )
        _sql(
            c,
            "INSERT INTO time SELECT * FROM time "
            "WHERE start_time = (SELECT min(start_time) FROM time)",
        )
        # time_parts_match: a wrong hour
        _sql(
            c,
            "UPDATE time SET hour = (hour + 1) % 24 "
            "WHERE start_time = (SELECT max(start_time) FROM time)",
        )
        # plays_have_songs / plays_have_artists: ids the catalogue does not have
        _sql(
            c, "UPDATE songplays SET song_id = 'SONOTINCATALOGUE' WHERE songplay_id = :id", id=p[1]
        )
        _sql(
            c, "UPDATE songplays SET artist_id = 'ARNOTINCATALOG' WHERE songplay_id = :id", id=p[2]
        )
        # no_null_keys: the one key the schema lets be NULL, a song's artist
        _sql(c, "UPDATE songs SET artist_id = NULL WHERE song_id = :s", s=songs[1])
        # songs_have_artists: a song whose artist is not in artists
        _sql(c, "UPDATE songs SET artist_id = 'ARGONE' WHERE song_id = :s", s=songs[2])
        # staged_plays_loaded: a staged play missing from songplays
        _sql(c, "DELETE FROM songplays WHERE songplay_id = :id", id=p[3])

    results = run_checks(engine)
    assert _not_passed(results) == {
        "no_null_keys": 1,
        "unique_users": 1,
        "unique_songs": 1,
        "unique_artists": 1,
        "unique_time": 1,
        "unique_plays": 1,
        "plays_have_users": 1,
        "plays_have_time": 1,
        "plays_have_songs": 1,
        "plays_have_artists": 1,
        "songs_have_artists": 1,
        "staged_plays_loaded": 1,
        "time_parts_match": 1,
    }
    assert {r.name for r in results if r.failed} == ERROR_CHECKS - {"star_tables_not_empty"}
    found = _by_name(results)
    assert found["no_null_keys"].examples == (
        {"table_name": "songs", "column_name": "artist_id", "row_key": songs[1]},
    )
    assert found["unique_users"].examples == ({"user_id": first_user, "copies": 2},)
    assert found["unique_songs"].examples == ({"song_id": songs[0], "copies": 2},)
    (orphan,) = found["plays_have_users"].examples
    assert set(orphan) == {"songplay_id", "start_time", "user_id", "session_id"}
    assert (orphan["songplay_id"], orphan["user_id"]) == (next_id, 999999)
    assert found["plays_have_songs"].examples[0]["song_id"] == "SONOTINCATALOGUE"
    assert found["plays_have_artists"].examples[0]["artist_id"] == "ARNOTINCATALOG"
    assert found["songs_have_artists"].examples[0]["artist_id"] == "ARGONE"
    assert found["plays_have_time"].examples[0]["songplay_id"] == next_id + 1
    (wrong,) = found["time_parts_match"].examples
    assert (wrong["hour"] - wrong["start_time"].hour) % 24 == 1
    (missing,) = found["staged_plays_loaded"].examples
    assert set(missing) == {"user_id", "session_id", "start_time"}


def test_examples_are_capped_and_the_count_is_not(engine: Engine, sample_dir: Path) -> None:
    load_dir(engine, sample_dir)
    with engine.begin() as c:
        _sql(c, "UPDATE time SET weekday = (weekday + 1) % 7")
        total = c.execute(sa.text("SELECT count(*) FROM time")).scalar_one()
    (result,) = run_checks(engine, [c for c in CHECKS if c.name == "time_parts_match"])
    assert result.offending == total > 5
    assert len(result.examples) == 5
    starts = [e["start_time"] for e in result.examples]
    assert starts == sorted(starts)


def test_rejects_in_load_errors_are_a_warning_not_a_failure(
    engine: Engine, sample_dir: Path, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    for source in sorted((sample_dir / "log_data").rglob("*.json")):
        (logs / source.name).write_bytes(source.read_bytes())
    bad = sorted(logs.iterdir())[0]
    bad.write_bytes(bad.read_bytes() + b"{broken\n")
    load_dir(engine, sample_dir, log_data=logs, max_error=1)
    results = _by_name(run_checks(engine))
    warning = results["load_errors_reviewed"]
    assert (warning.offending, warning.passed, warning.failed) == (1, False, False)
    assert warning.severity is Severity.WARNING
    (reject,) = warning.examples
    assert reject["filename"].endswith(bad.name)
    assert reject["err_code"] == 1216
    assert not any(r.failed for r in results.values())

    with engine.begin() as c:  # reviewed: deleted
        _sql(c, "DELETE FROM load_errors WHERE load_id = :id", id=reject["load_id"])
    assert all(r.passed for r in run_checks(engine))


# The command ------------------------------------------------------------------------------------


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
    line = _one_line_error(failed, "2 data-quality check(s) failed")
    assert line.endswith(": unique_users, plays_have_users")
    assert "FAILED" in failed.stdout
    assert "user_id=999999" in failed.stdout
    assert "15 checks: 13 passed, 2 failed, 0 warning(s)" in failed.stdout


def test_check_without_a_warehouse_says_so_in_one_line(db_url: str, tmp_path: Path) -> None:
    result = sparkify("check", "--db", db_url, cwd=tmp_path)
    _one_line_error(result, "no warehouse at", "run `sparkify-dw run` first")
    assert not (tmp_path / "test.duckdb").exists()  # the check did not create the file
    missing_folder = sparkify("check", "--db", "duckdb:///nowhere/at/all.duckdb", cwd=tmp_path)
    _one_line_error(missing_folder, "no warehouse at duckdb:///nowhere/at/all.duckdb")


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
            "SELECT min(start_time), 999999, 'free', 1 FROM songplays",
        )
    engine.dispose()
    logs = tmp_path / "logs"
    logs.mkdir()
    first_day = sorted((sample_dir / "log_data").rglob("*.json"))[0]
    (logs / first_day.name).write_bytes(first_day.read_bytes() + b"{broken\n")
    second = sparkify("run", "--db", db, "--log-data", str(logs), "--max-error", "1", cwd=tmp_path)
    _one_line_error(
        second,
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
    run = sparkify("run", "--db", db, "--log-data", str(logs), "--max-error", "1", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "15 checks: 14 passed, 0 failed, 1 warning(s)" in run.stdout
    check = sparkify("check", "--db", db, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "load_errors_reviewed" in check.stdout
    assert "err_code=1216" in check.stdout


# Redshift ---------------------------------------------------------------------------------------

REDSHIFT = RedshiftDialect_redshift_connector()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_every_check_compiles_for_redshift_and_parses_as_redshift_sql(check: object) -> None:
    from sparkify_dw.checks import Check

    assert isinstance(check, Check)
    for query in (check.count(), check.examples()):
        compiled = query.compile(dialect=REDSHIFT, compile_kwargs={"literal_binds": True})
        sql = " ".join(str(compiled).split())
        tree = sqlfluff.parse(f"{sql};", dialect="redshift")
        assert "unparsable" not in json.dumps(tree), sql
        assert "IS DISTINCT FROM" not in sql  # Redshift has no IS DISTINCT FROM
