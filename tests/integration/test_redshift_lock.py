"""Redshift's load lock, run on PostgreSQL: `LOCK` takes the same ACCESS EXCLUSIVE table lock
there (https://docs.aws.amazon.com/redshift/latest/dg/r_LOCK.html; PostgreSQL's LOCK without a
mode), and `CREATE TABLE IF NOT EXISTS` races the same way, so the Redshift backend's locking is
exercised on a real server: two first runs do not fail, a second load waits for the first, and
readers of the star tables are never blocked by a load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from sparkify_dw import upgrade
from sparkify_dw.backends.redshift import BACKEND as REDSHIFT
from sparkify_dw.backends.redshift import LOCK_TABLE
from sparkify_dw.db import make_engine

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def _quiet(message: str) -> None:
    pass


def test_two_first_runs_make_the_lock_table_once_and_neither_fails(pg: Engine) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def first_run() -> None:
        try:
            start.wait()
            with pg.begin() as connection:
                REDSHIFT.acquire_lock(connection, (), _quiet)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with pg.connect() as connection:
        assert sa.inspect(connection).has_table(LOCK_TABLE)


def test_a_second_load_waits_and_readers_of_the_star_do_not(pg: Engine) -> None:
    with pg.begin() as connection:
        upgrade(connection)
        connection.execute(
            sa.text("INSERT INTO users (user_id, level, source_ts) VALUES (1, 'free', 1)")
        )
    held = threading.Event()
    release = threading.Event()
    waited: list[float] = []

    def first_load() -> None:
        with pg.begin() as connection:
            REDSHIFT.acquire_lock(connection, (), _quiet)
            connection.execute(sa.text("UPDATE users SET level = 'paid' WHERE user_id = 1"))
            held.set()
            release.wait(30)

    def second_load() -> None:
        held.wait(30)
        started = time.monotonic()
        with pg.begin() as connection:
            REDSHIFT.acquire_lock(connection, (), _quiet)
            waited.append(time.monotonic() - started)

    first = threading.Thread(target=first_load)
    second = threading.Thread(target=second_load)
    first.start()
    second.start()
    assert held.wait(30)
    # An analyst's query while the first load holds the lock: not blocked, and it sees the
    # star table as it was before the load.
    with pg.connect() as reader:
        reader.execute(sa.text("SET lock_timeout = '2s'"))
        level = reader.execute(sa.text("SELECT level FROM users WHERE user_id = 1")).scalar()
    assert level == "free"
    time.sleep(1.0)
    assert waited == []  # the second load is still waiting
    release.set()
    first.join(30)
    second.join(30)
    [wait] = waited
    assert wait >= 1.0
