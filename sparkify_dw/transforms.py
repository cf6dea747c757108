"""The star schema's load statements, as SQLAlchemy Core builders: tables in, statements out.

Every statement merges what staging holds into the star tables (data contract, "Incremental
loads"): running them again over the same staging changes nothing. Each table's merge is
Redshift's documented pattern (`Merge`): the staged rows deduplicated into a temporary table,
`DELETE … USING` of the rows they replace, `INSERT` of the rest. `songplays` and `time` only gain
rows they do not have yet. The builders never touch a connection; the loader runs them in order,
in one transaction. What differs between engines is compiled in sql.py, never tested for here.

Text is compared as Redshift compares VARCHARs, trailing blanks ignored (data contract, "Text
comparisons"): every `=`, PARTITION BY and emptiness test on text goes through `sql.compared`
or `sql.same`; the values stored keep their blanks.
"""

from __future__ import annotations

from sqlalchemy import Delete, Select, SmallInteger, Subquery, and_, cast, delete, func, select
from sqlalchemy.sql.elements import ColumnElement

from sparkify_dw.catalogue import artists_merge, catalogue_merge, rematch, song_matches, songs_merge
from sparkify_dw.merge import Merge, Statements, dimension, first_per, merge_table
from sparkify_dw.models import TABLES, Tables
from sparkify_dw.sql import EpochMsToTimestamp, compared, time_part
from sparkify_dw.timeparts import TIME_PARTS

NEXT_SONG = "NextSong"
# The tables a merge only ever adds rows to (their merges replace nothing; the re-match only
# updates songplays), so their rows after a load are the rows before plus those inserted.
APPEND_ONLY = ("songplays", "play_keys", "time")
PLAY = ("user_id", "session_id", "start_time")  # a play's identity (data contract)


def has_user(t: Tables) -> list[ColumnElement[bool]]:
    """The event has a userId (logged-out events have "", staged as NULL)."""
    e = t.staging_events.c
    return [e.user_id.is_not(None)]


def is_play(t: Tables) -> ColumnElement[bool]:
    """The event is a song play: its page is NextSong (as Redshift compares text)."""
    return compared(t.staging_events.c.page) == NEXT_SONG


def plays_without_user(t: Tables) -> Select[int]:
    """How many staged NextSong events have no userId: no play can be stored for them
    (songplays.user_id is NOT NULL), so the loader reports them instead."""
    e = t.staging_events.c
    missing = e.user_id.is_(None)
    return select(func.count()).select_from(t.staging_events).where(is_play(t), missing)


# The contract's total order of a user's events (data contract, "users"): the last one wins.
# NULL is the smallest value of each (any value beats it), here and in the merge alike.
USER_ORDER = ("ts", "session_id", "item_in_session", "level", "first_name", "last_name", "gender")
# The columns of `users` that keep the stored row's place in that order (the attributes
# themselves are stored under their own names).
USER_SOURCE = {
    "ts": "source_ts",
    "session_id": "source_session_id",
    "item_in_session": "source_item_in_session",
}


def latest_users(t: Tables) -> Subquery:
    """Each non-empty userId with the attributes of its last event in the contract's order:
    largest ts, then session_id, item_in_session, level, first_name, last_name, gender (text as
    text, trailing blanks insignificant; NULL before any value)."""
    e = t.staging_events.c
    user_id = e.user_id
    return first_per(
        partition=[user_id],
        order=[compared(e[name]).desc().nulls_last() for name in USER_ORDER],
        columns=[
            user_id.label("user_id"),
            e.first_name,
            e.last_name,
            e.gender,
            e.level,
            e.ts.label("source_ts"),
            e.session_id.label("source_session_id"),
            e.item_in_session.label("source_item_in_session"),
        ],
        source=t.staging_events,
        where=has_user(t),
        name="latest_users",
    )


def staged_plays(t: Tables) -> Subquery:
    """Each NextSong event once per play identity (user_id, session_id, start_time)."""
    e = t.staging_events.c
    user_id = e.user_id
    return first_per(
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
        where=[is_play(t), *has_user(t)],
        name="staged_plays",
    )


def songplays_merge(t: Tables) -> Merge:
    """Every staged play once, matched against the whole catalogue (every song loaded so far);
    a play already stored is never added again (a later song re-matches it: catalogue.py)."""
    plays, matches = staged_plays(t), song_matches(t)
    match = and_(
        matches.c.title == compared(plays.c.song),  # the matches' keys are compared already
        matches.c.artist_name == compared(plays.c.artist),
        matches.c.duration == plays.c.length,
    )
    query = select(
        plays.c.start_time,
        plays.c.user_id,
        plays.c.level,
        matches.c.song_id,
        matches.c.artist_id,
        plays.c.session_id,
        plays.c.location,
        plays.c.user_agent,
    ).select_from(plays.outerjoin(matches, match))  # unmatched plays keep NULL ids
    stage = merge_table(t.songplays, skip=("songplay_id",))
    return Merge(t.songplays, stage, query, PLAY, ranged="start_time")


def play_keys_merge(t: Tables) -> Merge:
    """What each new play names (song, artist, length, as compared): what a song arriving
    later is matched against."""
    plays = staged_plays(t)
    query = select(
        plays.c.user_id,
        plays.c.session_id,
        plays.c.start_time,
        compared(plays.c.song).label("song"),
        compared(plays.c.artist).label("artist"),
        plays.c.length,
    )
    return Merge(t.play_keys, merge_table(t.play_keys), query, PLAY, ranged="start_time")


def time_merge(t: Tables) -> Merge:
    """A row per distinct play start_time not yet in time, its parts in UTC."""
    e = t.staging_events.c
    starts = (
        select(EpochMsToTimestamp(e.ts).label("start_time"))
        .where(is_play(t), *has_user(t))  # the start times of stored plays only
        .distinct()
        .subquery("play_starts")
    )
    start = starts.c.start_time
    parts = {column: time_part(field, start) for column, field in TIME_PARTS.items()}
    query = select(start, *(cast(v, SmallInteger).label(k) for k, v in parts.items()))
    return Merge(t.time, merge_table(t.time), query, ("start_time",), ranged="start_time")


def _user_order() -> tuple[str, ...]:
    """`USER_ORDER` as the columns of `users` hold it."""
    return tuple(USER_SOURCE.get(name, name) for name in USER_ORDER)


def star_merges(t: Tables | None = None) -> list[Merge | Statements]:
    """The merge of every star table (and of what they keep), in the order they must run."""
    t = t or TABLES
    return [
        # a user's state only moves forward in time, whatever order batches arrive in
        # (the contract's total order of a user's events: ts, then the tie-breakers)
        dimension(t.users, latest_users(t), "user_id", newer=_user_order()),
        # the catalogue first: songs, artists and plays read it (it notes changed_songs)
        catalogue_merge(t),
        songs_merge(t),
        artists_merge(t),
        rematch(t),  # stored plays whose song arrived (before the new plays: cost follows them)
        songplays_merge(t),
        play_keys_merge(t),
        time_merge(t),
    ]


def full_refresh(t: Tables | None = None) -> list[Delete]:
    """Empty every star table (inside the load's transaction) before the merges rebuild them.

    DELETE, not TRUNCATE: on Redshift TRUNCATE commits the transaction it runs in, which would
    publish empty tables if the load failed after it.
    """
    t = t or TABLES
    return [delete(table) for table in (t.songplays, t.time, t.users, t.songs, t.artists, *t.kept)]
