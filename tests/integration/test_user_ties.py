"""Users whose events tie on ts (data contract, "users"): the contract's total order decides,
in one batch and across batches, loaded in any order and twice (issue 15), on DuckDB and
PostgreSQL, equal to one load of everything and to the oracle's computation of the rule."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from sparkify_dw.db import make_engine
from sparkify_dw.models import TABLES
from tests.helpers import load_dir
from tests.oracle import star_tables

TS = 1_541_105_830_796
JSONPATHS_AND_SONGS = ("log_json_path.json", "song_data")


def _event(user: int, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "artist": None,
        "auth": "Logged In",
        "firstName": "Ann",
        "gender": "F",
        "itemInSession": 0,
        "lastName": "Lee",
        "length": None,
        "level": "free",
        "location": "Here",
        "method": "GET",
        "page": "Home",
        "registration": None,
        "sessionId": 1,
        "song": None,
        "status": 200,
        "ts": TS,
        "userAgent": "agent",
        "userId": str(user),
    }
    event.update(fields)
    return event


# Per user, two events the contract orders; the first batch holds the "a" events, the second
# the "b" ones. The comment says which one wins and why.
PAIRS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    # session_id decides before item_in_session: a wins (the old order took b, the later item)
    (
        _event(1, sessionId=5, itemInSession=0, level="free"),
        _event(1, sessionId=3, itemInSession=9, level="paid"),
    ),
    # same session and item: level as text, "paid" > "free": b wins
    (_event(2, level="paid"), _event(2, level="free")),
    # then first_name: "Bob" > "Ann"
    (_event(3, firstName="Bob"), _event(3, firstName="Ann")),
    # then last_name, then gender
    (_event(4, lastName="Lee"), _event(4, lastName="Zhu")),
    (_event(5, gender="M"), _event(5, gender="F")),
    # a missing item_in_session comes before any item: b (item 0) wins
    (_event(6, itemInSession=None, level="paid"), _event(6, itemInSession=0, level="free")),
    # trailing blanks do not count: "paid " ties with "paid", last_name decides
    (_event(7, level="paid ", lastName="Zhu"), _event(7, level="paid", lastName="Lee")),
    # a larger ts wins whatever the rest says
    (_event(8, ts=TS + 1, sessionId=1, level="free"), _event(8, sessionId=9, level="paid")),
    # a missing first_name comes before any name
    (_event(9, firstName=None, lastName="Zhu"), _event(9, firstName="", lastName="Lee")),
]
FIRST = [a for a, _ in PAIRS]
SECOND = [b for _, b in PAIRS]


def _batch(root: Path, sample_dir: Path, name: str, *events: list[dict[str, Any]]) -> Path:
    """A folder laid out like the sources: the sample's songs and JSONPaths, these events."""
    folder = root / name
    (folder / "log_data").mkdir(parents=True)
    for i, batch in enumerate(events):
        lines = "".join(json.dumps(e) + "\n" for e in batch)
        (folder / "log_data" / f"events-{i}.json").write_text(lines, encoding="utf-8")
    for item in JSONPATHS_AND_SONGS:
        source = sample_dir / item
        if source.is_dir():
            shutil.copytree(source, folder / item)
        else:
            shutil.copyfile(source, folder / item)
    return folder


def _users(url: str, *batches: Path) -> set[tuple[Any, ...]]:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            for table in TABLES.all:  # a new warehouse for each sequence of batches
                connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")
        for batch in batches:
            report = load_dir(engine, batch)
            assert not report.rejects, report.rejects
        with engine.connect() as connection:
            query = sa.text("SELECT user_id, first_name, last_name, gender, level FROM users")
            return {tuple(r) for r in connection.execute(query)}
    finally:
        engine.dispose()


def _expected() -> set[tuple[Any, ...]]:
    return {u for u in star_tables(FIRST + SECOND, []).users if u[0] < 100}


def test_the_oracle_applies_the_contracts_order() -> None:
    """The oracle's answer, by hand from the contract, so the tests below rest on the rule."""
    assert _expected() == {
        (1, "Ann", "Lee", "F", "free"),
        (2, "Ann", "Lee", "F", "paid"),
        (3, "Bob", "Lee", "F", "free"),
        (4, "Ann", "Zhu", "F", "free"),
        (5, "Ann", "Lee", "M", "free"),
        (6, "Ann", "Lee", "F", "free"),
        (7, "Ann", "Zhu", "F", "paid "),
        (8, "Ann", "Lee", "F", "free"),
        (9, "", "Lee", "F", "free"),
    }


@pytest.fixture
def batches(tmp_path: Path, sample_dir: Path) -> dict[str, Path]:
    return {
        "a": _batch(tmp_path, sample_dir, "a", FIRST),
        "b": _batch(tmp_path, sample_dir, "b", SECOND),
        "all": _batch(tmp_path, sample_dir, "all", FIRST, SECOND),  # two files, one batch
        "mixed": _batch(tmp_path, sample_dir, "mixed", SECOND[::2] + FIRST + SECOND[1::2]),
    }


def _ours(users: set[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    return {u for u in users if u[0] < 100}  # the sample's songs bring no users; be safe


def test_ties_in_one_batch_follow_the_contract(db_url: str, batches: dict[str, Path]) -> None:
    assert _ours(_users(db_url, batches["all"])) == _expected()
    assert _ours(_users(db_url, batches["mixed"])) == _expected()


@pytest.mark.parametrize(
    "order",
    [
        *itertools.permutations("ab"),
        ("a", "b", "a"),
        ("b", "a", "b"),
        ("a", "a", "b", "b"),
        ("b", "all"),
        ("all", "a"),
    ],
    ids="-".join,
)
def test_ties_across_batches_in_any_order_and_twice_give_the_load_of_everything(
    db_url: str, batches: dict[str, Path], order: tuple[str, ...]
) -> None:
    assert _ours(_users(db_url, *(batches[name] for name in order))) == _expected()


def test_every_order_gives_the_same_users_table_with_its_order_columns(
    engine: Engine, batches: dict[str, Path], db_url: str
) -> None:
    """The whole table, source columns included, is the same whichever batch came first."""
    tables = []
    for order in (("all",), ("a", "b"), ("b", "a"), ("b", "a", "a")):
        _users(db_url, *(batches[name] for name in order))
        with engine.connect() as connection:
            tables.append(set(connection.execute(sa.text("SELECT * FROM users")).all()))
        engine.dispose()
    assert all(table == tables[0] for table in tables)
