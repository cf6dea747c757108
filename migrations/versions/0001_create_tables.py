"""Create the staging tables and the star schema.

The Redshift physical design (DISTSTYLE, DISTKEY, SORTKEY, IDENTITY, ENCODE) is written here as
`redshift_*` options, the same as on the models (`sparkify_dw/models/`), where each choice is
explained. Other engines ignore them. Autogenerate does not compare them: a change to them needs a
hand-written migration.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AZ64 = {"redshift_encode": "az64"}
ZSTD = {"redshift_encode": "zstd"}
RAW = {"redshift_encode": "raw"}


def upgrade() -> None:
    op.create_table(
        "staging_events",
        sa.Column("artist", sa.String(512)),
        sa.Column("auth", sa.String(32)),
        sa.Column("first_name", sa.String(256)),
        sa.Column("gender", sa.String(16)),
        sa.Column("item_in_session", sa.Integer),
        sa.Column("last_name", sa.String(256)),
        sa.Column("length", sa.Double),
        sa.Column("level", sa.String(16)),
        sa.Column("location", sa.String(512)),
        sa.Column("method", sa.String(16)),
        sa.Column("page", sa.String(64)),
        sa.Column("registration", sa.Double),
        sa.Column("session_id", sa.Integer),
        sa.Column("song", sa.String(512)),
        sa.Column("status", sa.Integer),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("user_agent", sa.String(512)),
        sa.Column("user_id", sa.String(32)),
        redshift_diststyle="EVEN",
    )
    op.create_table(
        "staging_songs",
        sa.Column("num_songs", sa.Integer),
        sa.Column("artist_id", sa.String(32)),
        sa.Column("artist_latitude", sa.Double),
        sa.Column("artist_longitude", sa.Double),
        sa.Column("artist_location", sa.String(512)),
        sa.Column("artist_name", sa.String(512)),
        sa.Column("song_id", sa.String(32)),
        sa.Column("title", sa.String(512)),
        sa.Column("duration", sa.Double),
        sa.Column("year", sa.Integer),
        redshift_diststyle="EVEN",
    )
    op.create_table(
        "songplays",
        sa.Column(
            "songplay_id",
            sa.BigInteger,
            sa.Identity(start=0, increment=1, minvalue=0),
            nullable=False,
            redshift_identity=(0, 1),
            **AZ64,
        ),
        sa.Column("start_time", sa.DateTime, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False, **AZ64),
        sa.Column("level", sa.String(16), **ZSTD),
        sa.Column("song_id", sa.String(32), **ZSTD),
        sa.Column("artist_id", sa.String(32), **ZSTD),
        sa.Column("session_id", sa.Integer, nullable=False, **AZ64),
        sa.Column("location", sa.String(512), **ZSTD),
        sa.Column("user_agent", sa.String(512), **ZSTD),
        sa.PrimaryKeyConstraint("songplay_id", name=op.f("pk_songplays")),
        sa.UniqueConstraint("user_id", "session_id", "start_time", name="uq_songplays_play"),
        redshift_diststyle="KEY",
        redshift_distkey="start_time",
        redshift_sortkey="start_time",
    )
    op.create_table(
        "users",
        sa.Column("user_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("first_name", sa.String(256), **ZSTD),
        sa.Column("last_name", sa.String(256), **ZSTD),
        sa.Column("gender", sa.String(16), **ZSTD),
        sa.Column("level", sa.String(16), **ZSTD),
        sa.Column("source_ts", sa.BigInteger, nullable=False, **AZ64),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
        redshift_diststyle="ALL",
        redshift_sortkey="user_id",
    )
    op.create_table(
        "songs",
        sa.Column("song_id", sa.String(32), nullable=False),
        sa.Column("title", sa.String(512), **ZSTD),
        sa.Column("artist_id", sa.String(32), **ZSTD),
        sa.Column("year", sa.SmallInteger, **AZ64),
        sa.Column("duration", sa.Double, **RAW),
        sa.PrimaryKeyConstraint("song_id", name=op.f("pk_songs")),
        redshift_diststyle="ALL",
        redshift_sortkey="song_id",
    )
    op.create_table(
        "artists",
        sa.Column("artist_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(512), **ZSTD),
        sa.Column("location", sa.String(512), **ZSTD),
        sa.Column("latitude", sa.Double, **RAW),
        sa.Column("longitude", sa.Double, **RAW),
        sa.PrimaryKeyConstraint("artist_id", name=op.f("pk_artists")),
        redshift_diststyle="ALL",
        redshift_sortkey="artist_id",
    )
    op.create_table(
        "time",
        sa.Column("start_time", sa.DateTime, nullable=False),
        sa.Column("hour", sa.SmallInteger, nullable=False, **AZ64),
        sa.Column("day", sa.SmallInteger, nullable=False, **AZ64),
        sa.Column("week", sa.SmallInteger, nullable=False, **AZ64),
        sa.Column("month", sa.SmallInteger, nullable=False, **AZ64),
        sa.Column("year", sa.SmallInteger, nullable=False, **AZ64),
        sa.Column("weekday", sa.SmallInteger, nullable=False, **AZ64),
        sa.PrimaryKeyConstraint("start_time", name=op.f("pk_time")),
        redshift_diststyle="KEY",
        redshift_distkey="start_time",
        redshift_sortkey="start_time",
    )


def downgrade() -> None:
    for table in ("time", "artists", "songs", "users", "songplays"):
        op.drop_table(table)
    for table in ("staging_songs", "staging_events"):
        op.drop_table(table)
