"""The warehouse's tables as declarative models carrying the Redshift physical design."""

from __future__ import annotations

from sparkify_dw.models.base import Base
from sparkify_dw.models.staging import StagingEvent, StagingSong
from sparkify_dw.models.star import Artist, Song, Songplay, Time, User

STAGING_TABLES = (StagingEvent.__table__, StagingSong.__table__)
STAR_TABLES = (
    Songplay.__table__,
    User.__table__,
    Song.__table__,
    Artist.__table__,
    Time.__table__,
)

__all__ = [
    "STAGING_TABLES",
    "STAR_TABLES",
    "Artist",
    "Base",
    "Song",
    "Songplay",
    "StagingEvent",
    "StagingSong",
    "Time",
    "User",
]
