"""The checks `run` ends with read the rows the load's batch names (sparkify_dw.checkscope).

Two loads of the sample (half the songs and logs, then the other half): staging holds the
second batch. Each rule is then broken twice by hand, once on a row the batch names and once on
a row it does not: the load's scope finds the first, the whole warehouse both. DuckDB and
PostgreSQL, through the `engine` fixture. `run`'s choice of scope: tests/cli/test_run_checks.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from sparkify_dw.checks import CheckResult, run_checks
from tests.helpers import copy_batch, load_dir, without_keys


def _not_passed(results: list[CheckResult]) -> dict[str, int]:
    return {r.name: r.offending for r in results if not r.passed}


def _values(c: Connection, query: str) -> list[Any]:
    return [row[0] for row in c.execute(sa.text(query))]


def _sql(c: Connection, statement: str, **params: object) -> None:
    c.execute(sa.text(statement), params)


def _two_batches(engine: Engine, sample_dir: Path, tmp_path: Path) -> None:
    songs = sorted((sample_dir / "song_data").rglob("*.json"))
    logs = sorted((sample_dir / "log_data").rglob("*.json"))
    half_s, half_l = len(songs) // 2, len(logs) // 2
    load_dir(
        engine,
        sample_dir,
        song_data=copy_batch(songs[:half_s], tmp_path / "songs1"),
        log_data=copy_batch(logs[:half_l], tmp_path / "logs1"),
    )
    load_dir(
        engine,
        sample_dir,
        song_data=copy_batch(songs[half_s:], tmp_path / "songs2"),
        log_data=copy_batch(logs[half_l:], tmp_path / "logs2"),
    )


STAGED_PLAY = (
    "EXISTS (SELECT 1 FROM staging_events e WHERE e.user_id = songplays.user_id "
    "AND e.session_id = songplays.session_id AND e.page = 'NextSong' "
    "AND songplays.start_time = {start})"
)


def test_the_load_scope_finds_what_the_batch_names_and_only_that(
    engine: Engine, sample_dir: Path, tmp_path: Path
) -> None:
    _two_batches(engine, sample_dir, tmp_path)
    # A sound warehouse passes in both scopes.
    assert _not_passed(run_checks(engine, scope="load")) == {}
    assert _not_passed(run_checks(engine)) == {}

    start = (
        "TIMESTAMP '1970-01-01 00:00:00' + e.ts * INTERVAL '1 millisecond'"
        if engine.dialect.name == "postgresql"
        else "make_timestamp(e.ts * 1000)"
    )
    staged_play = STAGED_PLAY.format(start=start)
    with engine.connect() as c:
        in_users = _values(
            c, "SELECT DISTINCT user_id FROM staging_events WHERE user_id IS NOT NULL"
        )
        in_plays = _values(
            c, f"SELECT songplay_id FROM songplays WHERE {staged_play} ORDER BY songplay_id"
        )
        out_plays = _values(
            c,
            f"SELECT songplay_id FROM songplays WHERE NOT {staged_play} AND (song_id IS NULL "
            "OR song_id NOT IN (SELECT song_id FROM staging_songs)) ORDER BY songplay_id",
        )
        in_songs = _values(c, "SELECT song_id FROM staging_songs ORDER BY song_id")
        out_songs = _values(
            c,
            "SELECT song_id FROM songs WHERE song_id NOT IN "
            "(SELECT song_id FROM staging_songs) ORDER BY song_id",
        )
        in_artists = _values(c, "SELECT DISTINCT artist_id FROM staging_songs ORDER BY 1")
        out_artists = _values(
            c,
            "SELECT artist_id FROM artists WHERE artist_id NOT IN "
            "(SELECT artist_id FROM staging_songs) ORDER BY artist_id",
        )
        in_times = _values(
            c, f"SELECT start_time FROM songplays WHERE {staged_play} ORDER BY start_time"
        )
        out_times = _values(
            c,
            "SELECT start_time FROM time WHERE start_time NOT IN "
            f"(SELECT start_time FROM songplays WHERE {staged_play}) ORDER BY start_time",
        )
        next_id = c.execute(sa.text("SELECT max(songplay_id) + 1 FROM songplays")).scalar_one()
    for found in (in_users, in_songs, in_artists, out_artists):
        assert found, "the sample's two halves must each name users, songs and artists"
    assert min(len(in_plays), len(out_plays) - 1, len(in_songs), len(out_songs)) >= 3
    assert min(len(set(in_times)), len(out_times)) >= 2

    with engine.begin() as c:
        for table in ("songplays", "users", "songs", "artists", "time"):
            without_keys(c, table)
        # unique_users (every user of the sample plays in both halves: one the batch does not
        # name is made up, twice)
        _sql(c, "INSERT INTO users SELECT * FROM users WHERE user_id = :u", u=in_users[0])
        for _ in range(2):
            _sql(c, "INSERT INTO users (user_id, first_name, level) VALUES (999999, 'X', 'free')")
        for songs in (in_songs, out_songs):
            _sql(c, "INSERT INTO songs SELECT * FROM songs WHERE song_id = :s", s=songs[0])
            _sql(c, "UPDATE songs SET artist_id = NULL WHERE song_id = :s", s=songs[1])
            _sql(c, "UPDATE songs SET artist_id = 'ARGONE' WHERE song_id = :s", s=songs[2])
        for artists in (in_artists, out_artists):  # unique_artists
            _sql(c, "INSERT INTO artists SELECT * FROM artists WHERE artist_id = :a", a=artists[0])
        times = sorted(set(in_times))
        for first, second in ((times[0], times[1]), (out_times[0], out_times[1])):
            _sql(c, "INSERT INTO time SELECT * FROM time WHERE start_time = :t", t=first)
            _sql(c, "UPDATE time SET hour = (hour + 1) % 24 WHERE start_time = :t", t=second)
        for plays in (in_plays, out_plays):
            _sql(  # unique_plays: the same identity twice
                c,
                "INSERT INTO songplays SELECT :new, start_time, user_id, level, song_id, "
                "artist_id, session_id, location, user_agent FROM songplays "
                "WHERE songplay_id = :id",
                new=next_id,
                id=plays[0],
            )
            next_id += 1
            _sql(c, "UPDATE songplays SET song_id = 'SOGONE' WHERE songplay_id = :i", i=plays[1])
            _sql(c, "UPDATE songplays SET artist_id = 'ARGONE' WHERE songplay_id = :i", i=plays[2])
        # A play of the first batch re-matched onto a song of the second (as a late-arriving
        # song does), stored twice: the scope holds the plays naming a staged song.
        _sql(
            c,
            "UPDATE songplays SET song_id = :s, artist_id = NULL WHERE songplay_id = :i",
            s=in_songs[0],
            i=out_plays[3],
        )
        _sql(
            c,
            "INSERT INTO songplays SELECT :new, start_time, user_id, level, song_id, "
            "artist_id, session_id, location, user_agent FROM songplays WHERE songplay_id = :i",
            new=next_id,
            i=out_plays[3],
        )

    broken_once = {
        "no_null_keys": 1,
        "unique_users": 1,
        "unique_songs": 1,
        "unique_artists": 1,
        "unique_time": 1,
        "plays_have_songs": 1,
        "plays_have_artists": 1,
        "songs_have_artists": 1,
        "time_parts_match": 1,
    }
    load = run_checks(engine, scope="load")
    assert load.scope == "load"
    assert _not_passed(load) == {**broken_once, "unique_plays": 2}
    whole = run_checks(engine)
    assert whole.scope == "warehouse"
    assert _not_passed(whole) == {
        **{name: 2 * n for name, n in broken_once.items()},
        "unique_plays": 3,
    }
    assert "of the load's rows" in load.summary()
    assert "of the load's rows" not in whole.summary()


def test_an_empty_batch_checks_no_row_but_still_finds_an_empty_table(
    engine: Engine, sample_dir: Path, tmp_path: Path
) -> None:
    load_dir(engine, sample_dir)
    load_dir(engine, sample_dir)  # the ledger skips every file: staging is empty
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM staging_events")).scalar_one() == 0
    assert _not_passed(run_checks(engine, scope="load")) == {}
    with engine.begin() as c:
        _sql(c, "DELETE FROM time")
    results = {r.name: r for r in run_checks(engine, scope="load")}
    assert results["star_tables_not_empty"].offending == 1
    assert results["star_tables_not_empty"].examples == ({"table_name": "time"},)
    assert results["plays_have_time"].passed  # no play is in the load's scope
