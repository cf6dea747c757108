"""Staging tables: a faithful, loosely typed copy of the source files (data contract, "Staging").

Column order is the COPY order: JSONPaths order for events, the song files' keys for songs.
VARCHAR sizes are bytes on Redshift and leave room over the longest real value, so good source
data never fails to load. No keys are enforced: the mapper's primary key is for the ORM only.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Double, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sparkify_dw.models.base import Base


class StagingEvent(Base):
    """One row per event line of `log_data`, every page kind kept."""

    __tablename__ = "staging_events"
    # EVEN: loaded in parallel from many files and scanned once per load; no join benefits
    # from a key here (the song match is on title/artist/length, too skewed to distribute on).
    __table_args__ = {"redshift_diststyle": "EVEN"}

    artist: Mapped[str | None] = mapped_column(String(512))
    auth: Mapped[str | None] = mapped_column(String(32))
    first_name: Mapped[str | None] = mapped_column(String(256))
    gender: Mapped[str | None] = mapped_column(String(16))
    item_in_session: Mapped[int | None] = mapped_column(Integer)
    last_name: Mapped[str | None] = mapped_column(String(256))
    length: Mapped[float | None] = mapped_column(Double)
    level: Mapped[str | None] = mapped_column(String(16))
    location: Mapped[str | None] = mapped_column(String(512))
    method: Mapped[str | None] = mapped_column(String(16))
    page: Mapped[str | None] = mapped_column(String(64))
    registration: Mapped[float | None] = mapped_column(Double)
    session_id: Mapped[int | None] = mapped_column(Integer)
    song: Mapped[str | None] = mapped_column(String(512))
    status: Mapped[int | None] = mapped_column(Integer)
    # Epoch milliseconds, converted in the star; NOT NULL so an event without one is a load
    # error (1213) instead of a user or play that silently goes missing later.
    ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
    user_agent: Mapped[str | None] = mapped_column(String(512))
    user_id: Mapped[str | None] = mapped_column(String(32))  # text: "" for logged-out events

    __mapper_args__ = {"primary_key": [session_id, item_in_session, ts]}


class StagingSong(Base):
    """One row per song object of `song_data`."""

    __tablename__ = "staging_songs"
    # EVEN: ~15k rows per full catalogue load, read once by the transforms.
    __table_args__ = {"redshift_diststyle": "EVEN"}

    num_songs: Mapped[int | None] = mapped_column(Integer)
    artist_id: Mapped[str | None] = mapped_column(String(32))
    artist_latitude: Mapped[float | None] = mapped_column(Double)
    artist_longitude: Mapped[float | None] = mapped_column(Double)
    artist_location: Mapped[str | None] = mapped_column(String(512))
    artist_name: Mapped[str | None] = mapped_column(String(512))  # a JSON number loads as text
    song_id: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(512))
    duration: Mapped[float | None] = mapped_column(Double)
    year: Mapped[int | None] = mapped_column(Integer)

    __mapper_args__ = {"primary_key": [song_id]}
