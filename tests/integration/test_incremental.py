"""Incremental, idempotent star loads (data contract, "Incremental loads") on DuckDB and PostgreSQL.

Batches in any order, twice, late, or killed part-way end where loading everything at once does;
two loads at once on PostgreSQL serialise on the library's lock.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from sparkify_dw import LoadReport
from sparkify_dw.backends.postgresql import LOCK_KEY, LOCK_NAME
from sparkify_dw.datagen import generate
from sparkify_dw.db import make_engine
from sparkify_dw.errors import DatabaseError
from tests.helpers import copy_batch, load_dir
from tests.oracle import actual_tables, expected_tables, star_of

STAR = ("songplays", "users", "songs", "artists", "time")


def _star(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every star table's rows, songplay_id left out (a surrogate, not part of the contract)."""
    with engine.connect() as connection:
        tables = {}
        for table in STAR:
            rows = connection.execute(sa.text(f'SELECT * FROM "{table}"')).all()
            skip = 1 if table == "songplays" else 0
            tables[table] = sorted((tuple(r)[skip:] for r in rows), key=repr)
    return tables


def _counts(report: LoadReport) -> dict[str, tuple[int, int]]:
    return {t.table: (t.added, t.changed) for t in report.tables if t.table in STAR}


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated month: users who upgrade and downgrade, plays in and out of the catalogue."""
    out = tmp_path_factory.mktemp("month")
    generate(out, songs=120, events=3000, seed=11)
    return out


@pytest.mark.slow
@pytest.mark.reference
def test_second_half_then_first_half_then_the_month_is_the_month(
    engine: Engine, reference_dir: Path, tmp_path: Path
) -> None:
    logs = sorted((reference_dir / "log_data").rglob("*.json"))
    second = copy_batch(logs[15:], tmp_path / "second")
    first = copy_batch(logs[:15], tmp_path / "first")
    load_dir(engine, reference_dir, second)
    load_dir(engine, reference_dir, first)
    again = load_dir(engine, reference_dir)
    assert _counts(again) == {t: (0, 0) for t in STAR}  # the month again: nothing to do
    expected = expected_tables(reference_dir / "song_data", reference_dir / "log_data")
    with engine.connect() as connection:
        assert star_of(actual_tables(connection)) == star_of(expected)


@pytest.mark.slow
def test_days_in_any_order_and_twice_end_where_the_month_at_once_does(
    engine: Engine, month: Path, tmp_path: Path
) -> None:
    days = sorted((month / "log_data").rglob("*.json"))
    order = [*days, *days[3:6]]  # three days arrive twice
    random.Random(5).shuffle(order)
    changed_users = 0
    for n, day in enumerate(order):
        report = load_dir(engine, month, copy_batch([day], tmp_path / f"batch{n}"))
        changed_users += next(t.changed for t in report.tables if t.table == "users")
    expected = expected_tables(month / "song_data", month / "log_data")
    with engine.connect() as connection:
        # staging holds the last batch's new objects only
        assert star_of(actual_tables(connection)) == star_of(expected)
    assert changed_users > 0  # later days moved users to a newer state

    at_once = make_engine(str(engine.url).replace("test.duckdb", "at_once.duckdb"))
    if engine.dialect.name == "duckdb":  # and the very same rows as one load of the month
        load_dir(at_once, month)
        assert _star(at_once) == _star(engine)
    at_once.dispose()


def test_the_report_counts_rows_added_and_changed(
    engine: Engine, month: Path, tmp_path: Path
) -> None:
    first = load_dir(engine, month)
    expected = expected_tables(month / "song_data", month / "log_data")
    sizes = {
        "songplays": len(expected.songplays),
        "users": len(expected.users),
        "songs": len(expected.songs),
        "artists": len(expected.artists),
        "time": len(expected.time),
    }
    assert _counts(first) == {t: (sizes[t], 0) for t in STAR}

    # A newer catalogue: one artist renamed, one song's year corrected.
    catalogue = tmp_path / "catalogue"
    shutil.copytree(month / "song_data", catalogue / "song_data")
    shutil.copyfile(month / "log_json_path.json", catalogue / "log_json_path.json")
    song_file = sorted((catalogue / "song_data").rglob("*.json"))[0]
    song = json.loads(song_file.read_text())
    song["year"] = 1999 if song["year"] != 1999 else 2000
    song_file.write_text(json.dumps(song))
    renamed = [
        f
        for f in (catalogue / "song_data").rglob("*.json")
        if json.loads(f.read_text())["artist_id"] == song["artist_id"]
    ]
    for f in renamed:  # every song of that artist, so the smallest song_id carries the name
        record = json.loads(f.read_text())
        record["artist_name"] = "Renamed Artist"
        f.write_text(json.dumps(record))
    second = load_dir(engine, catalogue, month / "log_data")
    # The renamed songs no longer match the plays that name the old artist name: those plays
    # lose their song (data contract: the later delivery wins; a play matches on artist_name).
    renamed_expected = expected_tables(catalogue / "song_data", month / "log_data")
    rematched = len(expected.songplays - renamed_expected.songplays)
    assert rematched > 0
    assert _counts(second) == {
        "songplays": (0, rematched),
        "users": (0, 0),
        "songs": (0, 1),
        "artists": (0, 1),
        "time": (0, 0),
    }
    with engine.connect() as connection:
        name = connection.execute(
            sa.text("SELECT name FROM artists WHERE artist_id = :a"), {"a": song["artist_id"]}
        ).scalar_one()
        held = replace(actual_tables(connection), staging_events=0, staging_songs=0)
    assert held == replace(renamed_expected, staging_events=0, staging_songs=0)
    assert name == "Renamed Artist"


def test_full_refresh_rebuilds_the_star_tables_from_what_is_staged(
    engine: Engine, month: Path, tmp_path: Path
) -> None:
    load_dir(engine, month)
    days = sorted((month / "log_data").rglob("*.json"))
    week = copy_batch(days[:7], tmp_path / "week")
    report = load_dir(engine, month, week, full_refresh=True)
    assert report.full_refresh
    expected = expected_tables(month / "song_data", week)
    with engine.connect() as connection:
        assert star_of(actual_tables(connection)) == star_of(expected)
    assert report.rows("songplays") == len(expected.songplays)
    assert next(t.added for t in report.tables if t.table == "songplays") < 0


# A load in a child process that stops for good after the users, songs and artists merges
# (it prints "paused" and sleeps), so the test can kill it there with SIGKILL.
_PAUSING_LOAD = """
import sys, time
import sparkify_dw.loader as loader

real = loader.star_merges

def pausing(tables):
    merges = real(tables)
    songplays = merges[3]
    fill = songplays.fill

    class Paused(type(songplays)):
        def fill(self):
            print("paused", flush=True)
            time.sleep(600)
            return fill()

    paused = Paused(**{f: getattr(songplays, f) for f in songplays.__dataclass_fields__})
    return [*merges[:3], paused, *merges[4:]]

loader.star_merges = pausing
data, db = sys.argv[1], sys.argv[2]
loader.load(loader.make_engine(db), song_data=data + "/song_data", log_data=data + "/log_data",
            log_jsonpath=data + "/log_json_path.json")
"""


def test_a_killed_load_changes_nothing_and_the_next_run_completes(
    db_url: str, month: Path, tmp_path: Path
) -> None:
    engine = make_engine(db_url)
    days = sorted((month / "log_data").rglob("*.json"))
    load_dir(engine, month, copy_batch(days[:10], tmp_path / "early"))
    before = _star(engine)
    engine.dispose()  # DuckDB: one process may write the file at a time

    child = subprocess.Popen(
        [sys.executable, "-c", _PAUSING_LOAD, str(month), db_url],
        stdout=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "SPARKIFY_DB_URL"},
    )
    try:
        line = child.stdout.readline()  # type: ignore[union-attr]  # stdout=PIPE: never None
        assert line.strip() == "paused"  # users/songs/artists written
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=60)
        if child.stdout is not None:
            child.stdout.close()

    engine = make_engine(db_url)
    try:
        assert _star(engine) == before
        load_dir(engine, month)
        with engine.connect() as connection:
            assert star_of(actual_tables(connection)) == star_of(
                expected_tables(month / "song_data", month / "log_data")
            )
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_concurrent_loads_on_postgresql_wait_for_each_other_and_add_nothing_twice(
    postgres_url: str, month: Path
) -> None:
    engines = [make_engine(postgres_url) for _ in range(3)]
    holder, first, second = engines
    load_dir(first, month)  # migrate, so the loads below only merge
    waits: list[str] = []
    errors: list[BaseException] = []

    def loader(engine: Engine) -> None:
        try:
            load_dir(engine, month, notify=waits.append)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    try:
        with holder.begin() as connection:  # hold the load lock, as a running load would
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_KEY)))
            threads = [threading.Thread(target=loader, args=(e,)) for e in (first, second)]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 60
            while len(waits) < 2 and time.monotonic() < deadline and not errors:
                time.sleep(0.05)
            assert not errors
            assert len(waits) == 2, waits  # both loads wait, and say for what
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert all(LOCK_NAME in w and str(LOCK_KEY) in w for w in waits)
        with first.connect() as connection:
            duplicates = connection.execute(
                sa.text(
                    "SELECT count(*) FROM (SELECT user_id, session_id, start_time FROM songplays "
                    "GROUP BY 1, 2, 3 HAVING count(*) > 1) d"
                )
            ).scalar_one()
            assert duplicates == 0
            assert star_of(actual_tables(connection)) == star_of(
                expected_tables(month / "song_data", month / "log_data")
            )
    finally:
        for engine in engines:
            engine.dispose()


@pytest.mark.postgres
def test_concurrent_loads_without_waiting_both_succeed(postgres_url: str, month: Path) -> None:
    engines = [make_engine(postgres_url) for _ in range(2)]
    load_dir(engines[0], month)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def loader(engine: Engine) -> None:
        try:
            barrier.wait()
            load_dir(engine, month)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=loader, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert not errors, errors
        with engines[0].connect() as connection:
            assert star_of(actual_tables(connection)) == star_of(
                expected_tables(month / "song_data", month / "log_data")
            )
    finally:
        for engine in engines:
            engine.dispose()


CONFLICT = "TransactionContext Error: Conflict on update!"  # DuckDB's own words


class _SerializationFailure(Exception):
    sqlstate = "40001"  # what psycopg's errors.SerializationFailure carries


def _conflict(engine: Engine) -> sa.exc.DBAPIError:
    """The error a concurrent transaction gives this engine, as SQLAlchemy wraps it."""
    if engine.dialect.name == "duckdb":
        import duckdb

        error: Exception = duckdb.TransactionException(
            "TransactionContext Error: Conflict on update!"
        )
    else:
        error = _SerializationFailure("conflict")
    return sa.exc.OperationalError("INSERT …", {}, error)


def test_a_serialization_failure_is_retried_then_the_load_completes(
    engine: Engine, month: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sparkify_dw.loader as loader

    real_transform = loader.transform
    calls = []

    def conflicting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:  # as Redshift's error 1023 or PostgreSQL's 40001 would
            raise _conflict(engine)
        return real_transform(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loader, "transform", conflicting)
    monkeypatch.setattr(loader, "RETRY_SECONDS", 0.0)
    notices: list[str] = []
    load_dir(engine, month, notify=notices.append)
    assert len(calls) == 2
    assert len(notices) == 1
    assert "Trying again (1 of 3)" in notices[0]
    with engine.connect() as connection:
        assert star_of(actual_tables(connection)) == star_of(
            expected_tables(month / "song_data", month / "log_data")
        )


def test_a_retry_gives_up_after_the_bound(
    engine: Engine, month: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sparkify_dw.loader as loader

    def always(*args: object, **kwargs: object) -> object:
        raise _conflict(engine)

    monkeypatch.setattr(loader, "transform", always)
    monkeypatch.setattr(loader, "RETRY_SECONDS", 0.0)
    notices: list[str] = []
    with pytest.raises(DatabaseError, match=r"(?i)conflict"):
        load_dir(engine, month, notify=notices.append)
    assert len(notices) == loader.SERIALIZATION_RETRIES


@pytest.mark.postgres
def test_duckdb_and_postgresql_hold_the_same_star_tables(
    duckdb_url: str, postgres_url: str, month: Path, tmp_path: Path
) -> None:
    days = sorted((month / "log_data").rglob("*.json"))
    batches = [copy_batch(days[15:], tmp_path / "late"), copy_batch(days[:15], tmp_path / "early")]
    stars = []
    for url in (duckdb_url, postgres_url):
        engine = make_engine(url)
        for batch in batches:
            load_dir(engine, month, batch)
        stars.append(_star(engine))
        engine.dispose()
    assert stars[0] == stars[1]
