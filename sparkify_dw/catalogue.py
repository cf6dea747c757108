"""The song side of a load: the catalogue of every song loaded so far, and what follows from it.

Data contract: a play takes the smallest song_id whose title, artist_name and duration match,
among every song loaded so far (a play loaded before its song is matched when the song
arrives); an artist's values come from its smallest song_id among every song loaded so far; a
song_id delivered again with other content replaces what it brought. So the merges read
`song_catalogue` (every song, as last delivered), never the staged songs alone, and a catalogue
batch re-matches the stored plays whose song it can change: those naming a title/artist/length
of a song the batch brings, in its new or its old version (`changed_songs`, a temporary table
the catalogue merge fills). Every step's cost follows the batch: the songs it brings, and the
plays naming them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import (
    Column,
    Double,
    MetaData,
    Select,
    String,
    Subquery,
    Table,
    and_,
    func,
    insert,
    select,
    union_all,
    update,
)
from sqlalchemy.schema import CreateTable, DropTable
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement

from sparkify_dw.merge import (
    Merge,
    Statements,
    differs,
    dimension,
    first_per,
    merge_table,
)
from sparkify_dw.models import Tables
from sparkify_dw.sql import Analyze, compared, empty_as_null, same

CATALOGUE_COLUMNS = (
    "song_id",
    "title",
    "artist_id",
    "artist_name",
    "artist_location",
    "artist_latitude",
    "artist_longitude",
    "year",
    "duration",
)

# The songs a batch brings, in their new and their stored versions: title and artist name as
# compared (trailing blanks trimmed where the engine does not ignore them).
CHANGED_SONGS = Table(
    "changed_songs",
    MetaData(),  # never part of the models' metadata: Alembic must not see it
    Column("song_id", String(32)),
    Column("title", String(512)),
    Column("artist_name", String(512)),
    Column("duration", Double),
    Column("artist_id", String(32)),
    prefixes=["TEMPORARY"],
)


def staged_catalogue(t: Tables) -> Subquery:
    """One staged row per song_id (a batch holding a song_id twice: the first in the order of
    all its values, so the choice never depends on file order), year 0 (unknown) as NULL."""
    s = t.staging_songs.c
    columns = [
        s.song_id,
        s.title,
        s.artist_id,
        s.artist_name,
        s.artist_location,
        s.artist_latitude,
        s.artist_longitude,
        func.nullif(s.year, 0).label("year"),
        s.duration,
    ]
    order = [compared(s[c]).asc().nulls_first() for c in CATALOGUE_COLUMNS if c != "song_id"]
    return first_per(
        partition=[s.song_id],
        order=order,
        columns=columns,
        source=t.staging_songs,
        where=[s.song_id.is_not(None)],
        name="staged_catalogue",
    )


def _changed_song(table: Table) -> Select[Any]:
    """A catalogue row of `table` as `changed_songs` holds it (title and artist as compared)."""
    c = table.c
    return select(c.song_id, compared(c.title), compared(c.artist_name), c.duration, c.artist_id)


def _note_changed_songs(t: Tables, stage: Table) -> tuple[tuple[str, Executable], ...]:
    """Fill `changed_songs`: each staged song, and the stored version of each it replaces."""
    stored = t.song_catalogue
    brought = _changed_song(stage)
    replaced = _changed_song(stored).select_from(
        stored.join(stage, same(stored.c.song_id, stage.c.song_id))
    )
    columns = [c.name for c in CHANGED_SONGS.columns]
    return (
        ("create_changed_songs", CreateTable(CHANGED_SONGS)),
        (
            "fill_changed_songs",
            insert(CHANGED_SONGS).from_select(columns, union_all(brought, replaced)),
        ),
        ("analyze_changed_songs", Analyze(CHANGED_SONGS)),
    )


def catalogue_merge(t: Tables) -> Merge:
    """Every staged song into the catalogue; a song_id delivered again with other content
    replaces the stored one (the later delivery wins)."""
    merge = dimension(t.song_catalogue, staged_catalogue(t), "song_id")
    return replace(merge, before_replace=_note_changed_songs(t, merge.stage))


def _changed_keys() -> Subquery:
    """Each (title, artist_name, duration) of `changed_songs` once: the keys a play names."""
    c = CHANGED_SONGS.c
    return select(c.title, c.artist_name, c.duration).distinct().subquery("changed_keys")


def _brought(column: str) -> Select[tuple[str]]:
    return select(CHANGED_SONGS.c[column]).where(CHANGED_SONGS.c[column].is_not(None))


def songs_merge(t: Tables) -> Merge:
    """`songs`: the catalogue's rows of the songs this batch brought."""
    c = t.song_catalogue.c
    source = (
        select(c.song_id, c.title, c.artist_id, c.year, c.duration)
        .where(c.song_id.in_(_brought("song_id")))
        .subquery("brought_songs")
    )
    return dimension(t.songs, source, "song_id")


def artists_merge(t: Tables) -> Merge:
    """`artists`: each artist whose songs the batch changed, from its song with the smallest
    song_id in the whole catalogue."""
    c = t.song_catalogue.c
    source = first_per(
        partition=[c.artist_id],
        order=[c.song_id],
        columns=[
            c.artist_id,
            c.artist_name.label("name"),
            empty_as_null(c.artist_location).label("location"),  # "" or blanks only: NULL
            c.artist_latitude.label("latitude"),
            c.artist_longitude.label("longitude"),
        ],
        source=t.song_catalogue,
        where=[c.artist_id.in_(_brought("artist_id"))],
        name="catalogue_artists",
    )
    return dimension(t.artists, source, "artist_id")


def song_matches(t: Tables, only_changed: bool = False) -> Subquery:
    """Per (title, artist_name, duration) of the catalogue, as compared, its smallest song_id;
    `only_changed`: only the keys of songs the batch brought (new or old version)."""
    c = t.song_catalogue.c
    where: list[ColumnElement[bool]] = [c.song_id.is_not(None)]
    source: object = t.song_catalogue
    if only_changed:
        keys = _changed_keys()
        source = t.song_catalogue.join(
            keys,
            and_(
                compared(c.title) == keys.c.title,
                compared(c.artist_name) == keys.c.artist_name,
                c.duration == keys.c.duration,
            ),
        )
    return first_per(
        partition=[c.title, c.artist_name, c.duration],
        order=[c.song_id],
        columns=[
            c.song_id,
            c.artist_id,
            compared(c.title).label("title"),
            compared(c.artist_name).label("artist_name"),
            c.duration,
        ],
        source=source,
        where=where,
        name="song_matches",
    )


REMATCH = "rematch_songplays"


def rematch(t: Tables) -> Statements:
    """The stored plays naming a song the batch brought (new or old version), matched again
    against the whole catalogue; a play whose song or artist changes is updated."""
    plays, keys = t.songplays, t.play_keys
    others = tuple(c.name for c in plays.columns if c.name not in _REMATCHED)
    stage = merge_table(plays, skip=others, name=REMATCH)
    matches = song_matches(t, only_changed=True)
    changed = _changed_keys()
    k = keys.c
    named = and_(
        k.song == changed.c.title, k.artist == changed.c.artist_name, k.length == changed.c.duration
    )
    matched = and_(
        matches.c.title == k.song,
        matches.c.artist_name == k.artist,
        matches.c.duration == k.length,
    )
    fill = insert(stage).from_select(
        list(_REMATCHED),
        select(
            k.user_id, k.session_id, k.start_time, matches.c.song_id, matches.c.artist_id
        ).select_from(keys.join(changed, named).outerjoin(matches, matched)),
    )
    r = stage.c
    change = (
        update(plays)
        .where(
            plays.c.user_id == r.user_id,
            plays.c.session_id == r.session_id,
            plays.c.start_time == r.start_time,
            differs(plays.c.song_id, r.song_id) | differs(plays.c.artist_id, r.artist_id),
        )
        .values(song_id=r.song_id, artist_id=r.artist_id)
    )
    return Statements(
        "songplays: songs that arrived",
        plays,
        (
            ("create", CreateTable(stage)),
            ("fill", fill),
            ("analyze", Analyze(stage)),
            ("update", change),
            ("drop", DropTable(stage)),
            ("drop_changed_songs", DropTable(CHANGED_SONGS)),
        ),
    )


_REMATCHED = ("user_id", "session_id", "start_time", "song_id", "artist_id")
