"""The analytics questions as SQLAlchemy Core SELECTs, one builder per query: filters in, SQL out.

Every query is one expression tree that runs on DuckDB and PostgreSQL and compiles for Redshift;
nothing here tests which engine it talks to. Ties in a ranking are broken by the key (song_id,
artist_id, location, browser and OS), so results are the same on every engine.

Browser and OS families are classified in SQL with `CASE WHEN user_agent LIKE …` (first rule that
matches wins, see `BROWSERS` and `OPERATING_SYSTEMS`): the grouping stays in the database, which
is what scales on Redshift, and LIKE is case-sensitive and means the same on all three engines.
Text filtered or grouped on (level, location) is compared as Redshift compares it, trailing
blanks ignored (`sql.compared`; data contract, "Text comparisons").
"""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
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
from sqlalchemy.sql.elements import ColumnElement

from sparkify_dw.analytics.filters import Filters
from sparkify_dw.models import Artist, Song, Songplay, Time, User
from sparkify_dw.sql import compared
from sparkify_dw.timeparts import WEEKDAYS

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
        conditions.append(compared(songplays.c.level) == literal(filters.level, String()))
    return conditions


def _text(value: str) -> ColumnElement[str]:
    return literal(value, String())


def _plays_count() -> ColumnElement[int]:
    return func.count().label("plays")


def _users_count(column: Any, label: str = "users") -> ColumnElement[int]:
    return func.count(distinct(column)).label(label)


def _limited(statement: Select[Any], filters: Filters) -> Select[Any]:
    return statement if filters.limit is None else statement.limit(filters.limit)


def top_songs(filters: Filters) -> Select[Any]:
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


def top_artists(filters: Filters) -> Select[Any]:
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


def plays_by_hour(filters: Filters) -> Select[Any]:
    return _by_time_part("hour", filters)


def plays_by_weekday(filters: Filters) -> Select[Any]:
    # Named in an outer query: the CASE's parameters never meet a GROUP BY (PostgreSQL would see
    # `CASE … $1` in the select list and `CASE … $5` in GROUP BY as different expressions).
    counts = _by_time_part("weekday", filters).subquery("by_weekday")
    day_name = case(
        *((counts.c.weekday == number, _text(name)) for number, name in enumerate(WEEKDAYS))
    )
    return select(
        counts.c.weekday, day_name.label("day_name"), counts.c.plays, counts.c.users
    ).order_by(counts.c.weekday)


def daily_active_users(filters: Filters) -> Select[Any]:
    day: Any = cast(songplays.c.start_time, Date)  # Any: Select[Any] on SQLAlchemy 2.0 and 2.1
    return (
        select(day.label("day"), _users_count(songplays.c.user_id, "active_users"), _plays_count())
        .where(*_plays(filters))
        .group_by(day)
        .order_by(day)
    )


def level_split(filters: Filters) -> Select[Any]:
    level = compared(songplays.c.level)
    return (
        select(level.label("level"), _plays_count(), _users_count(songplays.c.user_id))
        .where(*_plays(filters))
        .group_by(level)
        .order_by(level)
    )


def conversions(filters: Filters) -> Select[Any]:
    # A conversion is a user's first paid play after their first free play; since/until bound
    # when it happened, and every play counts in finding it.
    first_free = (
        select(songplays.c.user_id, func.min(songplays.c.start_time).label("first_free_play"))
        .where(compared(songplays.c.level) == _text("free"))
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
                    compared(paid.c.level) == _text("paid"),
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


def top_locations(filters: Filters) -> Select[Any]:
    location = compared(songplays.c.location)  # "" and blanks only are no location
    return _limited(
        select(location.label("location"), _plays_count(), _users_count(songplays.c.user_id))
        .where(songplays.c.location.is_not(None), location != _text(""))
        .where(*_plays(filters))
        .group_by(location)
        .order_by(desc("plays"), location),
        filters,
    )


def classify(column: Any, rules: tuple[tuple[str, tuple[str, ...]], ...]) -> ColumnElement[str]:
    """The family (BROWSERS, OPERATING_SYSTEMS) of a user agent column, as a SQL CASE."""
    whens = []
    for family, patterns in rules:
        matches = [column.like(_text(pattern)) for pattern in patterns]
        whens.append((or_(*matches), family))
    return case(*((when, _text(family)) for when, family in whens), else_=_text(OTHER))


def top_user_agents(filters: Filters) -> Select[Any]:
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


def session_length(filters: Filters) -> Select[Any]:
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
