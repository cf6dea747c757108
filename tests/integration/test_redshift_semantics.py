"""DuckDB and PostgreSQL against what Redshift would do (tests/redshift_oracle.py).

Epoch milliseconds become the same timestamps on every engine, PostgreSQL running the very SQL
Redshift receives; text compares as Redshift compares VARCHARs (trailing spaces ignored, no
other blank); and a load of the real data and of edge fixtures (trailing blanks, blank-only
locations, multibyte text over and at the byte limit, pretty-printed song files, a broken line)
holds the star tables and the rejects the Redshift oracle predicts.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy_redshift.dialect import RedshiftDialect_redshift_connector

from sparkify_dw import LoadReport
from sparkify_dw.analytics import run_query
from sparkify_dw.sql import EpochMsToTimestamp, compared, empty_as_null, same
from tests.helpers import load_dir
from tests.oracle import actual_tables, star_tables
from tests.redshift_oracle import Reject, expected_on_redshift, redshift_empty, redshift_equal

EPOCH = dt.datetime(1970, 1, 1)


def _rejects(report: LoadReport) -> set[Reject]:
    return {
        Reject(Path(r.filename).name, r.line_number, r.colname or None, r.err_code)
        for r in report.rejects
    }


# Epoch milliseconds -----------------------------------------------------------------------------

EPOCH_CASES = [
    0,
    1,
    999,
    1000,
    1001,
    1541105830796,  # the data contract's example: 2018-11-01 20:57:10.796
    2**31 * 1000 - 1,  # the last millisecond whose whole seconds fit an INT
    2**31 * 1000,
    -1,  # before the epoch: BIGINT division truncates toward zero, MOD keeps the sign
    -999,
    -1000,
    -1001,
    -86_400_001,
    -62_135_596_800_000,  # 0001-01-01 00:00:00
    253_402_300_799_999,  # 9999-12-31 23:59:59.999
]


def test_epoch_milliseconds_are_the_same_timestamps_on_every_engine(engine: Engine) -> None:
    epochs = sa.Table("epoch_cases", sa.MetaData(), sa.Column("ts", sa.BigInteger))
    converted = EpochMsToTimestamp(epochs.c.ts)
    if engine.dialect.name == "postgresql":  # the very SQL Redshift receives
        redshift = converted.compile(dialect=RedshiftDialect_redshift_connector())
        assert str(converted.compile(dialect=engine.dialect)) == str(redshift)
    with engine.begin() as connection:
        epochs.create(connection)
        connection.execute(epochs.insert(), [{"ts": ts} for ts in EPOCH_CASES])
        rows = {ts: at for ts, at in connection.execute(sa.select(epochs.c.ts, converted))}
    assert rows == {ts: EPOCH + dt.timedelta(milliseconds=ts) for ts in EPOCH_CASES}


# Text comparisons -------------------------------------------------------------------------------

TEXTS = [
    "Soul",
    "Soul ",
    "Soul   ",
    "Soul\t",  # a tab is not a blank
    "Soul\u00a0",  # nor a no-break space
    " Soul",  # leading blanks count
    "soul",
    "Beyoncé",
    "Beyoncé ",
    "",
    " ",
    "   ",
    "\t",
    "\u00a0",
    "\u3000",  # the ideographic space neither
    None,
]


@pytest.fixture
def texts(engine: Engine) -> sa.Table:
    table = sa.Table(
        "text_cases", sa.MetaData(), sa.Column("id", sa.Integer), sa.Column("v", sa.String(32))
    )
    with engine.begin() as connection:
        table.create(connection)
        connection.execute(table.insert(), [{"id": i, "v": v} for i, v in enumerate(TEXTS)])
    return table


def test_text_compares_as_redshift_compares_varchars(engine: Engine, texts: sa.Table) -> None:
    a, b = texts.alias("a"), texts.alias("b")
    with engine.connect() as connection:

        def pairs_where(condition: sa.ColumnElement[bool]) -> set[tuple[int, int]]:
            query = sa.select(a.c.id, b.c.id).join_from(a, b, condition)
            return {(i, j) for i, j in connection.execute(query)}

        equal = pairs_where(same(a.c.v, b.c.v))
        differ = pairs_where(~same(a.c.v, b.c.v))
        distinct = sa.select(sa.func.count(sa.distinct(compared(texts.c.v))))
        classes = connection.execute(distinct).scalar_one()
        query = sa.select(texts.c.id, empty_as_null(texts.c.v))
        emptied = {i: v for i, v in connection.execute(query)}
    pairs = [(i, j) for i, x in enumerate(TEXTS) for j, y in enumerate(TEXTS) if None not in (x, y)]
    assert equal == {(i, j) for i, j in pairs if redshift_equal(TEXTS[i], TEXTS[j])}
    assert differ == {(i, j) for i, j in pairs if not redshift_equal(TEXTS[i], TEXTS[j])}
    assert (0, 1) in equal
    assert (0, 2) in equal
    assert (0, 3) not in equal
    assert (0, 4) not in equal
    assert classes == len({v.rstrip(" ") for v in TEXTS if v is not None})
    # "" and blanks only are empty; anything else is kept as it is stored, blanks and all
    assert emptied == {
        i: None if v is None or redshift_empty(v) else v for i, v in enumerate(TEXTS)
    }
    assert emptied[1] == "Soul "
    assert emptied[11] is None
    assert emptied[12] == "\t"


# Loads: the real data and edge fixtures ----------------------------------------------------------


@pytest.mark.reference
def test_reference_data_loads_as_redshift_would(engine: Engine, reference_dir: Path) -> None:
    expected = expected_on_redshift(reference_dir)
    report = load_dir(engine, reference_dir)
    with engine.connect() as connection:
        assert actual_tables(connection) == expected.tables
    assert _rejects(report) == expected.rejects == set()
    # The real values with trailing blanks are stored with them.
    assert "BROOKLYN, NEW YORK " in {a[2] for a in expected.tables.artists}
    assert any(s[1] == "Death Frees Every Soul " for s in expected.tables.songs)


def _song(song_id: str, artist_id: str, title: str, artist: str, **extra: Any) -> dict[str, Any]:
    return {
        "num_songs": 1,
        "artist_id": artist_id,
        "artist_latitude": None,
        "artist_longitude": None,
        "artist_location": "",
        "artist_name": artist,
        "song_id": song_id,
        "title": title,
        "duration": 200.0,
        "year": 0,
        **extra,
    }


DEATH = ("Death Frees Every Soul", "DJ Muggs & Planet Asia feat. Sick Jacken", 222.17098)
SONGS = [
    # the real quirk: a catalogue title with a trailing blank, the plays without it
    _song("SOBLANK0001", "ARBLANK0001", f"{DEATH[0]} ", DEATH[1], duration=DEATH[2],
          artist_location="BROOKLYN, NEW YORK ", year=2005),
    # multibyte, a trailing blank on the artist, a blank-only location (NULL); pretty-printed
    _song("SOMULTI0001", "ARMULTI0001", "Ça plane pour moi", "Leftöver Crack ",
          artist_location="   "),
    # a trailing tab or no-break space still counts, in a title and as a location
    _song("SOTAB000001", "ARTAB000001", "Tab\t", "Tabs", artist_location="Paris\t"),
    _song("SONBSP00001", "ARNBSP00001", "No\u00a0Break\u00a0", "Nbsp", artist_location="\u00a0"),
    # 300 characters, 600 bytes: over VARCHAR(512) on Redshift (bytes), a reject; pretty-printed
    _song("SOLONG00001", "ARLONG00001", "ö" * 300, "Long"),
    # 256 characters, 512 bytes: exactly fits
    _song("SOEDGE00001", "AREDGE00001", "ö" * 256, "Edge"),
    # two catalogue songs that compare equal: a play matches the smaller song_id
    _song("SOTWIN00001", "ARTWIN00001", "Twin", "Twins"),
    _song("SOTWIN00002", "ARTWIN00001", "Twin ", "Twins"),
]  # fmt: skip
PRETTY = {"SOMULTI0001", "SOLONG00001"}  # written over several lines, as one real file is

BASE_TS = 1543536000123  # 2018-11-30 00:00:00.123


def _event(n: int, page: str = "NextSong", **extra: Any) -> dict[str, Any]:
    return {
        "artist": None,
        "auth": "Logged In",
        "firstName": "Ann ",
        "gender": "F",
        "itemInSession": n,
        "lastName": "Lee",
        "length": None,
        "level": "free",
        "location": "Brooklyn, NY ",
        "method": "PUT",
        "page": page,
        "registration": 1540919166796.0,
        "sessionId": 7,
        "song": None,
        "status": 200,
        "ts": BASE_TS + n * 1001,
        "userAgent": '"Mozilla/5.0 (X11; Linux x86_64)"',
        "userId": "7",
        **extra,
    }


def _play(n: int, song: str, artist: str, length: float = 200.0, **extra: Any) -> dict[str, Any]:
    return _event(n, song=song, artist=artist, length=length, **extra)


EVENTS: list[dict[str, Any] | str] = [
    _event(0, page="Home"),
    _play(1, *DEATH),  # matches SOBLANK0001 only with the blanks ignored
    _play(2, "Ça plane pour moi", "Leftöver Crack"),
    _play(3, "Tab", "Tabs"),  # no match: the catalogue's tab counts
    _play(4, "No\u00a0Break", "Nbsp"),  # no match
    _play(5, "ö" * 256, "Edge"),
    _play(6, "Twin  ", "Twins"),  # SOTWIN00001
    _play(7, "Twin", "Twins", page="NextSong "),  # a play: its page compares equal to NextSong
    '{"artist": "Broken", "ts": ',  # 1216, reading resumes at the next line
    _play(9, "ö" * 300, "Long"),  # 1204 on song
    _play(10, "Twin", "Twins", userId="8", level="paid ", firstName="Bo", location="   "),
    _play(11, "Twin", "Twins", ts=-1, location="Brooklyn, NY"),  # 1969-12-31 23:59:59.999
    _play(12, "Twin", "Twins", ts=253_402_300_799_999),  # 9999-12-31 23:59:59.999
]


def _write_fixture(folder: Path, jsonpaths: Path, songs: list[dict[str, Any]]) -> Path:
    for song in songs:
        pretty = song["song_id"] in PRETTY
        path = folder / "song_data" / "A" / "B" / "C" / f"TR{song['song_id']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(song, indent=4, ensure_ascii=False) if pretty else json.dumps(song)
        path.write_text(text + "\n", encoding="utf-8")
    log = folder / "log_data" / "2018" / "11" / "2018-11-30-events.json"
    log.parent.mkdir(parents=True)
    lines = [e if isinstance(e, str) else json.dumps(e, ensure_ascii=False) for e in EVENTS]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copyfile(jsonpaths, folder / "log_json_path.json")
    return folder


@pytest.fixture
def edges(tmp_path: Path, sample_dir: Path) -> Path:
    return _write_fixture(tmp_path / "edges", sample_dir / "log_json_path.json", SONGS)


def test_edge_fixtures_load_as_redshift_would(engine: Engine, edges: Path) -> None:
    expected = expected_on_redshift(edges)
    report = load_dir(engine, edges, max_error=5)
    assert (
        _rejects(report)
        == expected.rejects
        == {
            Reject("2018-11-30-events.json", 9, None, 1216),
            Reject("2018-11-30-events.json", 10, "song", 1204),
            # pretty-printed: the line its object ends on
            Reject("TRSOLONG00001.json", 12, "title", 1204),
        }
    )
    with engine.connect() as connection:
        assert actual_tables(connection) == expected.tables

    tables = expected.tables
    assert (tables.staging_events, tables.staging_songs) == (len(EVENTS) - 2, len(SONGS) - 1)
    matched = {(p[1], p[0]): p[3] for p in tables.songplays}
    at = {n: EPOCH + dt.timedelta(milliseconds=BASE_TS + n * 1001) for n in range(13)}
    assert matched[7, at[1]] == "SOBLANK0001"
    assert matched[7, at[2]] == "SOMULTI0001"
    assert matched[7, at[3]] is None
    assert matched[7, at[4]] is None
    assert matched[7, at[5]] == "SOEDGE00001"
    assert matched[7, at[6]] == matched[7, at[7]] == matched[8, at[10]] == "SOTWIN00001"
    assert matched[7, dt.datetime(1969, 12, 31, 23, 59, 59, 999000)] == "SOTWIN00001"
    assert matched[7, dt.datetime(9999, 12, 31, 23, 59, 59, 999000)] == "SOTWIN00001"
    locations = {a[0]: a[2] for a in tables.artists}
    assert locations["ARBLANK0001"] == "BROOKLYN, NEW YORK "  # stored with its blank
    assert locations["ARMULTI0001"] is None  # blanks only: empty
    assert locations["ARTAB000001"] == "Paris\t"
    assert locations["ARNBSP00001"] == "\u00a0"
    assert {p[6] for p in tables.songplays} == {"Brooklyn, NY ", "Brooklyn, NY", "   "}
    assert {(u[0], u[1], u[4]) for u in tables.users} == {(7, "Ann ", "free"), (8, "Bo", "paid ")}

    # The fixtures tell the rule apart: with text compared exactly, other tables would follow.
    exact = star_tables(expected.events.records, expected.songs.records, compare=lambda v: v)
    assert exact.songplays != tables.songplays
    assert exact.artists != tables.artists


def test_a_catalogue_differing_only_in_trailing_blanks_changes_nothing(
    engine: Engine, edges: Path, tmp_path: Path, sample_dir: Path
) -> None:
    load_dir(engine, edges, max_error=5)
    with engine.connect() as connection:
        before = actual_tables(connection)

    def _blanks_moved(song: dict[str, Any]) -> dict[str, Any]:
        if song["song_id"] == "SOBLANK0001":  # the title's and the location's blank removed
            return {**song, "title": DEATH[0], "artist_location": "BROOKLYN, NEW YORK"}
        if song["song_id"] == "SOMULTI0001":  # another blank-only location
            return {**song, "artist_location": " "}
        if song["song_id"] == "SOTAB000001":  # a real change
            return {**song, "year": 1999}
        return song

    again = [_blanks_moved(song) for song in SONGS]
    report = load_dir(
        engine,
        _write_fixture(tmp_path / "again", sample_dir / "log_json_path.json", again),
        max_error=5,
    )
    changed = {t.table: (t.added, t.changed) for t in report.tables}
    assert changed["songs"] == (0, 1)  # SOTAB000001's year only
    assert changed["artists"] == (0, 0)
    assert changed["songplays"] == (0, 0)
    with engine.connect() as connection:
        after = actual_tables(connection)
    assert after.artists == before.artists  # "BROOKLYN, NEW YORK " as first stored
    assert after.songs - before.songs == {("SOTAB000001", "Tab\t", "ARTAB000001", 1999, 200.0)}
    assert ("SOBLANK0001", DEATH[0] + " ", "ARBLANK0001", 2005, DEATH[2]) in after.songs


def test_analytics_filter_and_group_text_as_redshift_does(engine: Engine, edges: Path) -> None:
    load_dir(engine, edges, max_error=5)
    # "Brooklyn, NY " and "Brooklyn, NY" are one location; "   " is none
    assert run_query(engine, "top-locations").rows == [("Brooklyn, NY", 9, 1)]
    # user 8's plays are at level "paid ", which is "paid"
    assert run_query(engine, "level-split").rows == [("free", 9, 1), ("paid", 1, 1)]
    assert run_query(engine, "level-split", level="paid").rows == [("paid", 1, 1)]
