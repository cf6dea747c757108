"""The load's own records: `loaded_files` (the file ledger) and `loads` (the load history).

`loaded_files` holds one row per object a load staged (its location, size, version and load):
a run skips every object whose version it already holds, so a daily load reads only the new
day. Written in the load's transaction, like the tables it fed: a failed load records nothing.
`loads` holds one row per load, written on a connection of its own (like `load_errors`), so a
failed load is there too, with its error.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sparkify_dw.models.base import Base

# An s3:// URL is at most "s3://" + 63 (bucket) + "/" + 1,024 bytes (key); a local path may be
# longer, up to PATH_MAX (4,096) on Linux.
LOCATION_LENGTH = 4096


class LoadedFile(Base):
    """One object a load staged, in the version it staged (the last one, per location)."""

    __tablename__ = "loaded_files"
    # EVEN: read whole by the next load (the rows of one staging table), never joined.
    __table_args__ = {"redshift_diststyle": "EVEN", "redshift_sortkey": "table_name"}

    table_name: Mapped[str] = mapped_column(String(128), primary_key=True)  # the staging table
    location: Mapped[str] = mapped_column(String(LOCATION_LENGTH), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, redshift_encode="az64")
    # S3: "etag:<ETag>"; a local file: "sha256:<hex digest of its content>"
    version: Mapped[str] = mapped_column(String(256), nullable=False, redshift_encode="zstd")
    last_modified: Mapped[dt.datetime | None] = mapped_column(DateTime, redshift_encode="az64")
    load_id: Mapped[str] = mapped_column(String(36), nullable=False, redshift_encode="zstd")
    # Records staged and rejected from it (NULL where the engine does not tell: Redshift)
    row_count: Mapped[int | None] = mapped_column(BigInteger, redshift_encode="az64")
    reject_count: Mapped[int | None] = mapped_column(Integer, redshift_encode="az64")
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, redshift_encode="az64")


class Load(Base):
    """One load: when, by whom, from where, how it ended, and what it did."""

    __tablename__ = "loads"
    __table_args__ = {"redshift_diststyle": "EVEN", "redshift_sortkey": "started_at"}

    load_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # as in load_errors
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)  # UTC
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, redshift_encode="az64")
    # running, succeeded or failed (a load killed outside Python stays "running")
    status: Mapped[str] = mapped_column(String(16), nullable=False, redshift_encode="zstd")
    database_user: Mapped[str | None] = mapped_column(String(128), redshift_encode="zstd")
    song_data: Mapped[str | None] = mapped_column(String(LOCATION_LENGTH), redshift_encode="zstd")
    log_data: Mapped[str | None] = mapped_column(String(LOCATION_LENGTH), redshift_encode="zstd")
    full_refresh: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # Per table, rows before/after/changed, as JSON text (every engine stores it alike)
    table_counts: Mapped[str | None] = mapped_column(String(4096), redshift_encode="zstd")
    rows_staged: Mapped[int | None] = mapped_column(BigInteger, redshift_encode="az64")
    rejects: Mapped[int | None] = mapped_column(Integer, redshift_encode="az64")
    files_new: Mapped[int | None] = mapped_column(Integer, redshift_encode="az64")
    files_changed: Mapped[int | None] = mapped_column(Integer, redshift_encode="az64")
    files_skipped: Mapped[int | None] = mapped_column(Integer, redshift_encode="az64")
    error: Mapped[str | None] = mapped_column(String(1024), redshift_encode="zstd")
