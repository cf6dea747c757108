"""The star schema (data contract, "Star tables") and its Redshift physical design.

Design in one paragraph: `songplays` and `time` grow together (one `time` row per distinct play
timestamp), so both are distributed and sorted on `start_time`, which collocates the fact's most
common join and keeps date-range scans to few blocks. The other dimensions are small (hundreds of
users, tens of thousands of songs and artists in the full catalogue) and go DISTSTYLE ALL, so
joining them never redistributes the fact. ENCODE: AZ64 for numbers and timestamps, ZSTD for
free text; sort key columns stay RAW, as AWS advises, so zone maps stay sharp.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    DateTime,
    Double,
    Identity,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sparkify_dw.models.base import Base


class Songplay(Base):
    """Fact: exactly one row per NextSong event; unmatched songs keep NULL song/artist ids."""

    __tablename__ = "songplays"
    # KEY(start_time): collocates the join to `time` (which grows as fast as this table);
    # song_id would skew (most plays are unmatched, NULL) and user_id has only ~100 values.
    __table_args__ = (
        # A play's identity (data contract). Enforced on PostgreSQL and DuckDB; informational
        # on Redshift, where the merge alone keeps it. start_time first (PostgreSQL: migration
        # 0007): the daily merge's lookup of the batch's plays is a range scan of the index.
        UniqueConstraint("start_time", "user_id", "session_id", name="uq_songplays_play"),
        {
            "redshift_diststyle": "KEY",
            "redshift_distkey": "start_time",
            "redshift_sortkey": "start_time",  # analytics filter and group by date ranges
        },
    )

    # Surrogate key: IDENTITY(0,1) on Redshift; a sequence default elsewhere (see sql.py).
    songplay_id: Mapped[int] = mapped_column(
        BigInteger,
        Identity(start=0, increment=1, minvalue=0),
        primary_key=True,
        redshift_identity=(0, 1),  # sqlalchemy-redshift ignores sa.Identity; this renders it
        redshift_encode="az64",
    )
    start_time: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    user_id: Mapped[int] = mapped_column(Integer, nullable=False, redshift_encode="az64")
    level: Mapped[str | None] = mapped_column(String(16), redshift_encode="zstd")
    song_id: Mapped[str | None] = mapped_column(String(32), redshift_encode="zstd")
    artist_id: Mapped[str | None] = mapped_column(String(32), redshift_encode="zstd")
    session_id: Mapped[int] = mapped_column(Integer, nullable=False, redshift_encode="az64")
    location: Mapped[str | None] = mapped_column(String(512), redshift_encode="zstd")
    user_agent: Mapped[str | None] = mapped_column(String(512), redshift_encode="zstd")


class User(Base):
    """One row per non-empty userId; attributes from the user's most recent event."""

    __tablename__ = "users"
    # ALL: a few hundred rows, joined to the fact by user_id in most analytics queries.
    __table_args__ = {"redshift_diststyle": "ALL", "redshift_sortkey": "user_id"}

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    first_name: Mapped[str | None] = mapped_column(String(256), redshift_encode="zstd")
    last_name: Mapped[str | None] = mapped_column(String(256), redshift_encode="zstd")
    gender: Mapped[str | None] = mapped_column(String(16), redshift_encode="zstd")
    level: Mapped[str | None] = mapped_column(String(16), redshift_encode="zstd")
    # The ts (epoch ms) of the event the attributes come from: lets a late batch of older
    # events leave a newer state alone (data contract, "users").
    source_ts: Mapped[int] = mapped_column(BigInteger, nullable=False, redshift_encode="az64")
    # Its session_id and item_in_session: with source_ts and the attributes, the event's place
    # in the contract's total order, so a batch with an event of the same ts decides the same
    # way whichever batch came first (migration 0004; NULL on rows stored before it, and NULL
    # sorts before any value, so any event of that ts then replaces them).
    source_session_id: Mapped[int | None] = mapped_column(Integer, redshift_encode="az64")
    source_item_in_session: Mapped[int | None] = mapped_column(Integer, redshift_encode="az64")


class Song(Base):
    """One row per song_id of the catalogue; year 0 (unknown) is NULL."""

    __tablename__ = "songs"
    # ALL: the full catalogue is ~15k rows; a copy per node beats redistributing the fact.
    __table_args__ = {"redshift_diststyle": "ALL", "redshift_sortkey": "song_id"}

    song_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str | None] = mapped_column(String(512), redshift_encode="zstd")
    artist_id: Mapped[str | None] = mapped_column(String(32), redshift_encode="zstd")
    year: Mapped[int | None] = mapped_column(SmallInteger, redshift_encode="az64")
    duration: Mapped[float | None] = mapped_column(Double, redshift_encode="raw")


class Artist(Base):
    """One row per artist_id; values from the artist's smallest song_id in the latest load."""

    __tablename__ = "artists"
    # ALL: ~10k rows in the full catalogue, joined to the fact by artist_id.
    __table_args__ = {"redshift_diststyle": "ALL", "redshift_sortkey": "artist_id"}

    artist_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(512), redshift_encode="zstd")
    location: Mapped[str | None] = mapped_column(String(512), redshift_encode="zstd")
    latitude: Mapped[float | None] = mapped_column(Double, redshift_encode="raw")
    longitude: Mapped[float | None] = mapped_column(Double, redshift_encode="raw")


class Time(Base):
    """One row per distinct songplays.start_time, its parts computed in UTC."""

    __tablename__ = "time"
    # KEY(start_time) like songplays: the join fact → time stays node-local.
    __table_args__ = {
        "redshift_diststyle": "KEY",
        "redshift_distkey": "start_time",
        "redshift_sortkey": "start_time",
    }

    start_time: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    hour: Mapped[int] = mapped_column(SmallInteger, nullable=False, redshift_encode="az64")
    day: Mapped[int] = mapped_column(SmallInteger, nullable=False, redshift_encode="az64")
    week: Mapped[int] = mapped_column(SmallInteger, nullable=False, redshift_encode="az64")
    month: Mapped[int] = mapped_column(SmallInteger, nullable=False, redshift_encode="az64")
    year: Mapped[int] = mapped_column(SmallInteger, nullable=False, redshift_encode="az64")
    weekday: Mapped[int] = mapped_column(SmallInteger, nullable=False, redshift_encode="az64")
