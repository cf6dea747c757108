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

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Delete,
    Insert,
    MetaData,
    Select,
    SmallInteger,
    Subquery,
    Table,
    and_,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.schema import CreateTable, DropTable
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement

from sparkify_dw.models import TABLES, Tables
from sparkify_dw.sql import (
    Analyze,
    EpochMsToTimestamp,
    compared,
    empty_as_null,
    same,
    time_part,
)
from sparkify_dw.timeparts import TIME_PARTS

NEXT_SONG = "NextSong"


def _first_per(
    partition: list[Any],
    order: list[Any],
    columns: list[Any],
    source: Any,
    where: list[ColumnElement[bool]],
    name: str,
) -> Subquery:
    """`columns` of the first row per `partition` in `order` (ROW_NUMBER() = 1)."""
    keys = [compared(key) for key in partition]  # text keys as Redshift compares them
    rank = func.row_number().over(partition_by=keys, order_by=order).label("rank_")
    ranked = select(*columns, rank).select_from(source).where(*where).subquery(f"{name}_ranked")
    return select(*(ranked.c[c.key] for c in columns)).where(ranked.c.rank_ == 1).subquery(name)


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
    return _first_per(
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
            empty_as_null(s.artist_location).label("location"),  # "" or blanks only: NULL
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
    user_id = e.user_id
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
        where=[is_play(t), *has_user(t)],
        name="staged_plays",
    )


# The merge: Redshift's documented pattern for tables without enforced keys -----------------


@dataclass(frozen=True)
class Merge:
    """How one star table takes in what staging holds, as Redshift documents a merge.

    1. `CREATE TEMPORARY TABLE merge_<t>` with the target's columns (not its surrogate key);
    2. fill it with the staged rows, one per key (ROW_NUMBER() = 1): the deduplication;
    3. `DELETE FROM <t> USING merge_<t>`: the rows a staged one replaces (`replaces`; only the
       dimensions have such rows) — its row count is what the load *changed*;
    4. `DELETE FROM merge_<t> USING <t>`: staged rows the table already holds as they are, or in
       a newer state;
    5. `INSERT INTO <t> SELECT … FROM merge_<t>`: new rows, and the new state of replaced ones;
    6. `DROP TABLE merge_<t>`.
    The loader runs them in the load's one transaction, so a failure anywhere changes nothing.
    """

    table: Table
    stage: Table
    source: Select[Any]
    key: tuple[str, ...]
    # When a staged row replaces the table's row with the same key (None: never)
    replaces: ColumnElement[bool] | None = None

    @property
    def name(self) -> str:
        return self.table.name

    def _same_key(self) -> ColumnElement[bool]:
        return and_(*(same(self.table.c[k], self.stage.c[k]) for k in self.key))

    def create(self) -> CreateTable:
        return CreateTable(self.stage)

    def fill(self) -> Insert:
        return insert(self.stage).from_select([c.name for c in self.stage.columns], self.source)

    def analyze(self) -> Analyze:
        return Analyze(self.stage)

    def replace(self) -> Delete | None:
        if self.replaces is None:
            return None
        return delete(self.table).where(self._same_key(), self.replaces)

    def drop_known(self) -> Delete:
        return delete(self.stage).where(self._same_key())

    def insert(self) -> Insert:
        columns = [c.name for c in self.stage.columns]
        return insert(self.table).from_select(columns, select(*self.stage.columns))

    def drop(self) -> DropTable:
        return DropTable(self.stage)

    def steps(self) -> list[tuple[str, Executable]]:
        """Every statement, named and in order: the loader runs them, the `sql` script prints
        them (the loader counts the rows of `replace` and `insert`)."""
        replace = self.replace()
        return [
            ("create", self.create()),
            ("fill", self.fill()),
            ("analyze", self.analyze()),
            *([("replace", replace)] if replace is not None else []),
            ("drop_known", self.drop_known()),
            ("insert", self.insert()),
            ("drop", self.drop()),
        ]

    def statements(self) -> list[Executable]:
        """Every statement, in order."""
        return [statement for _, statement in self.steps()]


def merge_table(target: Table, skip: tuple[str, ...] = ()) -> Table:
    """`merge_<target>`: a temporary table with the target's columns, less `skip`.

    On Redshift it takes the target's distribution key, so the merge's joins stay node-local.
    """
    options = target.dialect_options["redshift"]
    distkey = options.get("distkey") if options.get("diststyle") == "KEY" else None
    return Table(
        f"merge_{target.name}",
        MetaData(),  # never part of the models' metadata: Alembic must not see it
        *(Column(c.name, c.type) for c in target.columns if c.name not in skip),
        prefixes=["TEMPORARY"],
        **({"redshift_distkey": distkey} if distkey else {}),
    )


def _differs(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[bool]:
    """`a IS DISTINCT FROM b`, spelled so Redshift (which lacks it) parses it too; text that
    differs only in trailing blanks does not differ."""
    return or_(~same(a, b), and_(a.is_(None), b.is_not(None)), and_(a.is_not(None), b.is_(None)))


def _after(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[bool]:
    """`a` comes after `b`, NULL before any value (so never after another NULL); text compared
    as Redshift compares it. Only ever used un-negated: an unknown (NULL) result is "not after"."""
    return or_(compared(a) > compared(b), and_(a.is_not(None), b.is_(None)))


def _ties(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[bool]:
    """`a` and `b` hold the same place in the order: equal (as text compares) or both NULL."""
    return or_(same(a, b), and_(a.is_(None), b.is_(None)))


def _later(pairs: list[tuple[ColumnElement[Any], ColumnElement[Any]]]) -> ColumnElement[bool]:
    """(a1, a2, …) comes after (b1, b2, …) in lexicographic order, null-safe without
    IS DISTINCT FROM (Redshift lacks it): a1 after b1, or a tie on a1 and the rest after."""
    (a, b), rest = pairs[0], pairs[1:]
    if not rest:
        return _after(a, b)
    return or_(_after(a, b), and_(_ties(a, b), _later(rest)))


def _dimension(
    target: Table, source: Subquery, key: str, newer: tuple[str, ...] | None = None
) -> Merge:
    """A dimension: a staged row replaces the stored one when it comes later in the order of
    the `newer` columns (compared in turn, NULL first) or, without them, when any value differs
    (the newest catalogue load wins)."""
    stage = merge_table(target)
    if newer is not None:
        replaces = _later([(stage.c[c], target.c[c]) for c in newer])
    else:
        replaces = or_(
            *(_differs(target.c[c.name], stage.c[c.name]) for c in stage.columns if c.name != key)
        )
    columns = [c.name for c in stage.columns]
    return Merge(target, stage, select(*(source.c[c] for c in columns)), (key,), replaces)


def songplays_merge(t: Tables) -> Merge:
    """Every staged play once; a play already stored is never added again nor changed."""
    plays, matches = staged_plays(t), song_matches(t)
    match = and_(
        same(matches.c.title, plays.c.song),
        same(matches.c.artist_name, plays.c.artist),
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
    return Merge(t.songplays, stage, query, ("user_id", "session_id", "start_time"))


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
    return Merge(t.time, merge_table(t.time), query, ("start_time",))


def _user_order() -> tuple[str, ...]:
    """`USER_ORDER` as the columns of `users` hold it."""
    return tuple(USER_SOURCE.get(name, name) for name in USER_ORDER)


def star_merges(t: Tables | None = None) -> list[Merge]:
    """The merge of every star table, in the order they must run."""
    t = t or TABLES
    return [
        # a user's state only moves forward in time, whatever order batches arrive in
        # (the contract's total order of a user's events: ts, then the tie-breakers)
        _dimension(t.users, latest_users(t), "user_id", newer=_user_order()),
        _dimension(t.songs, catalogue_songs(t), "song_id"),
        _dimension(t.artists, catalogue_artists(t), "artist_id"),
        songplays_merge(t),
        time_merge(t),
    ]


def full_refresh(t: Tables | None = None) -> list[Delete]:
    """Empty every star table (inside the load's transaction) before the merges rebuild them.

    DELETE, not TRUNCATE: on Redshift TRUNCATE commits the transaction it runs in, which would
    publish empty tables if the load failed after it.
    """
    t = t or TABLES
    return [delete(table) for table in (t.songplays, t.time, t.users, t.songs, t.artists)]
