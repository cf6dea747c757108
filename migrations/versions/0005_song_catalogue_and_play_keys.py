"""song_catalogue and play_keys: late-arriving songs, and artists from every song loaded.

The data contract now says that any split of the files into batches, in any order, gives the
same star tables as one load: a play loaded before its song is matched when the song arrives,
and an artist's values come from its smallest song_id among every song loaded so far. The
merges so far saw only the staged catalogue. `song_catalogue` keeps every song loaded (as last
delivered, with the song's own artist name and location), and `play_keys` the song title,
artist name and length each stored play names, so a later catalogue batch re-matches exactly
the plays it can change.

Warehouses loaded before this revision: the catalogue is rebuilt from `songs` and `artists`
(a song's artist name and location are then its artist's), and the keys of plays that had a
song from that song. Plays stored without a song have no keys: a later song does not match
them (`--full-refresh` over all the files does).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ZSTD = {"redshift_encode": "zstd"}
RAW = {"redshift_encode": "raw"}


def upgrade() -> None:
    catalogue = op.create_table(
        "song_catalogue",
        sa.Column("song_id", sa.String(32), primary_key=True),
        sa.Column("title", sa.String(512), **ZSTD),
        sa.Column("artist_id", sa.String(32), **ZSTD),
        sa.Column("artist_name", sa.String(512), **ZSTD),
        sa.Column("artist_location", sa.String(512), **ZSTD),
        sa.Column("artist_latitude", sa.Double, **RAW),
        sa.Column("artist_longitude", sa.Double, **RAW),
        sa.Column("year", sa.SmallInteger, redshift_encode="az64"),
        sa.Column("duration", sa.Double, **RAW),
        redshift_diststyle="ALL",
        redshift_sortkey="song_id",
    )
    keys = op.create_table(
        "play_keys",
        sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("session_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("start_time", sa.DateTime, primary_key=True),
        sa.Column("song", sa.String(512), **ZSTD),
        sa.Column("artist", sa.String(512), **ZSTD),
        sa.Column("length", sa.Double, **RAW),
        redshift_diststyle="KEY",
        redshift_distkey="start_time",
        redshift_sortkey="start_time",
    )
    assert catalogue is not None
    assert keys is not None
    songs = sa.table(
        "songs",
        sa.column("song_id"),
        sa.column("title"),
        sa.column("artist_id"),
        sa.column("year"),
        sa.column("duration"),
    )
    artists = sa.table(
        "artists",
        sa.column("artist_id"),
        sa.column("name"),
        sa.column("location"),
        sa.column("latitude"),
        sa.column("longitude"),
    )
    plays = sa.table(
        "songplays",
        sa.column("user_id"),
        sa.column("session_id"),
        sa.column("start_time"),
        sa.column("song_id"),
    )
    op.execute(
        catalogue.insert().from_select(
            [
                "song_id",
                "title",
                "artist_id",
                "artist_name",
                "artist_location",
                "artist_latitude",
                "artist_longitude",
                "year",
                "duration",
            ],
            sa.select(
                songs.c.song_id,
                songs.c.title,
                songs.c.artist_id,
                artists.c.name,
                artists.c.location,
                artists.c.latitude,
                artists.c.longitude,
                songs.c.year,
                songs.c.duration,
            ).select_from(songs.outerjoin(artists, artists.c.artist_id == songs.c.artist_id)),
        )
    )

    def trimmed(text: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
        # as the library compares text (trailing blanks insignificant); RTRIM(x, ' ') is the
        # same function on the three engines
        return sa.func.rtrim(text, " ")

    op.execute(
        keys.insert().from_select(
            ["user_id", "session_id", "start_time", "song", "artist", "length"],
            sa.select(
                plays.c.user_id,
                plays.c.session_id,
                plays.c.start_time,
                trimmed(catalogue.c.title).label("song"),
                trimmed(catalogue.c.artist_name).label("artist"),
                catalogue.c.duration,
            ).select_from(plays.join(catalogue, catalogue.c.song_id == plays.c.song_id)),
        )
    )


def downgrade() -> None:
    op.drop_table("play_keys")
    op.drop_table("song_catalogue")
