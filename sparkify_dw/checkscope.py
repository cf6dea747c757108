"""Which rows the data-quality checks read: a whole warehouse, or what one load's batch names.

`sparkify-dw check` reads every row. The checks `run` ends with read only the rows the load's
batch can have written (issue 17: on a 3M-play PostgreSQL warehouse the whole checks took 13 s
after a 1-s daily load). Staging still holds that batch after the load (the next load empties
it first), so the rows are found from it:

- users: the staged userIds; time: the start times of the staged plays;
- songplays: the staged plays (their identity), and the plays naming a staged song (the plays a
  late-arriving song re-matched onto it);
- songs: the staged song_ids; artists: the staged songs' artist_ids.

Uniqueness is checked over every row of a key the batch names, so a duplicate the load made is
found; references (a play's user, time, song, artist; a song's artist) are looked up in the
whole dimension. What a batch cannot have changed is not read again: a warehouse broken by hand
between loads is `check`'s to find. Text keys are compared as Redshift compares them (trailing
blanks ignored), as the merges compare them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

from sqlalchemy import Table, and_, exists, select, union_all
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
    """The warehouse's tables, and for each star table the rows the checks read in its place."""

    rows: dict[str, FromClause]


def rows(t: Tables, name: str) -> FromClause:
    """The rows of star table `name` the checks read: the table itself unless `t` is scoped.
    (A scoped table's rows are a subquery under the table's own name.)"""
    if isinstance(t, Scoped):
        return t.rows[name]
    table: Table = getattr(t, name)
    return table


def load_scope(t: Tables) -> Scoped:
    """`t`, with each star table narrowed to the rows the batch in staging names."""
    e, s = t.staging_events, t.staging_songs
    plays = (
        select(e.c.user_id, e.c.session_id, EpochMsToTimestamp(e.c.ts).label("start_time"))
        .where(is_play(t), *has_user(t))
        .distinct()
        .subquery("scope_plays")
    )
    p = t.songplays
    same_play = exists(plays).where(
        and_(
            p.c.user_id == plays.c.user_id,
            p.c.session_id == plays.c.session_id,
            p.c.start_time == plays.c.start_time,
        )
    )
    song_ids = select(compared(s.c.song_id)).where(s.c.song_id.is_not(None))
    artist_ids = select(compared(s.c.artist_id)).where(s.c.artist_id.is_not(None))
    # UNION ALL of disjoint parts (the second leaves out the staged plays): a duplicated play
    # stays a duplicate, as unique_plays must see it
    songplays = union_all(
        select(p).where(same_play),
        select(p).where(compared(p.c.song_id).in_(song_ids), ~same_play),
    ).subquery("songplays")
    narrowed: dict[str, Subquery] = {
        "songplays": songplays,
        "users": _where(t.users, t.users.c.user_id.in_(select(e.c.user_id).where(*has_user(t)))),
        "time": _where(t.time, t.time.c.start_time.in_(select(plays.c.start_time))),
        "songs": _where(t.songs, compared(t.songs.c.song_id).in_(song_ids)),
        "artists": _where(t.artists, compared(t.artists.c.artist_id).in_(artist_ids)),
    }
    whole = {f.name: getattr(t, f.name) for f in fields(Tables)}
    return Scoped(**whole, rows=dict(narrowed))


def _where(table: Table, condition: ColumnElement[bool]) -> Subquery:
    return select(table).where(condition).subquery(table.name)
