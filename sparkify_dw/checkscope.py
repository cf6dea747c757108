"""Which rows the data-quality checks read: a whole warehouse, or what one load's batch names.

`sparkify-dw check` reads every row. The checks `run` ends with read only the rows the load's
batch can have written (issue 17: on a 3M-play PostgreSQL warehouse the whole checks took 13 s
after a 1-s daily load). Staging still holds that batch after the load (the next load empties
it first), so the rows are found from it:

- users: the staged userIds;
- songplays and time: the rows between the first and the last staged play (a daily batch: its
  day), and the plays naming a staged song (the plays a late-arriving song re-matched onto it);
- songs: the staged song_ids; artists: the staged songs' artist_ids.

Uniqueness is checked over every row of a key the batch names, so a duplicate the load made is
found; references (a play's user, time, song, artist; a song's artist) are looked up in the
whole dimension (time: in the batch's days, when only those plays are checked). What a batch
cannot have changed is not read again: a warehouse broken by hand between loads is `check`'s
to find. Text keys are compared as Redshift compares them (trailing blanks ignored), as the
merges compare them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

from sqlalchemy import BigInteger, Table, and_, false, func, literal, or_, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, Subquery

from sparkify_dw.models import Tables
from sparkify_dw.sql import EpochMsToTimestamp, compared
from sparkify_dw.transforms import has_user, is_play

# "warehouse": every row; "load": the rows the last load's batch names.
Scope = Literal["warehouse", "load"]
SCOPES: tuple[Scope, ...] = ("warehouse", "load")


@dataclass(frozen=True)
class Scoped(Tables):
    """The warehouse's tables; for each star table the rows the checks read in its place
    (`rows`), and for a dimension the rows the checked plays' references are looked up in
    (`lookups`: a part of the table that holds every row they can name)."""

    rows: dict[str, FromClause]
    lookups: dict[str, FromClause]


def rows(t: Tables, name: str) -> FromClause:
    """The rows of star table `name` the checks read: the table itself unless `t` is scoped.
    (A scoped table's rows are a subquery under the table's own name.)"""
    if isinstance(t, Scoped):
        return t.rows[name]
    table: Table = getattr(t, name)
    return table


def lookup(t: Tables, name: str) -> FromClause:
    """Where the checked rows' references to dimension `name` are looked up."""
    if isinstance(t, Scoped) and name in t.lookups:
        return t.lookups[name]
    table: Table = getattr(t, name)
    return table


def load_scope(t: Tables, *, songs_staged: bool, play_ts: tuple[int, int] | None) -> Scoped:
    """`t`, with each star table narrowed to the rows the batch in staging names, or more.

    `play_ts`: the smallest and largest `ts` of the staged plays (None: staging holds no
    play). The plays and start times checked are those between them: every staged play, and
    any other of those days (a superset: a check may find more, never less), read as a range
    scan of the indexes that lead with start_time on PostgreSQL (migration 0007), by zone
    maps on DuckDB and Redshift. With `songs_staged` (staging holds songs) the plays naming
    a staged song are checked too, which reads the whole fact table.
    `scope_for(connection, t)` reads both from staging.
    """
    e, s = t.staging_events, t.staging_songs
    p, time = t.songplays, t.time

    def in_batch_days(column: ColumnElement[Any]) -> ColumnElement[bool]:
        if play_ts is None:
            return false()
        low, high = (EpochMsToTimestamp(literal(ts, BigInteger)) for ts in play_ts)
        return and_(column >= low, column <= high)

    song_ids = select(compared(s.c.song_id)).where(s.c.song_id.is_not(None))
    artist_ids = select(compared(s.c.artist_id)).where(s.c.artist_id.is_not(None))
    of_the_days = select(p).where(in_batch_days(p.c.start_time))
    songplays: Subquery = of_the_days.subquery("songplays")
    # the time rows the checked plays can name: those of the batch's days, unless plays of
    # any day are checked too
    lookups: dict[str, FromClause] = {"time": _where(time, in_batch_days(time.c.start_time))}
    if songs_staged:
        # UNION ALL of disjoint parts (the second leaves out the first's days): a duplicated
        # play stays a duplicate, as unique_plays must see it
        other_days = or_(~in_batch_days(p.c.start_time), p.c.start_time.is_(None))
        songplays = union_all(
            of_the_days, select(p).where(compared(p.c.song_id).in_(song_ids), other_days)
        ).subquery("songplays")
        lookups = {}
    narrowed: dict[str, FromClause] = {
        "songplays": songplays,
        "users": _where(t.users, t.users.c.user_id.in_(select(e.c.user_id).where(*has_user(t)))),
        "time": _where(time, in_batch_days(time.c.start_time)),
        "songs": _where(t.songs, compared(t.songs.c.song_id).in_(song_ids)),
        "artists": _where(t.artists, compared(t.artists.c.artist_id).in_(artist_ids)),
    }
    whole = {f.name: getattr(t, f.name) for f in fields(Tables)}
    return Scoped(**whole, rows=narrowed, lookups=lookups)


def scope_for(connection: Connection, t: Tables) -> Scoped:
    """The load scope of what staging holds now: two small queries of staging first."""
    e = t.staging_events
    low, high = connection.execute(
        select(func.min(e.c.ts), func.max(e.c.ts)).where(is_play(t), *has_user(t))
    ).one()
    any_song = select(literal(1)).select_from(t.staging_songs).limit(1)
    return load_scope(
        t,
        songs_staged=connection.execute(any_song).first() is not None,
        play_ts=None if low is None else (int(low), int(high)),
    )


def _where(table: Table, condition: ColumnElement[bool]) -> Subquery:
    return select(table).where(condition).subquery(table.name)
