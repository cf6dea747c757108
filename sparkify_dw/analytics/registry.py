"""The analytics queries by name (`QUERIES`), and running one: `run_query` returns a `Result`.

`run_query(bind, name, since=…, until=…, level=…, limit=…)` validates the filters for that query
(`sparkify_dw.analytics.filters`), checks that the warehouse is there, and returns the column
names and rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Engine, Select
from sqlalchemy.exc import SQLAlchemyError

from sparkify_dw.analytics.filters import (
    DEFAULT_TOP,
    FILTERS,
    Filters,
    QueryError,
    parse_filters,
)
from sparkify_dw.analytics.queries import (
    conversions,
    daily_active_users,
    level_split,
    plays_by_hour,
    plays_by_weekday,
    session_length,
    top_artists,
    top_locations,
    top_songs,
    top_user_agents,
)
from sparkify_dw.display import data_frame, html_table, short
from sparkify_dw.errors import DatabaseError, driver_reason
from sparkify_dw.models import TABLES
from sparkify_dw.urls import redact_url
from sparkify_dw.warehouse import connect, require_tables

REPR_ROWS = 5  # rows a Result's repr shows


@dataclass(frozen=True)
class Query:
    """A named question: its SQL builder, its columns, and the filters it takes."""

    name: str
    description: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the columns that identify a row (a ranking's tie-breaker)
    build: Callable[[Filters], Select[Any]] = field(repr=False)
    filters: frozenset[str] = frozenset({"since", "until", "level"})
    default_limit: int | None = None

    def statement(self, **filters: Any) -> Select[Any]:
        """The query's SELECT with these filters (see `parse_filters` for their forms)."""
        return self.build(self.parse_filters(**filters))

    def parse_filters(self, **raw: Any) -> Filters:
        """Validate filters for this query; strings are parsed (ISO dates, numbers)."""
        return parse_filters(self.name, self.filters, self.default_limit, raw)


_RANKED = frozenset(FILTERS)

QUERIES: dict[str, Query] = {
    query.name: query
    for query in (
        Query(
            "top-songs",
            "The most played songs, among plays matched to the catalogue.",
            ("song_id", "title", "artist_name", "plays", "listeners"),
            ("song_id",),
            top_songs,
            _RANKED,
            DEFAULT_TOP,
        ),
        Query(
            "top-artists",
            "The most played artists, among plays matched to the catalogue.",
            ("artist_id", "artist_name", "plays", "listeners"),
            ("artist_id",),
            top_artists,
            _RANKED,
            DEFAULT_TOP,
        ),
        Query(
            "plays-by-hour",
            "Plays and distinct users per hour of the day (UTC, 0-23).",
            ("hour", "plays", "users"),
            ("hour",),
            plays_by_hour,
        ),
        Query(
            "plays-by-weekday",
            "Plays and distinct users per day of the week (0 = Sunday).",
            ("weekday", "day_name", "plays", "users"),
            ("weekday",),
            plays_by_weekday,
        ),
        Query(
            "daily-active-users",
            "Distinct users who played a song, and their plays, per day (UTC).",
            ("day", "active_users", "plays"),
            ("day",),
            daily_active_users,
        ),
        Query(
            "level-split",
            "Plays and distinct users at each level (a user who upgraded counts in both).",
            ("level", "plays", "users"),
            ("level",),
            level_split,
        ),
        Query(
            "conversions",
            "Users who went free -> paid: their first paid play after their first free one.",
            ("user_id", "first_name", "last_name", "first_free_play", "converted_at"),
            ("user_id",),
            conversions,
            frozenset({"since", "until", "limit"}),
        ),
        Query(
            "top-locations",
            "The locations with the most plays (where the event has one), and their users.",
            ("location", "plays", "users"),
            ("location",),
            top_locations,
            _RANKED,
            DEFAULT_TOP,
        ),
        Query(
            "top-user-agents",
            "Plays and users per browser and OS family, parsed from the user agent in SQL.",
            ("browser", "os", "plays", "users"),
            ("browser", "os"),
            top_user_agents,
            _RANKED,
            DEFAULT_TOP,
        ),
        Query(
            "session-length",
            "Plays per session (user_id, session_id): sessions, plays and the longest, by bucket.",
            ("plays_per_session", "sessions", "plays", "longest"),
            ("plays_per_session",),
            session_length,
        ),
    )
}


def get_query(name: str) -> Query:
    """The query of that name, or a QueryError listing the names there are."""
    try:
        return QUERIES[name]
    except KeyError:
        raise QueryError(f"Unknown query {name!r}: use one of {', '.join(QUERIES)}") from None


@dataclass(frozen=True, repr=False)
class Result:
    """A query's answer: column names and rows (tuples), in the query's order.

    In a notebook it shows as an HTML table (the first 50 rows); `to_pandas()` is a DataFrame
    with dates as datetime64; `sparkify_dw.charts.chart_of(result)` its chart.
    """

    query: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    filters: Filters = field(default_factory=Filters)

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts, column name to value."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame, dates and timestamps as datetime64 (pandas is
        optional: `pip install 'sparkify-dw[notebook]'`)."""
        return data_frame(
            self.columns, self.rows, "Result.to_pandas", temporal=_temporal(self.query)
        )

    def _title(self) -> str:
        given = ", ".join(f"{k}={v}" for k, v in self.filters.given().items())
        return f"{self.query}" + (f" ({given})" if given else "")

    def __repr__(self) -> str:
        size = f"{len(self.rows):,} row(s), {len(self.columns)} columns"
        lines = [f"<Result {self._title()}: {size}"]
        lines.append("  " + " | ".join(self.columns))
        lines += ["  " + " | ".join(short(v, 30) for v in row) for row in self.rows[:REPR_ROWS]]
        if len(self.rows) > REPR_ROWS:
            lines.append(f"  … {len(self.rows) - REPR_ROWS:,} more row(s)")
        return "\n".join(lines) + ">"

    def _repr_html_(self) -> str:
        caption = f"<p><b>{escape(self._title())}</b>: {len(self.rows):,} row(s)</p>"
        return caption + html_table(self.columns, self.rows, total=len(self.rows))

    as_dataframe = to_pandas


def _temporal(name: str) -> set[str]:
    """The DATE and TIMESTAMP columns of the query `name` (none for a name not in QUERIES):
    datetime64 in a DataFrame even when no row says so."""
    query = QUERIES.get(name)
    if query is None:
        return set()
    columns = query.statement().selected_columns
    return {c.key for c in columns if c.key and isinstance(c.type, Date | DateTime)}


def _url(bind: Engine | Connection) -> str:
    return redact_url(bind.engine.url)


def require_warehouse(connection: Connection) -> None:
    """A NoWarehouseError unless the star tables are there."""
    require_tables(connection, (t.name for t in TABLES.star))


def execute(connection: Connection, query: Query, filters: Filters) -> Result:
    """Run `query` with validated `filters` on an open connection (run_query, verify, snapshot)."""
    try:
        rows = [tuple(row) for row in connection.execute(query.build(filters))]
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"Query {query.name} failed on {_url(connection)}: {driver_reason(exc)}"
        ) from None
    return Result(query.name, query.columns, rows, filters)


def run_query(
    bind: Engine | Connection,
    name: str,
    *,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
    level: str | None = None,
    limit: int | str | None = None,
) -> Result:
    """Run the query `name` with these filters and return its rows.

    `since`/`until` are dates (whole days, inclusive) or datetimes (UTC, inclusive), or their ISO
    text; `level` is free or paid; `limit` (ranked queries, default 10) caps the rows.
    """
    query = get_query(name)
    filters = query.parse_filters(since=since, until=until, level=level, limit=limit)
    with connect(bind) as connection:
        require_warehouse(connection)
        return execute(connection, query, filters)
