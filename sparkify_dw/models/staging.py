"""Staging tables: a faithful copy of the source files (data contract, "Staging").

Column order is the COPY order: JSONPaths order for events, the song files' keys for songs.
VARCHAR sizes are bytes on Redshift and leave room over the longest real value, so good source
data never fails to load. Each column the star layer casts is typed as the star needs it
(user_id INTEGER, session_id NOT NULL, year SMALLINT: migration 0003), so a value the star
could not cast is a COPY reject with its file and line, on every engine and on Redshift by its
own COPY, never a failed merge. No keys are enforced: the mapper's primary key is for the ORM.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Double, Integer, SmallInteger, String
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
    # NOT NULL: a play is identified by (user_id, session_id, start_time), and every event of
    # the app carries one; Redshift's COPY checks a column, not a column per page.
    session_id: Mapped[int] = mapped_column(Integer, nullable=False)
    song: Mapped[str | None] = mapped_column(String(512))
    status: Mapped[int | None] = mapped_column(Integer)
    # Epoch milliseconds, converted in the star; NOT NULL so an event without one is a load
    # error (1213) instead of a user or play that silently goes missing later.
    ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
    user_agent: Mapped[str | None] = mapped_column(String(512))
    # A number: "" (a logged-out event) loads as NULL, as Redshift loads an empty string into a
    # number; "abc" or "1e3" is a reject (1207), not a merge that fails on the cast.
    user_id: Mapped[int | None] = mapped_column(Integer)

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
    year: Mapped[int | None] = mapped_column(SmallInteger)  # as songs.year: 99999 is a reject

    __mapper_args__ = {"primary_key": [song_id]}
