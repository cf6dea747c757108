"""The analytics queries on DuckDB and PostgreSQL.

Every answer is compared with one computed here in plain Python from tests/oracle.py's
`expected_tables` (the data contract, straight from the files): Counters over the plays, never
the library's SQL. `sparkify-dw query` and `verify`: tests/cli/test_analytics_commands.py.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from sparkify_dw.analytics import (
    BROWSERS,
    OPERATING_SYSTEMS,
    QUERIES,
    SAMPLE_EXPECTATIONS,
    NoWarehouseError,
    classify,
    run_query,
    to_json_value,
)
from tests.helpers import load_dir
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


# --- User agents, classified in SQL (DuckDB in memory) ------------------------------------------


@pytest.mark.parametrize(
    ("agent", "browser", "os"),
    [
        (
            '"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) '
            'Chrome/35.0.1916.153 Safari/537.36"',
            "Chrome",
            "Windows",
        ),
        (
            '"Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 '
            '(KHTML, like Gecko) Version/7.0 Mobile/11D257 Safari/9537.53"',
            "Safari",
            "iOS",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:31.0) Gecko/20100101 Firefox/31.0",
            "Firefox",
            "Mac OS X",
        ),
        (
            '"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu '
            'Chromium/36.0.1985.125 Chrome/36.0.1985.125 Safari/537.36"',
            "Chromium",
            "Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 6.3; WOW64; Trident/7.0; rv:11.0) like Gecko",
            "Internet Explorer",
            "Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 10) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0 Mobile Safari/537.36 EdgA/120.0 Edg/120.0",
            "Edge",
            "Android",
        ),
        ("curl/8.0", "Other", "Other"),
        (None, "Other", "Other"),
    ],
)
def test_user_agents_are_classified_in_sql(agent: str | None, browser: str, os: str) -> None:
    engine = sa.create_engine("duckdb:///:memory:")
    value = sa.literal(agent, sa.String())
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(classify(value, BROWSERS), classify(value, OPERATING_SYSTEMS))
        ).one()
    engine.dispose()
    assert tuple(row) == (browser, os)
