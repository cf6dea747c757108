"""Analytics: the questions Sparkify asks of the star schema, as named SQLAlchemy Core queries.

Every query is one expression tree that runs on DuckDB and PostgreSQL and compiles for Redshift;
nothing here tests which engine it talks to. `QUERIES` is the registry, `run_query(bind, name,
since=…, until=…, level=…, limit=…)` runs one and returns a `Result` (column names and rows).

Filters select plays: `since`/`until` bound `songplays.start_time` (a date means the whole day,
both ends inclusive; a datetime is an exact instant, also inclusive), `level` keeps the plays made
at that level (`free` or `paid`). `limit` caps the rows of the ranked queries. Ties in a ranking
are broken by the key (song_id, artist_id, location, browser and OS), so results are the same on
every engine.

Browser and OS families are classified in SQL with `CASE WHEN user_agent LIKE …` (first rule that
matches wins, see `BROWSERS` and `OPERATING_SYSTEMS`): the grouping stays in the database, which
is what scales on Redshift, and LIKE is case-sensitive and means the same on all three engines.

Expected results (`load_expectations`, `verify`, `snapshot`): a JSON file lists queries with
their parameters and the rows they must return; `verify` runs each and describes any difference.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    DateTime,
    Engine,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    desc,
    distinct,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from sparkify_dw.db import driver_reason, redact_url
from sparkify_dw.errors import ConfigError, DatabaseError, SparkifyError
from sparkify_dw.models import Artist, Song, Songplay, Time, User
from sparkify_dw.sample import EXPECTATIONS_DIR as EXPECTATIONS_DIR
from sparkify_dw.sample import SAMPLE_EXPECTATIONS as SAMPLE_EXPECTATIONS
from sparkify_dw.timeparts import WEEKDAYS as WEEKDAYS
from sparkify_dw.warehouse import NoWarehouseError as NoWarehouseError  # raised here too
from sparkify_dw.warehouse import connect, require_tables

LEVELS = ("free", "paid")
FILTERS = ("since", "until", "level", "limit")
DEFAULT_TOP = 10
STAR_TABLES = ("songplays", "users", "songs", "artists", "time")

# (family, LIKE patterns): the first family with a matching pattern wins, so the order matters:
# Edge and Opera UAs also say Chrome, Chrome's say Safari, iPhone's say "like Mac OS X".
BROWSERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Edge", ("%Edge/%", "%Edg/%")),
    ("Opera", ("%OPR/%", "%Opera%")),
    ("Internet Explorer", ("%MSIE %", "%Trident/%")),
    ("Firefox", ("%Firefox/%",)),
    ("Chromium", ("%Chromium/%",)),
    ("Chrome", ("%Chrome/%", "%CriOS/%")),
    ("Safari", ("%Safari/%",)),
)
OPERATING_SYSTEMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("iOS", ("%iPhone%", "%iPad%", "%iPod%")),
    ("Android", ("%Android%",)),
    ("Windows", ("%Windows%",)),
    ("Mac OS X", ("%Mac OS X%", "%Macintosh%")),
    ("Linux", ("%Linux%", "%X11%")),
)
OTHER = "Other"

# Plays per session, in buckets: (lowest, label); a bucket runs up to the next one's lowest.
SESSION_BUCKETS: tuple[tuple[int, str], ...] = (
    (1, "1"),
    (2, "2-4"),
    (5, "5-9"),
    (10, "10-19"),
    (20, "20-49"),
    (50, "50-99"),
    (100, "100+"),
)


class QueryError(ConfigError):
    """An unknown query name, or a filter it does not take or cannot use."""


class ExpectationsError(ConfigError):
    """An expectations file that cannot be read or does not have the expected shape."""


@dataclass(frozen=True)
class Filters:
    """The parameters of a query: validated, with dates as datetimes bounds."""

    since: dt.date | None = None
    until: dt.date | None = None
    level: str | None = None
    limit: int | None = None

    def given(self) -> dict[str, Any]:
        """The filters that were set, as JSON-friendly values (dates in ISO format)."""
        values: dict[str, Any] = {}
        for name in FILTERS:
            value = getattr(self, name)
            if value is not None:
                values[name] = value.isoformat() if isinstance(value, dt.date) else value
        return values


def _table(model: Any) -> Table:
    return typing.cast(Table, model.__table__)


songplays = _table(Songplay)
users = _table(User)
songs = _table(Song)
artists = _table(Artist)
time = _table(Time)


def _start_bounds(column: Any, filters: Filters) -> list[ColumnElement[bool]]:
    """`since <= column <= until`, a date meaning its whole day (UTC, like start_time)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.since is not None:
        since = filters.since
        if not isinstance(since, dt.datetime):
            since = dt.datetime.combine(since, dt.time())
        conditions.append(column >= literal(since, DateTime()))
    if filters.until is not None:
        until = filters.until
        if isinstance(until, dt.datetime):
            conditions.append(column <= literal(until, DateTime()))
        else:
            next_day = dt.datetime.combine(until + dt.timedelta(days=1), dt.time())
            conditions.append(column < literal(next_day, DateTime()))
    return conditions


def _plays(filters: Filters) -> list[ColumnElement[bool]]:
    """The conditions that select the plays a query counts."""
    conditions = _start_bounds(songplays.c.start_time, filters)
    if filters.level is not None:
        conditions.append(songplays.c.level == literal(filters.level, String()))
    return conditions


def _text(value: str) -> ColumnElement[str]:
    return literal(value, String())


def _plays_count() -> ColumnElement[int]:
    return func.count().label("plays")


def _users_count(column: Any, label: str = "users") -> ColumnElement[int]:
    return func.count(distinct(column)).label(label)


def _limited(statement: Select[Any], filters: Filters) -> Select[Any]:
    return statement if filters.limit is None else statement.limit(filters.limit)


def _top_songs(filters: Filters) -> Select[Any]:
    return _limited(
        select(
            songplays.c.song_id,
            songs.c.title,
            artists.c.name.label("artist_name"),
            _plays_count(),
            _users_count(songplays.c.user_id, "listeners"),
        )
        .select_from(
            songplays.outerjoin(songs, songs.c.song_id == songplays.c.song_id).outerjoin(
                artists, artists.c.artist_id == songplays.c.artist_id
            )
        )
        .where(songplays.c.song_id.is_not(None), *_plays(filters))
        .group_by(songplays.c.song_id, songs.c.title, artists.c.name)
        .order_by(desc("plays"), songplays.c.song_id),
        filters,
    )


def _top_artists(filters: Filters) -> Select[Any]:
    return _limited(
        select(
            songplays.c.artist_id,
            artists.c.name.label("artist_name"),
            _plays_count(),
            _users_count(songplays.c.user_id, "listeners"),
        )
        .select_from(songplays.outerjoin(artists, artists.c.artist_id == songplays.c.artist_id))
        .where(songplays.c.artist_id.is_not(None), *_plays(filters))
        .group_by(songplays.c.artist_id, artists.c.name)
        .order_by(desc("plays"), songplays.c.artist_id),
        filters,
    )


def _by_time_part(part: str, filters: Filters) -> Select[Any]:
    column = time.c[part]
    return (
        select(column, _plays_count(), _users_count(songplays.c.user_id))
        .select_from(songplays.join(time, time.c.start_time == songplays.c.start_time))
        .where(*_plays(filters))
        .group_by(column)
        .order_by(column)
    )


def _plays_by_hour(filters: Filters) -> Select[Any]:
    return _by_time_part("hour", filters)


def _plays_by_weekday(filters: Filters) -> Select[Any]:
    # Named in an outer query: the CASE's parameters never meet a GROUP BY (PostgreSQL would see
    # `CASE … $1` in the select list and `CASE … $5` in GROUP BY as different expressions).
    counts = _by_time_part("weekday", filters).subquery("by_weekday")
    day_name = case(
        *((counts.c.weekday == number, _text(name)) for number, name in enumerate(WEEKDAYS))
    )
    return select(
        counts.c.weekday, day_name.label("day_name"), counts.c.plays, counts.c.users
    ).order_by(counts.c.weekday)


def _daily_active_users(filters: Filters) -> Select[Any]:
    day: Any = cast(songplays.c.start_time, Date)  # Any: Select[Any] on SQLAlchemy 2.0 and 2.1
    return (
        select(day.label("day"), _users_count(songplays.c.user_id, "active_users"), _plays_count())
        .where(*_plays(filters))
        .group_by(day)
        .order_by(day)
    )


def _level_split(filters: Filters) -> Select[Any]:
    return (
        select(songplays.c.level, _plays_count(), _users_count(songplays.c.user_id))
        .where(*_plays(filters))
        .group_by(songplays.c.level)
        .order_by(songplays.c.level)
    )


def _conversions(filters: Filters) -> Select[Any]:
    # A conversion is a user's first paid play after their first free play; since/until bound
    # when it happened, and every play counts in finding it.
    first_free = (
        select(songplays.c.user_id, func.min(songplays.c.start_time).label("first_free_play"))
        .where(songplays.c.level == _text("free"))
        .group_by(songplays.c.user_id)
        .subquery("first_free")
    )
    paid = songplays.alias("paid")
    converted = (
        select(
            first_free.c.user_id,
            first_free.c.first_free_play,
            func.min(paid.c.start_time).label("converted_at"),
        )
        .select_from(
            first_free.join(
                paid,
                and_(
                    paid.c.user_id == first_free.c.user_id,
                    paid.c.level == _text("paid"),
                    paid.c.start_time > first_free.c.first_free_play,
                ),
            )
        )
        .group_by(first_free.c.user_id, first_free.c.first_free_play)
        .subquery("converted")
    )
    return _limited(
        select(
            converted.c.user_id,
            users.c.first_name,
            users.c.last_name,
            converted.c.first_free_play,
            converted.c.converted_at,
        )
        .select_from(converted.outerjoin(users, users.c.user_id == converted.c.user_id))
        .where(*_start_bounds(converted.c.converted_at, filters))
        .order_by(converted.c.converted_at, converted.c.user_id),
        filters,
    )


def _top_locations(filters: Filters) -> Select[Any]:
    return _limited(
        select(songplays.c.location, _plays_count(), _users_count(songplays.c.user_id))
        .where(songplays.c.location.is_not(None), songplays.c.location != _text(""))
        .where(*_plays(filters))
        .group_by(songplays.c.location)
        .order_by(desc("plays"), songplays.c.location),
        filters,
    )


def classify(column: Any, rules: tuple[tuple[str, tuple[str, ...]], ...]) -> ColumnElement[str]:
    """The family (BROWSERS, OPERATING_SYSTEMS) of a user agent column, as a SQL CASE."""
    whens = []
    for family, patterns in rules:
        matches = [column.like(_text(pattern)) for pattern in patterns]
        whens.append((or_(*matches), family))
    return case(*((when, _text(family)) for when, family in whens), else_=_text(OTHER))


def _top_user_agents(filters: Filters) -> Select[Any]:
    agent = songplays.c.user_agent
    classified = (
        select(
            classify(agent, BROWSERS).label("browser"),
            classify(agent, OPERATING_SYSTEMS).label("os"),
            songplays.c.user_id,
        )
        .where(*_plays(filters))
        .subquery("classified")
    )
    return _limited(
        select(
            classified.c.browser,
            classified.c.os,
            _plays_count(),
            _users_count(classified.c.user_id),
        )
        .group_by(classified.c.browser, classified.c.os)
        .order_by(desc("plays"), classified.c.browser, classified.c.os),
        filters,
    )


def _session_length(filters: Filters) -> Select[Any]:
    # A session is (user_id, session_id): session ids are not unique across users.
    sessions = (
        select(songplays.c.user_id, songplays.c.session_id, func.count().label("plays"))
        .where(*_plays(filters))
        .group_by(songplays.c.user_id, songplays.c.session_id)
        .subquery("sessions")
    )
    lowest = case(
        *(
            (sessions.c.plays >= low, literal(low, BigInteger()))
            for low, _ in reversed(SESSION_BUCKETS)
        )
    )
    label = case(
        *((sessions.c.plays >= low, _text(name)) for low, name in reversed(SESSION_BUCKETS))
    )
    bucketed = select(
        lowest.label("lowest"), label.label("plays_per_session"), sessions.c.plays
    ).subquery("bucketed")
    return (
        select(
            bucketed.c.plays_per_session,
            func.count().label("sessions"),
            cast(func.sum(bucketed.c.plays), BigInteger).label("plays"),
            func.max(bucketed.c.plays).label("longest"),
        )
        .group_by(bucketed.c.lowest, bucketed.c.plays_per_session)
        .order_by(bucketed.c.lowest)
    )


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
        unknown = sorted(set(raw) - set(FILTERS))
        if unknown:
            raise QueryError(f"{self.name}: unknown filter {', '.join(unknown)}")
        refused = sorted(k for k, v in raw.items() if v is not None and k not in self.filters)
        if refused:
            takes = ", ".join(f for f in FILTERS if f in self.filters) or "no filters"
            raise QueryError(f"{self.name} does not take {', '.join(refused)} (it takes {takes})")
        since = _parse_date(raw.get("since"), "since")
        until = _parse_date(raw.get("until"), "until")
        if since is not None and until is not None and _bound(since) > _bound(until):
            raise QueryError(f"since ({since.isoformat()}) is after until ({until.isoformat()})")
        level = raw.get("level")
        if level is not None and level not in LEVELS:
            raise QueryError(f"level must be free or paid, not {level!r}")
        limit = raw.get("limit")
        if limit is not None:
            limit = _parse_limit(limit)
        elif "limit" in self.filters:
            limit = self.default_limit
        return Filters(since=since, until=until, level=level, limit=limit)


def _bound(value: dt.date) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())


def _parse_date(value: Any, what: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)  # start_time is naive UTC
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            return _parse_date(dt.datetime.fromisoformat(text), what)
        except ValueError:
            pass
    raise QueryError(
        f"{what} must be a date (2018-11-15) or a UTC date and time (2018-11-15T08:00), "
        f"not {value!r}"
    )


def _parse_limit(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise QueryError(f"limit must be a whole number of 1 or more, not {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise QueryError(f"limit must be a whole number of 1 or more, not {value!r}") from None
    if number < 1:
        raise QueryError(f"limit must be a whole number of 1 or more, not {value!r}")
    return number


_RANKED = frozenset(FILTERS)

QUERIES: dict[str, Query] = {
    query.name: query
    for query in (
        Query(
            "top-songs",
            "The most played songs, among plays matched to the catalogue.",
            ("song_id", "title", "artist_name", "plays", "listeners"),
            ("song_id",),
            _top_songs,
            _RANKED,
            DEFAULT_TOP,
        ),
        Query(
            "top-artists",
            "The most played artists, among plays matched to the catalogue.",
            ("artist_id", "artist_name", "plays", "listeners"),
            ("artist_id",),
            _top_artists,
            _RANKED,
            DEFAULT_TOP,
        ),
        Query(
            "plays-by-hour",
            "Plays and distinct users per hour of the day (UTC, 0-23).",
            ("hour", "plays", "users"),
            ("hour",),
            _plays_by_hour,
        ),
        Query(
            "plays-by-weekday",
            "Plays and distinct users per day of the week (0 = Sunday).",
            ("weekday", "day_name", "plays", "users"),
            ("weekday",),
            _plays_by_weekday,
        ),
        Query(
            "daily-active-users",
            "Distinct users who played a song, and their plays, per day (UTC).",
            ("day", "active_users", "plays"),
            ("day",),
            _daily_active_users,
        ),
        Query(
            "level-split",
            "Plays and distinct users at each level (a user who upgraded counts in both).",
            ("level", "plays", "users"),
            ("level",),
            _level_split,
        ),
        Query(
            "conversions",
            "Users who went free -> paid: their first paid play after their first free one.",
            ("user_id", "first_name", "last_name", "first_free_play", "converted_at"),
            ("user_id",),
            _conversions,
            frozenset({"since", "until", "limit"}),
        ),
        Query(
            "top-locations",
            "The locations with the most plays (where the event has one), and their users.",
            ("location", "plays", "users"),
            ("location",),
            _top_locations,
            _RANKED,
            DEFAULT_TOP,
        ),
        Query(
            "top-user-agents",
            "Plays and users per browser and OS family, parsed from the user agent in SQL.",
            ("browser", "os", "plays", "users"),
            ("browser", "os"),
            _top_user_agents,
            _RANKED,
            DEFAULT_TOP,
        ),
        Query(
            "session-length",
            "Plays per session (user_id, session_id): sessions, plays and the longest, by bucket.",
            ("plays_per_session", "sessions", "plays", "longest"),
            ("plays_per_session",),
            _session_length,
        ),
    )
}


def get_query(name: str) -> Query:
    """The query of that name, or a QueryError listing the names there are."""
    try:
        return QUERIES[name]
    except KeyError:
        raise QueryError(f"Unknown query {name!r}: use one of {', '.join(QUERIES)}") from None


@dataclass(frozen=True)
class Result:
    """A query's answer: column names and rows (tuples), in the query's order."""

    query: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    filters: Filters = Filters()

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts, column name to value."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame (pandas is optional: `pip install pandas`)."""
        try:
            pandas = importlib.import_module("pandas")
        except ImportError:
            raise SparkifyError(
                "Result.to_pandas needs pandas, which is not installed: pip install pandas"
            ) from None
        return pandas.DataFrame.from_records(self.rows, columns=list(self.columns))

    as_dataframe = to_pandas


def _url(bind: Engine | Connection) -> str:
    return redact_url(bind.engine.url)


def require_warehouse(connection: Connection) -> None:
    """A NoWarehouseError unless the star tables are there."""
    require_tables(connection, STAR_TABLES)


def _execute(connection: Connection, query: Query, filters: Filters) -> Result:
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
        return _execute(connection, query, filters)


# --- Expected results --------------------------------------------------------------------------


def to_json_value(value: Any) -> Any:
    """A value as it is written in an expectations file (dates and times in ISO format)."""
    if isinstance(value, dt.datetime):
        spec = "milliseconds" if value.microsecond % 1000 == 0 else "microseconds"
        return value.isoformat(sep=" ", timespec=spec)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


@dataclass(frozen=True)
class Expectation:
    """One query, its parameters, and the rows it must return."""

    query: str
    params: dict[str, Any]
    rows: list[list[Any]]
    columns: tuple[str, ...] | None = None
    description: str | None = None

    @property
    def title(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.query} ({params})" if params else self.query


@dataclass(frozen=True)
class Check:
    """The outcome of one expectation: passed, or the differences found."""

    expectation: Expectation
    result: Result
    differences: list[str]

    @property
    def passed(self) -> bool:
        return not self.differences


def load_expectations(path: Path | str) -> list[Expectation]:
    """Read an expectations file, or an ExpectationsError saying what is wrong with it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExpectationsError(f"Expectations file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExpectationsError(f"Cannot read expectations file {path}: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExpectationsError(
            f"{path} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    return parse_expectations(document, str(path))


def parse_expectations(document: Any, source: str = "expectations") -> list[Expectation]:
    """Check the shape of an expectations document and return its entries."""

    def fail(message: str) -> ExpectationsError:
        return ExpectationsError(f"{source}: {message}")

    if not isinstance(document, dict) or not isinstance(document.get("expectations"), list):
        raise fail('expected an object with an "expectations" list')
    entries: list[Expectation] = []
    for number, entry in enumerate(document["expectations"], start=1):
        where = f"expectation {number}"
        if not isinstance(entry, dict):
            raise fail(f"{where} is not an object")
        name = entry.get("query")
        if not isinstance(name, str):
            raise fail(f'{where} has no "query" name')
        where = f"expectation {number} ({name})"
        unknown_keys = sorted(set(entry) - {"query", "params", "columns", "rows", "description"})
        if unknown_keys:
            raise fail(f"{where} has unknown key(s) {', '.join(unknown_keys)}")
        try:
            query = get_query(name)
        except QueryError as exc:
            raise fail(f"{where}: {exc}") from None
        params = entry.get("params", {})
        if not isinstance(params, dict):
            raise fail(f'{where}: "params" must be an object')
        try:
            query.parse_filters(**params)
        except QueryError as exc:
            raise fail(f"{where}: {exc}") from None
        columns = entry.get("columns")
        if columns is not None and (
            not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)
        ):
            raise fail(f'{where}: "columns" must be a list of names')
        rows = entry.get("rows")
        width = len(columns) if columns is not None else len(query.columns)
        if not isinstance(rows, list) or not all(
            isinstance(row, list) and len(row) == width for row in rows
        ):
            raise fail(f'{where}: "rows" must be a list of rows, each a list of {width} values')
        description = entry.get("description")
        entries.append(
            Expectation(
                query=name,
                params=dict(params),
                rows=rows,
                columns=tuple(columns) if columns is not None else None,
                description=description if isinstance(description, str) else None,
            )
        )
    return entries


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        if isinstance(expected, int | float) and isinstance(actual, int | float):
            return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
        return False
    return bool(expected == actual) and type(expected) is type(actual)


def _same_row(expected: Sequence[Any], actual: Sequence[Any]) -> bool:
    return len(expected) == len(actual) and all(map(_same, expected, actual))


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _show_row(columns: Sequence[str], row: Sequence[Any]) -> str:
    return ", ".join(f"{c}={_show(v)}" for c, v in zip(columns, row, strict=True))


def differences(
    columns: Sequence[str],
    key: Sequence[str],
    expected: Sequence[Sequence[Any]],
    actual: Sequence[Sequence[Any]],
) -> list[str]:
    """Human-readable differences between expected and actual rows (JSON values), [] if none.

    Rows are matched by the key columns: a key only expected is a missing row, one only found is
    an unexpected row, and a key in both with other values is a changed row, shown value by value
    (expected → actual). The same rows in another order are a difference too.
    """
    if len(expected) == len(actual) and all(map(_same_row, expected, actual)):
        return []
    index = [columns.index(k) for k in key]

    def key_of(row: Sequence[Any]) -> tuple[str, ...]:
        return tuple(_show(row[i]) for i in index)

    expected_by_key = {key_of(row): row for row in expected}
    actual_by_key = {key_of(row): row for row in actual}
    if len(expected_by_key) < len(expected) or len(actual_by_key) < len(actual):
        # Duplicate keys (hand-written file): compare whole rows instead.
        index = list(range(len(columns)))
        expected_by_key = {key_of(row): row for row in expected}
        actual_by_key = {key_of(row): row for row in actual}
    found: list[str] = []
    for row_key, row in expected_by_key.items():
        if row_key not in actual_by_key:
            found.append(f"- missing row: {_show_row(columns, row)}")
    for row_key, row in actual_by_key.items():
        if row_key not in expected_by_key:
            found.append(f"+ unexpected row: {_show_row(columns, row)}")
    for row_key, row in expected_by_key.items():
        other = actual_by_key.get(row_key)
        if other is None or _same_row(row, other):
            continue
        changes = "; ".join(
            f"{column}: expected {_show(want)}, got {_show(got)}"
            for column, want, got in zip(columns, row, other, strict=True)
            if not _same(want, got)
        )
        named = ", ".join(f"{columns[i]}={row_key[n]}" for n, i in enumerate(index))
        found.append(f"~ changed row {named}: {changes}")
    if not found:
        found.append(
            f"same rows in another order: expected {len(expected)} rows with "
            f"{', '.join(key)} in the order {[k for k in expected_by_key]}, "
            f"got {[k for k in actual_by_key]}"
        )
    if len(expected) != len(actual):
        found.insert(0, f"expected {len(expected)} rows, got {len(actual)}")
    return found


def verify(bind: Engine | Connection, expectations: Iterable[Expectation]) -> list[Check]:
    """Run each expectation's query and compare its rows with the expected ones."""
    checks: list[Check] = []
    with connect(bind) as connection:
        require_warehouse(connection)
        for expectation in expectations:
            query = get_query(expectation.query)
            result = _execute(connection, query, query.parse_filters(**expectation.params))
            if expectation.columns is not None and expectation.columns != result.columns:
                found = [
                    f"columns: expected {list(expectation.columns)}, got {list(result.columns)}"
                ]
            else:
                actual = [[to_json_value(v) for v in row] for row in result.rows]
                found = differences(result.columns, query.key, expectation.rows, actual)
            checks.append(Check(expectation, result, found))
    return checks


def snapshot(
    bind: Engine | Connection,
    entries: Iterable[tuple[str, Mapping[str, Any]]],
    description: str | None = None,
) -> dict[str, Any]:
    """An expectations document holding what each (query, params) returns now."""
    document: dict[str, Any] = {}
    if description:
        document["description"] = description
    document["expectations"] = []
    with connect(bind) as connection:
        require_warehouse(connection)
        for name, params in entries:
            query = get_query(name)
            result = _execute(connection, query, query.parse_filters(**params))
            document["expectations"].append(
                {
                    "query": name,
                    "params": dict(params),
                    "columns": list(result.columns),
                    "rows": [[to_json_value(v) for v in row] for row in result.rows],
                }
            )
    return document


def write_expectations(path: Path | str, document: Mapping[str, Any]) -> None:
    """Write an expectations document, one row per line so that diffs stay readable."""
    entries = []
    for entry in document["expectations"]:
        head = {k: v for k, v in entry.items() if k != "rows"}
        lines = ",\n".join(
            f"        {json.dumps(row, ensure_ascii=False)}" for row in entry["rows"]
        )
        body = json.dumps(head, ensure_ascii=False)[:-1]
        rows = f'"rows": [\n{lines}\n      ]' if entry["rows"] else '"rows": []'
        entries.append(f"    {body}, {rows}}}")
    top = {k: v for k, v in document.items() if k != "expectations"}
    header = "".join(
        f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},\n" for k, v in top.items()
    )
    Path(path).write_text(
        "{\n" + header + '  "expectations": [\n' + ",\n".join(entries) + "\n  ]\n}\n",
        encoding="utf-8",
    )
