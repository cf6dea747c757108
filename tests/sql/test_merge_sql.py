"""The star merge as Redshift receives it: valid Redshift SQL, and Redshift's documented pattern.

Every statement of every `Merge` (and of `full_refresh`) is compiled with the Redshift dialect and
literal binds, parsed with sqlfluff's `redshift` grammar, and read table by table: a temporary
table, filled deduplicated, `DELETE … USING` of the replaced rows, `DELETE … USING` of the staged
rows already stored, `INSERT … SELECT`, `DROP TABLE` ("Performing a merge operation by replacing
existing rows"). The same expression trees must also compile for PostgreSQL and DuckDB.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb_engine
import pytest
import sqlalchemy as sa
from sqlalchemy.sql import Executable
from sqlalchemy_redshift.dialect import RedshiftDialect_redshift_connector

from sparkify_dw.transforms import Merge, Statements, full_refresh, star_merges
from tests.helpers import parse_redshift

REDSHIFT = RedshiftDialect_redshift_connector()
POSTGRESQL = sa.create_engine("postgresql+psycopg://").dialect  # never connects
DUCKDB = duckdb_engine.Dialect()

MERGES = {merge.name: merge for merge in star_merges() if isinstance(merge, Merge)}
# The statement groups outside the merge pattern (the re-match of plays whose song arrived)
GROUPS = {group.name: group for group in star_merges() if isinstance(group, Statements)}
DIMENSIONS = ("users", "songs", "artists")
STEPS = ("create", "fill", "analyze", "replace", "drop_known", "insert", "drop")
# Whole seconds, then the milliseconds left over: Redshift's documented forms (sql.py)
EPOCH_MS = (
    "(TIMESTAMP 'epoch' + (staging_events.ts / 1000) * INTERVAL '1 second' "
    "+ MOD(staging_events.ts, 1000) * INTERVAL '1 millisecond')"
)


def _sql(statement: Any, dialect: sa.Dialect = REDSHIFT) -> str:
    """The statement as sent (literal binds), whitespace normalised."""
    compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return " ".join(str(compiled).split())


def _step(table: str, step: str, dialect: sa.Dialect = REDSHIFT) -> str:
    statement = getattr(MERGES[table], step)()
    assert statement is not None, f"{table} has no {step} step"
    return _sql(statement, dialect)


def _statements() -> Iterator[tuple[str, Executable]]:
    """(id, statement) for every step of every merge and group, then every full_refresh
    statement."""
    for group in star_merges():
        for step, statement in group.steps():
            yield f"{group.name}.{step}", statement
    for statement in full_refresh():
        yield f"full_refresh.{statement.table}", statement


STATEMENTS = dict(_statements())


def _leaves(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _leaves(value)
    elif isinstance(node, list):
        for value in node:
            yield from _leaves(value)
    else:
        yield str(node)


def _table_references(node: Any) -> list[str]:
    """The names sqlfluff reads as table references, in order."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "table_reference":
                found.append("".join(_leaves(value)))
            else:
                found.extend(_table_references(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_table_references(value))
    return found


def _null_safe_differs(table: str, column: str) -> tuple[str, str, str]:
    """`<table>.c IS DISTINCT FROM merge_<table>.c` as three disjuncts Redshift can parse."""
    a, b = f"{table}.{column}", f"merge_{table}.{column}"
    return f"{a} != {b}", f"{a} IS NULL AND {b} IS NOT NULL", f"{a} IS NOT NULL AND {b} IS NULL"


def _parenthesised_tail(sql: str, prefix: str) -> str:
    """What follows `prefix` (which ends with "(") up to its matching ")", which must end `sql`."""
    assert sql.startswith(prefix), sql
    depth = 1
    for i, char in enumerate(sql[len(prefix) :], start=len(prefix)):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            assert i == len(sql) - 1, f"the parenthesis closes before the end: {sql}"
            return sql[len(prefix) : i]
    raise AssertionError(f"unbalanced parentheses: {sql}")


# 1. Every statement is Redshift SQL -------------------------------------------------------------


@pytest.mark.parametrize("name", list(STATEMENTS))
def test_each_statement_parses_as_one_redshift_statement(name: str) -> None:
    tree = parse_redshift(_sql(STATEMENTS[name]))
    file = tree["file"]
    assert isinstance(file, dict), f"{name} parses as several statements: {file}"
    assert set(file) == {"statement", "statement_terminator"}, file.keys()


def test_the_sql_redshift_lacks_is_never_sent() -> None:
    for name, statement in STATEMENTS.items():
        sql = _sql(statement)
        assert "DISTINCT FROM" not in sql, name  # no IS [NOT] DISTINCT FROM on Redshift
        assert "epoch_ms" not in sql, name  # DuckDB's
        # BIGINT division drops the milliseconds: only inside the form that adds them back
        assert "/ 1000" not in sql.replace(EPOCH_MS, ""), name
        assert "rtrim" not in sql.lower(), name  # Redshift ignores trailing blanks itself


# 2. The documented pattern, for every table -----------------------------------------------------


@pytest.mark.parametrize("table", list(MERGES))
def test_statements_run_the_steps_in_the_patterns_order(table: str) -> None:
    merge = MERGES[table]
    steps = [getattr(merge, step)() for step in STEPS]
    expected = [_sql(statement) for statement in steps if statement is not None]
    extra = {name for name, _ in merge.before_replace}  # run between analyze and replace
    pattern = [_sql(statement) for name, statement in merge.steps() if name not in extra]
    assert pattern == expected


@pytest.mark.parametrize("table", list(MERGES))
def test_each_merge_stages_into_its_own_temporary_table(table: str) -> None:
    merge: Merge = MERGES[table]
    stage = f"merge_{table}"
    target_columns = [c.name for c in merge.table.columns if c.identity is None]
    assert [c.name for c in merge.stage.columns] == target_columns
    columns = ", ".join(target_columns)
    selected = ", ".join(f"{stage}.{c}" for c in target_columns)

    assert _step(table, "create").startswith(f"CREATE TEMPORARY TABLE {stage} ( ")
    assert _step(table, "fill").startswith(f"INSERT INTO {stage} ({columns}) SELECT ")
    assert _step(table, "analyze") == f"ANALYZE {stage}"
    assert _step(table, "drop_known").startswith(f"DELETE FROM {stage} USING {table} WHERE ")
    assert (
        _step(table, "insert") == f"INSERT INTO {table} ({columns}) SELECT {selected} FROM {stage}"
    )
    assert _step(table, "drop") == f"DROP TABLE {stage}"


@pytest.mark.parametrize("table", list(MERGES))
def test_the_temporary_table_takes_the_targets_distribution_key(table: str) -> None:
    options = MERGES[table].table.dialect_options["redshift"]
    create = _step(table, "create")
    if options.get("diststyle") == "KEY":
        assert create.endswith(f") DISTKEY ({options['distkey']})")
    else:
        assert create.endswith(")")
        assert "DISTKEY" not in create
    for word in ("SORTKEY", "ENCODE", "IDENTITY"):
        assert word not in create


@pytest.mark.parametrize("table", list(MERGES))
def test_drop_known_joins_on_the_whole_key(table: str) -> None:
    merge = MERGES[table]
    match = " AND ".join(f"{table}.{k} = merge_{table}.{k}" for k in merge.key)
    assert _step(table, "drop_known") == (
        f"DELETE FROM merge_{table} USING {table} WHERE {match}{_within_batch(table)}"
    )


def _within_batch(table: str) -> str:
    """The bound the join implies, written out for the index (or zone maps) on start_time:
    the fact, its keys and time only."""
    if table not in ("songplays", "play_keys", "time"):
        return ""
    return (
        f" AND {table}.start_time >= (SELECT min(merge_{table}.start_time) AS min_1 "
        f"FROM merge_{table}) AND {table}.start_time <= (SELECT max(merge_{table}.start_time) "
        f"AS max_1 FROM merge_{table})"
    )


@pytest.mark.parametrize(
    ("table", "partition"),
    [
        ("users", "staging_events.user_id"),
        ("song_catalogue", "staging_songs.song_id"),
        ("artists", "song_catalogue.artist_id"),  # the whole catalogue's, not the batch's
    ],
)
def test_dimensions_fill_one_staged_row_per_key(table: str, partition: str) -> None:
    fill = _step(table, "fill")
    assert f"row_number() OVER (PARTITION BY {partition} ORDER BY " in fill
    assert fill.count("row_number() OVER (PARTITION BY") == 1
    assert fill.count("_ranked.rank_ = 1)") == 1


# users


def test_users_merge_is_redshifts_pattern_with_the_contracts_last_event_winning() -> None:
    assert _step("users", "create") == (
        "CREATE TEMPORARY TABLE merge_users ( user_id INTEGER, first_name VARCHAR(256), "
        "last_name VARCHAR(256), gender VARCHAR(16), level VARCHAR(16), source_ts BIGINT, "
        "source_session_id INTEGER, source_item_in_session INTEGER )"
    )
    fill = _step("users", "fill")
    # the contract's total order (users), the last event first, NULL before any value
    order = ", ".join(
        f"staging_events.{c} DESC NULLS LAST"
        for c in ("ts", "session_id", "item_in_session", "level", "first_name", "last_name")
    )
    assert (
        f"row_number() OVER (PARTITION BY staging_events.user_id ORDER BY {order}, "
        "staging_events.gender DESC NULLS LAST) AS rank_"
    ) in fill
    assert "staging_events.ts AS source_ts" in fill
    assert "staging_events.session_id AS source_session_id" in fill
    assert "staging_events.item_in_session AS source_item_in_session" in fill
    assert "WHERE staging_events.user_id IS NOT NULL" in fill
    assert fill.endswith("WHERE latest_users_ranked.rank_ = 1) AS latest_users")
    replace = _step("users", "replace")
    assert replace.startswith(
        "DELETE FROM users USING merge_users WHERE users.user_id = merge_users.user_id AND "
        "(merge_users.source_ts > users.source_ts "
        "OR merge_users.source_ts IS NOT NULL AND users.source_ts IS NULL "
        "OR (merge_users.source_ts = users.source_ts "
        "OR merge_users.source_ts IS NULL AND users.source_ts IS NULL) "
        "AND (merge_users.source_session_id > users.source_session_id "
    )
    assert replace.endswith(
        "AND (merge_users.gender > users.gender "
        "OR merge_users.gender IS NOT NULL AND users.gender IS NULL)))))))"
    )
    assert "DISTINCT" not in replace  # Redshift has no IS DISTINCT FROM
    assert _step("users", "drop_known") == (
        "DELETE FROM merge_users USING users WHERE users.user_id = merge_users.user_id"
    )


# songs, artists


@pytest.mark.parametrize("table", ["songs", "artists", "song_catalogue"])
def test_catalogue_rows_are_replaced_when_any_value_differs_null_safely(table: str) -> None:
    merge = MERGES[table]
    (key,) = merge.key
    replace = _step(table, "replace")
    prefix = (
        f"DELETE FROM {table} USING merge_{table} WHERE {table}.{key} = merge_{table}.{key} AND ("
    )
    differs = _parenthesised_tail(replace, prefix).split(" OR ")
    # AND binds tighter than OR: each column contributes three disjuncts, `a IS DISTINCT FROM b`
    for column in (c.name for c in merge.stage.columns if c.name != key):
        for disjunct in _null_safe_differs(table, column):
            assert disjunct in differs, f"{disjunct!r} missing from {replace}"
    # and nothing else (the key's own trio is there too: redundant under the key match)
    allowed = {d for c in merge.stage.columns for d in _null_safe_differs(table, c.name)}
    assert set(differs) <= allowed, set(differs) - allowed


def test_songs_fill_reads_year_zero_as_null() -> None:
    assert "nullif(staging_songs.year, 0) AS year" in _step("song_catalogue", "fill")
    # songs take the catalogue's rows of the songs the batch brought
    assert _step("songs", "fill").endswith(
        "FROM song_catalogue WHERE song_catalogue.song_id IN (SELECT changed_songs.song_id "
        "FROM changed_songs WHERE changed_songs.song_id IS NOT NULL)) AS brought_songs"
    )


def test_artists_fill_reads_an_empty_location_as_null() -> None:
    # NULLIF(location, '') as Redshift evaluates it: blanks only are empty too
    assert (
        "CASE WHEN (song_catalogue.artist_location = '') THEN NULL "
        "ELSE song_catalogue.artist_location END AS location"
    ) in _step("artists", "fill")


# songplays


def test_songplays_only_gain_rows_and_leave_the_identity_to_the_target() -> None:
    merge = MERGES["songplays"]
    assert merge.replace() is None
    assert merge.key == ("user_id", "session_id", "start_time")
    assert _step("songplays", "create") == (
        "CREATE TEMPORARY TABLE merge_songplays ( start_time TIMESTAMP WITHOUT TIME ZONE, "
        "user_id INTEGER, level VARCHAR(16), song_id VARCHAR(32), artist_id VARCHAR(32), "
        "session_id INTEGER, location VARCHAR(512), user_agent VARCHAR(512) ) DISTKEY (start_time)"
    )
    for step in ("create", "fill", "drop_known", "insert"):
        assert "songplay_id" not in _step("songplays", step), step
    assert _step("songplays", "drop_known") == (
        "DELETE FROM merge_songplays USING songplays "
        "WHERE songplays.user_id = merge_songplays.user_id "
        "AND songplays.session_id = merge_songplays.session_id "
        "AND songplays.start_time = merge_songplays.start_time" + _within_batch("songplays")
    )


def test_songplays_fill_keeps_unmatched_plays_with_null_song_ids() -> None:
    fill = _step("songplays", "fill")
    assert fill.startswith(
        "INSERT INTO merge_songplays (start_time, user_id, level, song_id, artist_id, "
        "session_id, location, user_agent) SELECT staged_plays.start_time, staged_plays.user_id, "
        "staged_plays.level, song_matches.song_id, song_matches.artist_id, "
        "staged_plays.session_id, staged_plays.location, staged_plays.user_agent FROM ("
    )
    assert fill.count(" JOIN ") == 1
    assert ") AS staged_plays LEFT OUTER JOIN (" in fill
    assert fill.endswith(
        ") AS song_matches ON song_matches.title = staged_plays.song "
        "AND song_matches.artist_name = staged_plays.artist "
        "AND song_matches.duration = staged_plays.length"
    )
    # one play per identity, one catalogue song per (title, artist, duration)
    assert (
        "row_number() OVER (PARTITION BY staging_events.user_id, "
        "staging_events.session_id, staging_events.ts ORDER BY staging_events.item_in_session)"
    ) in fill
    # the whole catalogue: every song loaded so far, whichever load brought it
    assert (
        "row_number() OVER (PARTITION BY song_catalogue.title, song_catalogue.artist_name, "
        "song_catalogue.duration ORDER BY song_catalogue.song_id)"
    ) in fill
    assert "staging_songs" not in fill
    assert "WHERE staging_events.page = 'NextSong'" in fill
    assert f"{EPOCH_MS} AS start_time" in fill


# time


def test_time_merge_adds_each_new_start_time_once() -> None:
    merge = MERGES["time"]
    assert merge.replace() is None
    assert _step("time", "create") == (
        "CREATE TEMPORARY TABLE merge_time ( start_time TIMESTAMP WITHOUT TIME ZONE, "
        "hour SMALLINT, day SMALLINT, week SMALLINT, month SMALLINT, year SMALLINT, "
        "weekday SMALLINT ) DISTKEY (start_time)"
    )
    fill = _step("time", "fill")
    assert (
        f"FROM (SELECT DISTINCT {EPOCH_MS} AS start_time FROM staging_events "
        "WHERE staging_events.page = 'NextSong' AND staging_events.user_id IS NOT NULL) "
        "AS play_starts"
    ) in fill
    for part, column in [("hour", "hour"), ("day", "day"), ("week", "week"),
                         ("month", "month"), ("year", "year"), ("dow", "weekday")]:  # fmt: skip
        assert (
            f"CAST(EXTRACT({part} FROM play_starts.start_time) AS SMALLINT) AS {column}"
        ) in fill


def test_the_time_table_is_named_plainly_and_redshift_reads_it_as_a_table() -> None:
    # TIME is not one of Redshift's reserved words (TIMESTAMP is): no quoting is needed
    assert _step("time", "drop_known") == (
        "DELETE FROM merge_time USING time WHERE time.start_time = merge_time.start_time"
        + _within_batch("time")
    )
    assert _step("time", "insert").startswith("INSERT INTO time (start_time, hour, ")
    for sql, tables in [
        # the target, the table, and the bounds' two subqueries of the target
        (_step("time", "drop_known"), ["merge_time", "time", "merge_time", "merge_time"]),
        (_step("time", "insert"), ["time", "merge_time"]),
        ("DELETE FROM time", ["time"]),
    ]:
        assert _table_references(parse_redshift(sql)) == tables, sql


# epoch milliseconds


def test_epoch_milliseconds_become_whole_seconds_plus_the_milliseconds_left_over() -> None:
    for table in ("songplays", "time"):
        fill = _step(table, "fill")
        assert EPOCH_MS in fill, table
        assert "DATEADD" not in fill.upper(), table  # takes an INT: overflows on epoch ms
        # never one INTERVAL times the whole epoch milliseconds (~1.5e12)
        assert "staging_events.ts * INTERVAL" not in fill, table
        # the only division is the whole seconds', with MOD adding the rest back
        assert fill.count("staging_events.ts /") == fill.count(EPOCH_MS), table


# text, compared as Redshift compares it (trailing blanks ignored)

T = "rtrim({}, ' ')"  # DuckDB and PostgreSQL: the value with its trailing spaces trimmed


def _pair(a: str, b: str, op: str = "=") -> tuple[str, str]:
    return f"{a} {op} {b}", f"{T.format(a)} {op} {T.format(b)}"


# (table, step): each text comparison as Redshift receives it (the engine ignores the blanks)
# and as DuckDB and PostgreSQL run it
TEXT_COMPARISONS: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("songplays", "fill"): [
        # the matches' keys are compared (trimmed) once, in the subquery
        (
            "song_matches.title = staged_plays.song",
            f"song_matches.title = {T.format('staged_plays.song')}",
        ),
        (
            "song_matches.artist_name = staged_plays.artist",
            f"song_matches.artist_name = {T.format('staged_plays.artist')}",
        ),
        (
            "song_catalogue.title AS title, song_catalogue.artist_name AS artist_name",
            f"{T.format('song_catalogue.title')} AS title, "
            f"{T.format('song_catalogue.artist_name')} AS artist_name",
        ),
        (
            "PARTITION BY song_catalogue.title, song_catalogue.artist_name,",
            f"PARTITION BY {T.format('song_catalogue.title')}, "
            f"{T.format('song_catalogue.artist_name')},",
        ),
        ("staging_events.page = 'NextSong'", f"{T.format('staging_events.page')} = 'NextSong'"),
    ],
    ("time", "fill"): [
        ("staging_events.page = 'NextSong'", f"{T.format('staging_events.page')} = 'NextSong'"),
    ],
    ("artists", "fill"): [
        (
            "PARTITION BY song_catalogue.artist_id ",
            f"PARTITION BY {T.format('song_catalogue.artist_id')} ",
        ),
        (
            "CASE WHEN (song_catalogue.artist_location = '') THEN NULL",
            f"CASE WHEN ({T.format('song_catalogue.artist_location')} = '') THEN NULL",
        ),
    ],
    ("songs", "replace"): [
        _pair("songs.song_id", "merge_songs.song_id"),
        _pair("songs.title", "merge_songs.title", "!="),
        _pair("songs.artist_id", "merge_songs.artist_id", "!="),
    ],
    ("songs", "drop_known"): [_pair("songs.song_id", "merge_songs.song_id")],
    ("artists", "replace"): [
        _pair("artists.artist_id", "merge_artists.artist_id"),
        _pair("artists.name", "merge_artists.name", "!="),
        _pair("artists.location", "merge_artists.location", "!="),
    ],
    ("artists", "drop_known"): [_pair("artists.artist_id", "merge_artists.artist_id")],
}


@pytest.mark.parametrize("dialect", [POSTGRESQL, DUCKDB], ids=["postgresql", "duckdb"])
@pytest.mark.parametrize(("table", "step"), list(TEXT_COMPARISONS))
def test_the_local_engines_compare_text_with_its_trailing_blanks_trimmed(
    table: str, step: str, dialect: sa.Dialect
) -> None:
    redshift, local = _step(table, step), _step(table, step, dialect)
    for on_redshift, on_local in TEXT_COMPARISONS[table, step]:
        assert on_redshift in redshift, on_redshift
        assert on_local in local, on_local
    expected = sum(on_local.count("rtrim(") for _, on_local in TEXT_COMPARISONS[table, step])
    assert local.count("rtrim(") == expected, "a text comparison not listed here"


@pytest.mark.parametrize("dialect", [POSTGRESQL, DUCKDB], ids=["postgresql", "duckdb"])
def test_what_is_not_text_is_compared_as_it_is(dialect: sa.Dialect) -> None:
    for table in ("songplays", "users", "time"):
        assert _step(table, "drop_known", dialect) == _step(table, "drop_known")
    assert "PARTITION BY staging_events.user_id ORDER BY" in _step("users", "fill", dialect)
    replace = _step("users", "replace", dialect)
    for column in ("source_ts", "source_session_id", "source_item_in_session"):
        assert f"rtrim(users.{column}" not in replace
        assert f"rtrim(merge_users.{column}" not in replace
    assert "rtrim(merge_users.level, ' ') > rtrim(users.level, ' ')" in replace


# full refresh


def test_full_refresh_deletes_every_star_table_inside_the_transaction() -> None:
    sqls = [_sql(statement) for statement in full_refresh()]
    assert sqls == [
        "DELETE FROM songplays",
        "DELETE FROM time",
        "DELETE FROM users",
        "DELETE FROM songs",
        "DELETE FROM artists",
        "DELETE FROM song_catalogue",
        "DELETE FROM play_keys",
    ]
    assert {sql.removeprefix("DELETE FROM ") for sql in sqls} == set(MERGES)


# 3. One expression tree, every engine -----------------------------------------------------------


@pytest.mark.parametrize("dialect", [POSTGRESQL, DUCKDB], ids=["postgresql", "duckdb"])
def test_the_same_statements_compile_for_the_other_engines(dialect: sa.Dialect) -> None:
    for name, statement in STATEMENTS.items():
        sql = _sql(statement, dialect)
        for word in ("DISTKEY", "DISTSTYLE", "SORTKEY", "ENCODE", "IDENTITY"):
            assert word not in sql, f"{word} in {name} for {dialect.name}: {sql}"
        assert "DISTINCT FROM" not in sql, name
        if dialect is DUCKDB:
            assert "INTERVAL '1 millisecond'" not in sql, name
        else:
            assert "epoch_ms" not in sql, name
    for table in ("songplays", "time"):
        fill = _sql(MERGES[table].fill(), dialect)
        if dialect is DUCKDB:
            assert "epoch_ms(CAST(staging_events.ts AS BIGINT)) AS start_time" in fill
        else:
            assert f"{EPOCH_MS} AS start_time" in fill


def test_the_append_only_tables_lose_no_row_in_a_merge() -> None:
    """What the loader relies on to derive their rows after a load (transforms.APPEND_ONLY)."""
    from sqlalchemy import Delete

    from sparkify_dw.merge import Merge
    from sparkify_dw.transforms import APPEND_ONLY, star_merges

    for merge in star_merges():
        if merge.table.name not in APPEND_ONLY:
            continue
        if isinstance(merge, Merge):
            assert merge.replaces is None, merge.name
            assert all(s.table is merge.stage for s in merge.statements()
                       if isinstance(s, Delete)), merge.name  # fmt: skip
        else:
            assert not any(isinstance(s, Delete) for s in merge.statements()), merge.name
