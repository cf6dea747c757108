"""The analytics queries, `sparkify-dw query` and `sparkify-dw verify`, on DuckDB and PostgreSQL.

Every answer is compared with one computed here in plain Python from tests/oracle.py's
`expected_tables` (the data contract, straight from the files): Counters over the plays, never
the library's SQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from sparkify_dw.analytics import (
    QUERIES,
    SAMPLE_EXPECTATIONS,
    NoWarehouseError,
    run_query,
    to_json_value,
)
from tests.helpers import load_dir, run_module
from tests.oracle import Expected, expected_tables, read_events, read_songs

# --- An independent implementation of each question -------------------------------------------

# (family, substrings): the first family whose substring is in the user agent.
BROWSER_MARKERS = [
    ("Edge", "Edge/"),
    ("Edge", "Edg/"),
    ("Opera", "OPR/"),
    ("Opera", "Opera"),
    ("Internet Explorer", "MSIE "),
    ("Internet Explorer", "Trident/"),
    ("Firefox", "Firefox/"),
    ("Chromium", "Chromium/"),
    ("Chrome", "Chrome/"),
    ("Chrome", "CriOS/"),
    ("Safari", "Safari/"),
]
OS_MARKERS = [
    ("iOS", "iPhone"),
    ("iOS", "iPad"),
    ("iOS", "iPod"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac OS X"),
    ("Mac OS X", "Macintosh"),
    ("Linux", "Linux"),
    ("Linux", "X11"),
]
PLAY_FIELDS = ("start", "user", "level", "song", "artist", "session", "location", "agent")
DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def _family(agent: str | None, markers: list[tuple[str, str]]) -> str:
    return next((family for family, marker in markers if agent and marker in agent), "Other")


def _bucket(plays: int) -> tuple[int, str]:
    for low, high in ((100, None), (50, 99), (20, 49), (10, 19), (5, 9), (2, 4), (1, 1)):
        if plays >= low:
            label = f"{low}+" if high is None else str(low) if low == high else f"{low}-{high}"
            return low, label
    raise AssertionError(plays)


def _in_range(start: dt.datetime, since: Any, until: Any) -> bool:
    if since is not None:
        since = dt.date.fromisoformat(since) if isinstance(since, str) else since
        if start.date() < since:
            return False
    if until is not None:
        if isinstance(until, str) and "T" in until:
            return start <= dt.datetime.fromisoformat(until)
        return start.date() <= (dt.date.fromisoformat(until) if isinstance(until, str) else until)
    return True


def _ranked(counts: dict[Any, tuple[int, int]], limit: int | None) -> list[Any]:
    """Keys by plays descending, then key ascending; at most `limit` of them."""
    keys = sorted(counts, key=lambda k: (-counts[k][0], k))
    return keys[: limit or 10]


def oracle(
    expected: Expected,
    name: str,
    since: Any = None,
    until: Any = None,
    level: str | None = None,
    limit: int | None = None,
) -> list[tuple[Any, ...]]:
    """What the query `name` must return, computed from the contract's tables in Python."""
    titles = {s[0]: s[1] for s in expected.songs}
    artist_names = {a[0]: a[1] for a in expected.artists}
    names = {u[0]: (u[1], u[2]) for u in expected.users}
    every_play = [dict(zip(PLAY_FIELDS, p, strict=True)) for p in expected.songplays]
    plays = [
        p for p in every_play if _in_range(p["start"], since, until) and level in (None, p["level"])
    ]

    def count_by(key: Any, rows: list[dict[str, Any]]) -> dict[Any, tuple[int, int]]:
        plays_of: Counter[Any] = Counter()
        users_of: defaultdict[Any, set[int]] = defaultdict(set)
        for p in rows:
            plays_of[key(p)] += 1
            users_of[key(p)].add(p["user"])
        return {k: (n, len(users_of[k])) for k, n in plays_of.items()}

    if name == "top-songs":
        counts = count_by(lambda p: p["song"], [p for p in plays if p["song"]])
        artist_of = {p["song"]: p["artist"] for p in plays if p["song"]}
        return [
            (s, titles[s], artist_names[artist_of[s]], *counts[s]) for s in _ranked(counts, limit)
        ]
    if name == "top-artists":
        counts = count_by(lambda p: p["artist"], [p for p in plays if p["artist"]])
        return [(a, artist_names[a], *counts[a]) for a in _ranked(counts, limit)]
    if name == "plays-by-hour":
        counts = count_by(lambda p: p["start"].hour, plays)
        return [(h, *counts[h]) for h in sorted(counts)]
    if name == "plays-by-weekday":
        counts = count_by(lambda p: p["start"].isoweekday() % 7, plays)
        return [(d, DAY_NAMES[d], *counts[d]) for d in sorted(counts)]
    if name == "daily-active-users":
        counts = count_by(lambda p: p["start"].date(), plays)
        return [(d, counts[d][1], counts[d][0]) for d in sorted(counts)]
    if name == "level-split":
        counts = count_by(lambda p: p["level"], plays)
        return [(lv, *counts[lv]) for lv in sorted(counts)]
    if name == "conversions":
        rows = []
        for user in {p["user"] for p in every_play}:
            mine = sorted((p["start"], p["level"]) for p in every_play if p["user"] == user)
            first_free = next((t for t, lv in mine if lv == "free"), None)
            paid_after = [t for t, lv in mine if lv == "paid" and first_free and t > first_free]
            if paid_after and _in_range(paid_after[0], since, until):
                rows.append((user, *names[user], first_free, paid_after[0]))
        rows.sort(key=lambda r: (r[4], r[0]))
        return rows[:limit] if limit else rows
    if name == "top-locations":
        counts = count_by(lambda p: p["location"], [p for p in plays if p["location"]])
        return [(loc, *counts[loc]) for loc in _ranked(counts, limit)]
    if name == "top-user-agents":
        counts = count_by(
            lambda p: (_family(p["agent"], BROWSER_MARKERS), _family(p["agent"], OS_MARKERS)),
            plays,
        )
        return [(*key, *counts[key]) for key in _ranked(counts, limit)]
    if name == "session-length":
        per_session = Counter((p["user"], p["session"]) for p in plays)
        buckets: defaultdict[tuple[int, str], list[int]] = defaultdict(list)
        for n in per_session.values():
            buckets[_bucket(n)].append(n)
        return [(b[1], len(ns), sum(ns), max(ns)) for b, ns in sorted(buckets.items())]
    raise AssertionError(f"no oracle for {name}")


# Every query with its defaults, and each filter on the queries that take it.
CASES: list[tuple[str, dict[str, Any]]] = [(name, {}) for name in QUERIES] + [
    ("top-songs", {"level": "paid", "since": "2018-11-10", "until": "2018-11-20", "limit": 3}),
    ("top-songs", {"limit": 50}),
    ("top-artists", {"level": "free", "limit": 5}),
    ("plays-by-hour", {"level": "free"}),
    ("plays-by-weekday", {"since": dt.date(2018, 11, 5), "until": dt.date(2018, 11, 11)}),
    ("daily-active-users", {"since": "2018-11-10", "until": "2018-11-16"}),
    ("level-split", {"since": "2018-11-25"}),
    ("conversions", {"since": "2018-11-10", "limit": 3}),
    ("top-locations", {"level": "paid", "limit": 3}),
    ("top-user-agents", {"until": "2018-11-07T12:00:00", "limit": 20}),
    ("session-length", {"level": "free"}),
    ("session-length", {"until": "2018-11-01"}),
]


def _load(engine: Engine, data: Path) -> Expected:
    load_dir(engine, data)
    return expected_tables(data / "song_data", data / "log_data")


def test_every_query_matches_the_contract_on_the_sample(engine: Engine, sample_dir: Path) -> None:
    with pytest.raises(NoWarehouseError, match="run `sparkify-dw run` first"):
        run_query(engine, "top-songs")
    expected = _load(engine, sample_dir)
    for name, params in CASES:
        result = run_query(engine, name, **params)
        assert result.columns == QUERIES[name].columns
        assert result.rows == oracle(expected, name, **params), (name, params)
    # Each question has an answer on the sample, except conversions (no user upgrades there).
    assert all(run_query(engine, name).rows for name in QUERIES if name != "conversions")
    with engine.connect() as connection:  # a Connection works as well as an Engine
        assert run_query(connection, "level-split").rows == oracle(expected, "level-split")


@pytest.mark.reference
def test_every_query_matches_the_contract_on_the_reference_data(
    engine: Engine, reference_dir: Path
) -> None:
    expected = _load(engine, reference_dir)
    for name, params in CASES:
        assert run_query(engine, name, **params).rows == oracle(expected, name, **params), name
    assert len(run_query(engine, "conversions").rows) > 5  # real users upgrade

    # The most played song, straight from the raw files: NextSong events matched on
    # (title, artist name, duration) to the catalogue, each play counted once.
    songs = read_songs(reference_dir / "song_data")
    catalogue: dict[tuple[Any, ...], dict[str, Any]] = {}
    for song in sorted(songs, key=lambda s: s["song_id"]):
        catalogue.setdefault((song["title"], str(song["artist_name"]), song["duration"]), song)
    plays: dict[tuple[Any, ...], str] = {}
    for event in read_events(reference_dir / "log_data"):
        match = catalogue.get((event["song"], event["artist"], event["length"]))
        if event["page"] == "NextSong" and match:
            plays[(event["userId"], event["sessionId"], event["ts"])] = match["song_id"]
    (song_id, count), (_, runner_up) = Counter(plays.values()).most_common(2)
    assert count > runner_up  # a clear winner, so the tie-break does not decide it
    title = next(s["title"] for s in songs if s["song_id"] == song_id)
    top = run_query(engine, "top-songs", limit=1).rows
    assert [(r[0], r[1], r[3]) for r in top] == [(song_id, title, count)]
    assert top[0][:4] == ("SOARUPP12AB01842E0", "Up Up & Away", "Kid Cudi", 5)


def test_the_shipped_expectations_agree_with_the_contract(sample_dir: Path) -> None:
    """The bundled sample.json (written from the queries' results) against Python's answers."""
    document = json.loads(SAMPLE_EXPECTATIONS.read_text(encoding="utf-8"))
    expected = expected_tables(sample_dir / "song_data", sample_dir / "log_data")
    assert {entry["query"] for entry in document["expectations"]} == set(QUERIES)
    for entry in document["expectations"]:
        rows = oracle(expected, entry["query"], **entry["params"])
        assert entry["rows"] == [[to_json_value(v) for v in row] for row in rows], entry


# --- The command ------------------------------------------------------------------------------


def sparkify(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_module("sparkify_dw", *args, cwd=cwd)


def _one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error:")
    for fragment in fragments:
        assert fragment in result.stderr


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A DuckDB file with the sample loaded, shared by the command's tests."""
    from sparkify_dw import make_engine
    from sparkify_dw.config import SAMPLE_DIR

    url = f"duckdb:///{tmp_path_factory.mktemp('analytics') / 'sample.duckdb'}"
    engine = make_engine(url)
    _load(engine, SAMPLE_DIR)
    engine.dispose()
    return url


def test_query_prints_a_table_csv_and_json(sample_warehouse: str, tmp_path: Path) -> None:
    engine = sa.create_engine(sample_warehouse)
    try:
        rows = run_query(engine, "top-songs", limit=3).rows
    finally:
        engine.dispose()

    table = sparkify("query", "top-songs", "--db", sample_warehouse, "--limit", "3", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "song_id" in table.stdout
    assert rows[0][0] in table.stdout  # an id is never cut short
    assert "3 row(s)" in table.stdout

    as_csv = sparkify(
        "query", "top-songs", "--db", sample_warehouse, "--limit", "3", "--format", "csv",
        cwd=tmp_path,
    )  # fmt: skip
    assert as_csv.returncode == 0, as_csv.stderr
    parsed = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert parsed == [list(QUERIES["top-songs"].columns)] + [[str(v) for v in r] for r in rows]

    as_json = sparkify(
        "query", "daily-active-users", "--db", sample_warehouse, "--since", "2018-11-29",
        "--format", "json",
        cwd=tmp_path,
    )  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr
    records = json.loads(as_json.stdout)
    assert [r["day"] for r in records] == ["2018-11-29", "2018-11-30"]
    assert set(records[0]) == {"day", "active_users", "plays"}

    listed = sparkify("query", "--list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    for name in QUERIES:
        assert name in listed.stdout


def test_query_mistakes_are_one_line(sample_warehouse: str, tmp_path: Path) -> None:
    _one_line_error(sparkify("query", "top-hits", cwd=tmp_path), "top-hits", "top-songs")
    _one_line_error(
        sparkify(
            "query", "top-songs", "--db", f"duckdb:///{tmp_path / 'none.duckdb'}", cwd=tmp_path
        ),
        "no warehouse at",
        "run `sparkify-dw run` first",
    )
    assert not (tmp_path / "none.duckdb").exists()  # not created by looking
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    _one_line_error(
        sparkify("query", "level-split", "--db", f"duckdb:///{empty}", cwd=tmp_path),
        "no warehouse at",
    )
    _one_line_error(
        sparkify("query", "top-songs", "--db", sample_warehouse, "--since", "2018-11-31",
                 cwd=tmp_path),
        "since must be a date",
    )  # fmt: skip
    _one_line_error(
        sparkify("query", "level-split", "--db", sample_warehouse, "--limit", "3", cwd=tmp_path),
        "level-split does not take limit",
    )


def test_verify_passes_after_a_sample_run_and_shows_a_changed_value(tmp_path: Path) -> None:
    loaded = sparkify("run", cwd=tmp_path)  # the default: the sample into ./sparkify.duckdb
    assert loaded.returncode == 0, loaded.stderr

    passed = sparkify("verify", cwd=tmp_path)  # the bundled expectations by default
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "FAIL" not in passed.stdout
    assert passed.stdout.count("PASS") == len(
        json.loads(SAMPLE_EXPECTATIONS.read_text())["expectations"]
    )

    document = json.loads(SAMPLE_EXPECTATIONS.read_text(encoding="utf-8"))
    top_songs = document["expectations"][0]
    assert top_songs["query"] == "top-songs"
    song_id, plays = top_songs["rows"][1][0], top_songs["rows"][1][3]
    top_songs["rows"][1][3] = plays + 1
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document), encoding="utf-8")
    failed = sparkify("verify", "--expected", str(changed), cwd=tmp_path)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Traceback" not in failed.stderr
    assert "FAIL top-songs" in failed.stdout
    assert f'changed row song_id="{song_id}": plays: expected {plays + 1}, got {plays}' in (
        failed.stdout
    )
    assert "1 failed" in failed.stdout


def test_verify_write_snapshots_a_warehouse_and_a_malformed_file_is_one_line(
    sample_warehouse: str, tmp_path: Path
) -> None:
    snapshot = tmp_path / "snapshot.json"  # a new file: every query with its defaults
    written = sparkify(
        "verify", "--expected", str(snapshot), "--write", "--db", sample_warehouse, cwd=tmp_path
    )
    assert written.returncode == 0, written.stderr
    assert [e["query"] for e in json.loads(snapshot.read_text())["expectations"]] == list(QUERIES)
    again = sparkify("verify", "--expected", str(snapshot), "--db", sample_warehouse, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr

    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"expectations": [{"query": "top-songs", "params": {"level": "gold"}}]}')
    _one_line_error(
        sparkify("verify", "--expected", str(malformed), cwd=tmp_path),
        "malformed.json: expectation 1 (top-songs): level must be free or paid",
    )
    broken = tmp_path / "broken.json"
    broken.write_text('{"expectations": [')
    _one_line_error(
        sparkify("verify", "--expected", str(broken), cwd=tmp_path), "is not valid JSON"
    )
