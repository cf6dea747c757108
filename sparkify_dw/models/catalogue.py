"""What the star tables need to stay right whatever order the batches arrive in (data contract,
"Every order gives the same warehouse"): the whole song catalogue loaded so far, and what each
stored play names.

`song_catalogue` keeps every song a load brought, as last delivered, with the columns `songs`
drops (the song's own `artist_name`, location, coordinates): a play is matched on the song's
`title`, `artist_name` and `duration`, and an artist's values come from its smallest `song_id`
among *every* song loaded so far. `play_keys` keeps, per stored play, the song title, artist
name and length the event gave (as compared: trailing blanks trimmed on engines that do not
ignore them), so that a catalogue batch arriving later re-matches only the plays it can change.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Double, Integer, PrimaryKeyConstraint, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from sparkify_dw.models.base import Base


class CatalogueSong(Base):
    """One row per song_id loaded so far: the staged song, as its latest delivery had it."""

    __tablename__ = "song_catalogue"
    # ALL, like `songs`: a copy per node, joined to the plays by title/artist/duration.
    __table_args__ = {"redshift_diststyle": "ALL", "redshift_sortkey": "song_id"}

    song_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str | None] = mapped_column(String(512), redshift_encode="zstd")
    artist_id: Mapped[str | None] = mapped_column(String(32), redshift_encode="zstd")
    artist_name: Mapped[str | None] = mapped_column(String(512), redshift_encode="zstd")
    artist_location: Mapped[str | None] = mapped_column(String(512), redshift_encode="zstd")
    artist_latitude: Mapped[float | None] = mapped_column(Double, redshift_encode="raw")
    artist_longitude: Mapped[float | None] = mapped_column(Double, redshift_encode="raw")
    year: Mapped[int | None] = mapped_column(SmallInteger, redshift_encode="az64")
    duration: Mapped[float | None] = mapped_column(Double, redshift_encode="raw")


class PlayKey(Base):
    """One row per stored play (songplays' identity): the song it names, as compared."""

    __tablename__ = "play_keys"
    # KEY(start_time), like songplays: the re-match's UPDATE joins on the play's identity
    # node-locally.
    __table_args__ = (
        # start_time first, as songplays' unique index (PostgreSQL: migration 0007)
        PrimaryKeyConstraint("start_time", "user_id", "session_id", name="pk_play_keys"),
        {
            "redshift_diststyle": "KEY",
            "redshift_distkey": "start_time",
            "redshift_sortkey": "start_time",
        },
    )

    # The play's identity is the key: enforced on PostgreSQL and DuckDB, informational on
    # Redshift.
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    session_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    start_time: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    song: Mapped[str | None] = mapped_column(String(512), redshift_encode="zstd")
    artist: Mapped[str | None] = mapped_column(String(512), redshift_encode="zstd")
    length: Mapped[float | None] = mapped_column(Double, redshift_encode="raw")
