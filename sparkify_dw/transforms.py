"""The star schema's load statements, as SQLAlchemy Core builders: tables in, statements out.

Every statement merges what staging holds into the star tables (data contract): running the
same statements again over the same staging changes nothing. Dimensions are updated from
the staged rows, then missing rows are inserted; `songplays` and `time` only gain rows they do
not have yet. The builders never touch a connection; the loader runs them in order, in one
transaction. What differs between engines is compiled in sql.py, never tested for here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Integer,
    SmallInteger,
    Subquery,
    Table,
    and_,
    cast,
    exists,
    extract,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement

from sparkify_dw.sql import EpochMsToTimestamp

NEXT_SONG = "NextSong"


@dataclass(frozen=True)
class Tables:
    """The tables the statements read and write (the models' tables by default)."""

    staging_events: Table
    staging_songs: Table
    songplays: Table
    users: Table
    songs: Table
    artists: Table
    time: Table

    @classmethod
    def default(cls) -> Tables:
        from sparkify_dw.models import Artist, Song, Songplay, StagingEvent, StagingSong, Time, User

        return cls(
            staging_events=StagingEvent.__table__,  # type: ignore[arg-type]
            staging_songs=StagingSong.__table__,  # type: ignore[arg-type]
            songplays=Songplay.__table__,  # type: ignore[arg-type]
            users=User.__table__,  # type: ignore[arg-type]
            songs=Song.__table__,  # type: ignore[arg-type]
            artists=Artist.__table__,  # type: ignore[arg-type]
            time=Time.__table__,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class Step:
    """One named statement of the star load; `table` is the star table it changes."""

    name: str
    table: str
    statement: Executable


def _first_per(
    partition: list[Any],
    order: list[Any],
    columns: list[Any],
    source: Any,
    where: list[ColumnElement[bool]],
    name: str,
) -> Subquery:
    """`columns` of the first row per `partition` in `order` (ROW_NUMBER() = 1)."""
    rank = func.row_number().over(partition_by=partition, order_by=order).label("rank_")
    ranked = select(*columns, rank).select_from(source).where(*where).subquery(f"{name}_ranked")
    return select(*(ranked.c[c.key] for c in columns)).where(ranked.c.rank_ == 1).subquery(name)


def latest_users(t: Tables) -> Subquery:
    """Each non-empty userId with the attributes of its most recent event (largest ts)."""
    e = t.staging_events.c
    user_id = cast(e.user_id, Integer)
    return _first_per(
        partition=[user_id],
        # ties on ts (the real data has a Home and a NextSong in the same ms): later item wins
        order=[e.ts.desc(), e.item_in_session.desc().nulls_last()],
        columns=[
            user_id.label("user_id"),
            e.first_name,
            e.last_name,
            e.gender,
            e.level,
            e.ts.label("source_ts"),
        ],
        source=t.staging_events,
        where=[e.user_id.is_not(None), e.user_id != ""],
        name="latest_users",
    )


def catalogue_songs(t: Tables) -> Subquery:
    """One staged row per song_id, year 0 (unknown) as NULL."""
    s = t.staging_songs.c
    return _first_per(
        partition=[s.song_id],
        order=[s.title, s.artist_id, s.duration],
        columns=[s.song_id, s.title, s.artist_id, func.nullif(s.year, 0).label("year"), s.duration],
        source=t.staging_songs,
        where=[s.song_id.is_not(None)],
        name="catalogue_songs",
    )


def catalogue_artists(t: Tables) -> Subquery:
    """One staged row per artist_id, from that artist's song with the smallest song_id."""
    s = t.staging_songs.c
    return _first_per(
        partition=[s.artist_id],
        order=[s.song_id],
        columns=[
            s.artist_id,
            s.artist_name.label("name"),
            func.nullif(s.artist_location, "").label("location"),
            s.artist_latitude.label("latitude"),
            s.artist_longitude.label("longitude"),
        ],
        source=t.staging_songs,
        where=[s.artist_id.is_not(None)],
        name="catalogue_artists",
    )


def song_matches(t: Tables) -> Subquery:
    """Per (title, artist_name, duration) of the staged catalogue, the smallest song_id."""
    s = t.staging_songs.c
    return _first_per(
        partition=[s.title, s.artist_name, s.duration],
        order=[s.song_id],
        columns=[s.song_id, s.artist_id, s.title, s.artist_name, s.duration],
        source=t.staging_songs,
        where=[s.song_id.is_not(None)],
        name="song_matches",
    )


def staged_plays(t: Tables) -> Subquery:
    """Each NextSong event once per play identity (user_id, session_id, start_time)."""
    e = t.staging_events.c
    user_id = cast(e.user_id, Integer)
    return _first_per(
        partition=[user_id, e.session_id, e.ts],
        order=[e.item_in_session],
        columns=[
            EpochMsToTimestamp(e.ts).label("start_time"),
            user_id.label("user_id"),
            e.level,
            e.session_id,
            e.location,
            e.user_agent,
            e.song,
            e.artist,
            e.length,
        ],
        source=t.staging_events,
        where=[e.page == NEXT_SONG],
        name="staged_plays",
    )


def _merge_dimension(
    target: Table,
    source: Subquery,
    key: str,
    name: str,
    only_if: ColumnElement[bool] | None = None,
) -> list[Step]:
    """UPDATE the rows `source` has a newer state for, then INSERT the ones `target` lacks."""
    columns = [c.name for c in target.columns]
    values = {c: source.c[c] for c in columns if c != key}
    condition = target.c[key] == source.c[key]
    existing = target.alias(f"existing_{target.name}")
    return [
        Step(
            f"{name}: update",
            target.name,
            update(target)
            .values(values)
            .where(condition, *([only_if] if only_if is not None else [])),
        ),
        Step(
            f"{name}: insert",
            target.name,
            insert(target).from_select(
                columns,
                select(*(source.c[c] for c in columns)).where(
                    ~exists().where(existing.c[key] == source.c[key])
                ),
            ),
        ),
    ]


def songplays_insert(t: Tables) -> Step:
    """Every staged play not yet in songplays; unmatched songs keep NULL song_id/artist_id."""
    plays, matches = staged_plays(t), song_matches(t)
    existing = t.songplays.alias("existing_songplays")
    match = and_(
        matches.c.title == plays.c.song,
        matches.c.artist_name == plays.c.artist,
        matches.c.duration == plays.c.length,
    )
    columns = [
        "start_time",
        "user_id",
        "level",
        "song_id",
        "artist_id",
        "session_id",
        "location",
        "user_agent",
    ]
    query = (
        select(
            plays.c.start_time,
            plays.c.user_id,
            plays.c.level,
            matches.c.song_id,
            matches.c.artist_id,
            plays.c.session_id,
            plays.c.location,
            plays.c.user_agent,
        )
        .select_from(plays.outerjoin(matches, match))
        .where(
            ~exists().where(
                existing.c.user_id == plays.c.user_id,
                existing.c.session_id == plays.c.session_id,
                existing.c.start_time == plays.c.start_time,
            )
        )
    )
    return Step("songplays: insert", "songplays", insert(t.songplays).from_select(columns, query))


def time_insert(t: Tables) -> Step:
    """A row per distinct play start_time not yet in time, its parts in UTC."""
    e = t.staging_events.c
    starts = (
        select(EpochMsToTimestamp(e.ts).label("start_time"))
        .where(e.page == NEXT_SONG)
        .distinct()
        .subquery("play_starts")
    )
    existing = t.time.alias("existing_time")
    start = starts.c.start_time
    parts = {
        "hour": extract("hour", start),
        "day": extract("day", start),
        "week": extract("week", start),  # ISO-8601 week number
        "month": extract("month", start),
        "year": extract("year", start),
        "weekday": extract("dow", start),  # 0 = Sunday … 6 = Saturday
    }
    query = select(start, *(cast(v, SmallInteger).label(k) for k, v in parts.items())).where(
        ~exists().where(existing.c.start_time == start)
    )
    return Step("time: insert", "time", insert(t.time).from_select(["start_time", *parts], query))


def star_steps(t: Tables | None = None) -> list[Step]:
    """All statements of a star load, in the order they must run."""
    t = t or Tables.default()
    users = latest_users(t)
    return [
        # a user's state only moves forward in time, whatever order batches arrive in
        *_merge_dimension(
            t.users, users, "user_id", "users", only_if=users.c.source_ts > t.users.c.source_ts
        ),
        *_merge_dimension(t.songs, catalogue_songs(t), "song_id", "songs"),
        *_merge_dimension(t.artists, catalogue_artists(t), "artist_id", "artists"),
        songplays_insert(t),
        time_insert(t),
    ]
