"""The data-quality checks (sparkify_dw.checks) on DuckDB and PostgreSQL.

A sound warehouse passes every check; each check fails when its rule is broken by hand. The
star tables have keys on DuckDB and PostgreSQL (informational only on Redshift, which is why the
uniqueness checks exist), so a test that needs a duplicate first recreates the table without
its keys (`tests.helpers.without_keys`). The command: tests/cli/test_check_command.py; the
checks as Redshift SQL: tests/sql/test_checks_sql.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from sparkify_dw import upgrade
from sparkify_dw.checks import CHECKS, CheckResult, Severity, run_checks
from tests.helpers import copy_batch, load_dir, without_keys

ERROR_CHECKS = {c.name for c in CHECKS if c.severity is Severity.ERROR}


def _not_passed(results: list[CheckResult]) -> dict[str, int]:
    return {r.name: r.offending for r in results if not r.passed}


def _by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


def _sql(connection: Connection, statement: str, **params: object) -> None:
    connection.execute(sa.text(statement), params)


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
            without_keys(c, table)
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
