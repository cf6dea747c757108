"""Every command survives every value the warehouse can legally hold (issue 15): a load of
extreme but legal values, then every analytics query, every check, every chart and the report,
on DuckDB and PostgreSQL.

Extremes: `ts` at year 1 and at the last millisecond of year 9999 and beyond it (Python's
datetime stops at 9999; the engines and Redshift go on), up to the largest year `time.year`
(SMALLINT) holds; empty strings and blank-only text; text as wide as each column allows
(VARCHAR(512): 512 bytes, multi-byte characters included); negative lengths, durations and
coordinates; NULL in every nullable field. A `ts` whose year `time.year` cannot hold fails the
load whole (nothing changes), with one line naming the cause.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from sparkify_dw.analytics import QUERIES, run_query
from sparkify_dw.checks import run_checks
from sparkify_dw.report import CHARTS, chart, write_report
from tests.helpers import Run, load_dir, parse_svg

EPOCH = dt.datetime(1970, 1, 1)
DAY_MS = 86_400_000


def _ms(year: int, month: int = 1, day: int = 1) -> int:
    """Epoch milliseconds of midnight UTC on that day (years beyond 9999 by the 400-year
    cycle of the Gregorian calendar: 146097 days)."""
    cycles, year = divmod(year - 1, 400)
    days = (dt.date(year + 1, month, day) - dt.date(1970, 1, 1)).days + cycles * 146_097
    return days * DAY_MS


YEAR_1 = _ms(1)
LAST_OF_9999 = _ms(10_000) - 1  # 9999-12-31 23:59:59.999
YEAR_10000 = _ms(10_000)
LAST_SMALLINT_YEAR = _ms(32_768) - 1  # 32767-12-31 23:59:59.999: time.year's last year
BEYOND_SMALLINT = _ms(32_768)

WIDE = "é" * 256  # 512 bytes, 256 characters: the widest value of a VARCHAR(512)
WIDE_ASCII = "x" * 512


def _event(user: str | None, ts: int, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "artist": "Artist",
        "auth": "Logged In",
        "firstName": "F",
        "gender": "F",
        "itemInSession": 0,
        "lastName": "L",
        "length": 1.0,
        "level": "free",
        "location": "L",
        "method": "PUT",
        "page": "NextSong",
        "registration": None,
        "sessionId": 1,
        "song": "Song",
        "status": 200,
        "ts": ts,
        "userAgent": "agent",
        "userId": user,
    }
    event.update(fields)
    return event


EVENTS = [
    _event("1", YEAR_1, level="paid", sessionId=-2_147_483_648, itemInSession=-1),
    _event("1", YEAR_1 + 1, level="free", sessionId=-2_147_483_648),
    _event("2", LAST_OF_9999, artist=WIDE, song=WIDE_ASCII, length=-1e308, location=WIDE),
    _event("2", YEAR_10000, level="paid", userAgent=WIDE_ASCII, location=""),
    _event("3", LAST_SMALLINT_YEAR, level="", firstName="", lastName="", gender=""),
    _event("3", LAST_SMALLINT_YEAR - 1, level="   ", location="   ", userAgent=""),
    _event(
        "2147483647",
        0,
        artist=None,
        song=None,
        length=None,
        level=None,
        location=None,
        userAgent=None,
        firstName=None,
        lastName=None,
        gender=None,
        itemInSession=None,
        status=None,
        method=None,
        auth=None,
    ),
    _event("-2147483648", -1, artist="", song="", length=-0.0, sessionId=2_147_483_647),
    _event("4", YEAR_10000 + 1, artist="Wide " + "é" * 200, song=WIDE, length=-5.5),
    _event(None, YEAR_10000, page="Home"),  # logged out
    _event("5", YEAR_1, page="Home", level="paid"),  # a user with no play
    _event("6", YEAR_1 - 1),  # 1 BC, 23:59:59.999 on 31 December: year -1 on every engine
]

SONGS = [
    {
        "num_songs": 1,
        "artist_id": "A" * 32,
        "artist_latitude": -90.0,
        "artist_longitude": 1e308,
        "artist_location": WIDE,
        "artist_name": WIDE,
        "song_id": "S" * 32,
        "title": WIDE_ASCII,
        "duration": -1e308,
        "year": -32768,
    },
    {
        "num_songs": None,
        "artist_id": "",
        "artist_latitude": None,
        "artist_longitude": None,
        "artist_location": "   ",
        "artist_name": "",
        "song_id": "",
        "title": "",
        "duration": -0.0,
        "year": 32767,
    },
    {
        "num_songs": 1,
        "artist_id": "B",
        "artist_latitude": None,
        "artist_longitude": None,
        "artist_location": None,
        "artist_name": "Wide " + "é" * 200,
        "song_id": "T",
        "title": WIDE,
        "duration": -5.5,
        "year": None,
    },
    {
        "num_songs": 1,
        "artist_id": "C",
        "artist_latitude": None,
        "artist_longitude": None,
        "artist_location": None,
        "artist_name": None,
        "song_id": "U",
        "title": None,
        "duration": None,
        "year": 0,
    },
]


def _source(folder: Path, sample_dir: Path, events: list[dict[str, Any]]) -> Path:
    (folder / "log_data").mkdir(parents=True)
    (folder / "song_data").mkdir()
    lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)
    (folder / "log_data" / "events.json").write_text(lines, encoding="utf-8")
    for i, song in enumerate(SONGS):
        text = json.dumps(song, ensure_ascii=False)
        (folder / "song_data" / f"song-{i}.json").write_text(text, encoding="utf-8")
    shutil.copyfile(sample_dir / "log_json_path.json", folder / "log_json_path.json")
    return folder


@pytest.fixture
def extreme(engine: Engine, tmp_path: Path, sample_dir: Path) -> Engine:
    report = load_dir(engine, _source(tmp_path / "extreme", sample_dir, EVENTS))
    assert not report.rejects, report.rejects  # every value is legal: nothing is refused
    return engine


def test_the_extreme_values_are_stored_as_they_are(extreme: Engine) -> None:
    with extreme.connect() as connection:
        plays = connection.execute(sa.text("SELECT count(*) FROM songplays")).scalar_one()
        years = connection.execute(sa.text("SELECT min(year), max(year) FROM time")).one()
        titles = connection.execute(sa.text("SELECT title FROM songs")).scalars().all()
    assert plays == 10
    assert tuple(years) == (-1, 32767)  # no year 0: 1 BC is -1, as EXTRACT counts
    assert max(len(t.encode()) for t in titles if t is not None) == 512


def test_every_query_check_chart_and_the_report_survive_them(
    extreme: Engine, tmp_path: Path
) -> None:
    for name in QUERIES:
        result = run_query(extreme, name)
        assert result.rows, name
    for name in CHARTS:
        parse_svg(chart(extreme, name))  # well-formed SVG, no exception
    results = run_checks(extreme)
    assert {r.name for r in results if r.offending} == set(), [r for r in results if r.offending]
    page = write_report(extreme, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Daily active users" in page
    assert "10000-01-01" in page  # a day beyond Python's datetime, shown


def test_a_year_time_cannot_hold_fails_the_load_and_changes_nothing(
    engine: Engine, tmp_path: Path, sample_dir: Path
) -> None:
    from sparkify_dw.errors import SparkifyError

    load_dir(engine, _source(tmp_path / "first", sample_dir, EVENTS[:2]))
    beyond = [_event("9", BEYOND_SMALLINT)]
    with pytest.raises(SparkifyError) as raised:
        load_dir(engine, _source(tmp_path / "beyond", sample_dir, beyond))
    assert "\n" not in str(raised.value)
    with engine.connect() as connection:
        users = connection.execute(sa.text("SELECT user_id FROM users")).scalars().all()
    assert users == [1]


def test_every_command_survives_them(
    extreme: Engine, db_url: str, cli: Callable[..., Run], tmp_path: Path
) -> None:
    """What a user runs: every query in every format, the checks, the report, a snapshot of
    the expectations; exit 0 and no traceback."""
    extreme.dispose()  # the commands open the database themselves
    for name in QUERIES:
        for form in ("table", "csv", "json"):
            run = cli("query", name, "--db", db_url, "--format", form)
            assert run.returncode == 0, (name, form, run.stderr)
    daily = cli("query", "daily-active-users", "--db", db_url, "--format", "json")
    assert "10000-01-01" in daily.stdout
    assert cli("check", "--db", db_url).returncode == 0
    run = cli("report", "--db", db_url, "--out", str(tmp_path / "r.html"))
    assert run.returncode == 0, run.stderr
    expectations = tmp_path / "expected.json"
    run = cli("verify", "--db", db_url, "--expected", str(expectations), "--write")
    assert run.returncode == 0, run.stderr
    run = cli("verify", "--db", db_url, "--expected", str(expectations))
    assert run.returncode == 0, (
        run.stdout + run.stderr
    )  # what was written reads back as the same rows
