"""The warehouse's tables as declarative models carrying the Redshift physical design."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from sparkify_dw.models.base import Base
from sparkify_dw.models.load_errors import LoadErrorRecord
from sparkify_dw.models.staging import StagingEvent, StagingSong
from sparkify_dw.models.star import Artist, Song, Songplay, Time, User

STAGING_TABLES: tuple[Table, ...] = tuple(
    cast(Table, m.__table__) for m in (StagingEvent, StagingSong)
)
STAR_TABLES: tuple[Table, ...] = tuple(
    cast(Table, m.__table__) for m in (Songplay, User, Song, Artist, Time)
)

__all__ = [
    "STAGING_TABLES",
    "STAR_TABLES",
    "Artist",
    "Base",
    "LoadErrorRecord",
    "Song",
    "Songplay",
    "StagingEvent",
    "StagingSong",
    "Time",
    "User",
]
