"""`load_errors`: every record a COPY rejected, with Redshift's STL_LOAD_ERRORS fields.

Written outside the load's transaction, like STL_LOAD_ERRORS, so the rejects of a COPY that
failed (and rolled back) stay there for the user to read.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, Identity, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sparkify_dw.models.base import Base


class LoadErrorRecord(Base):
    """One rejected record: which load, file and line, which column, why (error code)."""

    __tablename__ = "load_errors"
    # EVEN: a small, append-only log, read by hand or by the checks; never joined.
    __table_args__ = {"redshift_diststyle": "EVEN", "redshift_sortkey": "starttime"}

    id: Mapped[int] = mapped_column(
        BigInteger,
        Identity(start=1, increment=1, minvalue=1),
        primary_key=True,
        redshift_identity=(1, 1),
    )
    load_id: Mapped[str] = mapped_column(String(36), nullable=False)  # one per `load` call
    starttime: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)  # UTC
    table_name: Mapped[str] = mapped_column(String(128), nullable=False)
    filename: Mapped[str] = mapped_column(String(1024), nullable=False)
    line_number: Mapped[int] = mapped_column(BigInteger, nullable=False)
    colname: Mapped[str | None] = mapped_column(String(127))
    type: Mapped[str | None] = mapped_column(String(64))
    raw_line: Mapped[str | None] = mapped_column(String(1024))
    raw_field_value: Mapped[str | None] = mapped_column(String(1024))
    err_code: Mapped[int] = mapped_column(Integer, nullable=False)
    err_reason: Mapped[str] = mapped_column(String(512), nullable=False)
