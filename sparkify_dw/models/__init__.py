"""The warehouse's tables as declarative models carrying the Redshift physical design, and
`Tables`: the one bundle of them that the loader, the merges, the checks and the reports take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table

from sparkify_dw.models.base import Base
from sparkify_dw.models.catalogue import CatalogueSong, PlayKey
from sparkify_dw.models.ledger import Load, LoadedFile
from sparkify_dw.models.load_errors import LoadErrorRecord
from sparkify_dw.models.staging import StagingEvent, StagingSong
from sparkify_dw.models.star import Artist, Song, Songplay, Time, User


@dataclass(frozen=True)
class Tables:
    """The warehouse's tables (the models' by default; a test may hand in copies)."""

    staging_events: Table
    staging_songs: Table
    songplays: Table
    users: Table
    songs: Table
    artists: Table
    time: Table
    load_errors: Table
    song_catalogue: Table
    play_keys: Table
    loaded_files: Table
    loads: Table

    @property
    def staging(self) -> tuple[Table, Table]:
        """What the COPYs fill: (staging_events, staging_songs)."""
        return (self.staging_events, self.staging_songs)

    @property
    def star(self) -> tuple[Table, ...]:
        """The fact, then the dimensions."""
        return (self.songplays, self.users, self.songs, self.artists, self.time)

    @property
    def kept(self) -> tuple[Table, ...]:
        """What the star tables need to stay right in any order of batches: every song loaded
        so far, and the song each stored play names."""
        return (self.song_catalogue, self.play_keys)

    @property
    def loaded(self) -> tuple[Table, ...]:
        """What a load writes in its transaction (and locks): staging, the star tables, what
        they keep, and the file ledger. `load_errors` and `loads` are written on connections
        of their own."""
        return (*self.staging, *self.star, *self.kept, self.loaded_files)

    @property
    def all(self) -> tuple[Table, ...]:
        return (*self.loaded, self.load_errors, self.loads)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


TABLES = Tables(
    staging_events=_table(StagingEvent),
    staging_songs=_table(StagingSong),
    songplays=_table(Songplay),
    users=_table(User),
    songs=_table(Song),
    artists=_table(Artist),
    time=_table(Time),
    load_errors=_table(LoadErrorRecord),
    song_catalogue=_table(CatalogueSong),
    play_keys=_table(PlayKey),
    loaded_files=_table(LoadedFile),
    loads=_table(Load),
)

__all__ = [
    "TABLES",
    "Artist",
    "Base",
    "CatalogueSong",
    "Load",
    "LoadErrorRecord",
    "LoadedFile",
    "PlayKey",
    "Song",
    "Songplay",
    "StagingEvent",
    "StagingSong",
    "Tables",
    "Time",
    "User",
]
