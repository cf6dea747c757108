"""Keep every COPY's rejects in `load_errors`, outside the load's transaction.

Like Redshift's STL_LOAD_ERRORS, the log survives the rollback of the load it belongs to: a user
whose load failed can still query why. It is written on a connection of its own.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from sparkify_dw.backends import backend_for
from sparkify_dw.copy.options import Reject
from sparkify_dw.models import TABLES


def new_load_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class RejectLog:
    """Writes the rejects of one load (one `load_id`) to `load_errors`."""

    engine: Engine
    load_id: str = field(default_factory=new_load_id)
    starttime: dt.datetime = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None)
    )

    def record(self, table: str, rejects: Sequence[Reject]) -> None:
        if not rejects:
            return
        rows = [
            {
                "load_id": self.load_id,
                "starttime": self.starttime,
                "table_name": table,
                "filename": r.filename[:1024],
                "line_number": r.line_number,
                "colname": r.colname or None,
                "type": r.type or None,
                "raw_line": r.raw_line[:1024],
                "raw_field_value": r.raw_field_value[:1024],
                "err_code": r.err_code,
                "err_reason": r.err_reason[:512],
            }
            for r in rejects
        ]
        # At most MAXERROR + 1 rows: one executemany, or on Redshift multi-row INSERTs.
        with self.engine.begin() as connection:
            backend_for(connection).insert_rows(connection, TABLES.load_errors, rows)

    def where(self) -> str:
        """Where a user finds these rejects."""
        return f"SELECT * FROM load_errors WHERE load_id = '{self.load_id}'"
