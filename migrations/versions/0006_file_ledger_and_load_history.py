"""loaded_files and loads: the file ledger and the load history.

`loaded_files`: one row per object a load staged (table, location, size, version: S3's ETag or
a local file's SHA-256, last modified, load, records and rejects, when). A run skips every
object the ledger holds in the same version, so a daily load stages only the new day instead
of years of logs. `loads`: one row per load, written even when the load fails.

Warehouses loaded before this revision have an empty ledger: their next load stages every
object once more (which adds nothing twice: the merges keep the contract) and records them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AZ64 = {"redshift_encode": "az64"}
ZSTD = {"redshift_encode": "zstd"}
LOCATION = 4096


def upgrade() -> None:
    op.create_table(
        "loaded_files",
        sa.Column("table_name", sa.String(128), primary_key=True),
        sa.Column("location", sa.String(LOCATION), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False, **AZ64),
        sa.Column("version", sa.String(256), nullable=False, **ZSTD),
        sa.Column("last_modified", sa.DateTime, **AZ64),
        sa.Column("load_id", sa.String(36), nullable=False, **ZSTD),
        sa.Column("row_count", sa.BigInteger, **AZ64),
        sa.Column("reject_count", sa.Integer, **AZ64),
        sa.Column("loaded_at", sa.DateTime, nullable=False, **AZ64),
        redshift_diststyle="EVEN",
        redshift_sortkey="table_name",
    )
    op.create_table(
        "loads",
        sa.Column("load_id", sa.String(36), primary_key=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, **AZ64),
        sa.Column("status", sa.String(16), nullable=False, **ZSTD),
        sa.Column("database_user", sa.String(128), **ZSTD),
        sa.Column("song_data", sa.String(LOCATION), **ZSTD),
        sa.Column("log_data", sa.String(LOCATION), **ZSTD),
        sa.Column("full_refresh", sa.Boolean, nullable=False),
        sa.Column("table_counts", sa.String(4096), **ZSTD),
        sa.Column("rows_staged", sa.BigInteger, **AZ64),
        sa.Column("rejects", sa.Integer, **AZ64),
        sa.Column("files_new", sa.Integer, **AZ64),
        sa.Column("files_changed", sa.Integer, **AZ64),
        sa.Column("files_skipped", sa.Integer, **AZ64),
        sa.Column("error", sa.String(1024), **ZSTD),
        redshift_diststyle="EVEN",
        redshift_sortkey="started_at",
    )


def downgrade() -> None:
    op.drop_table("loads")
    op.drop_table("loaded_files")
