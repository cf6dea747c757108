"""The load history (`loads`): one row per load, written on a connection of its own.

A load's row is written when it starts ("running") and again when it ends ("succeeded" or
"failed", with the error's one line), outside the load's transaction like `load_errors`: a
failed load is in the history too. A load killed outside Python (SIGKILL, a lost machine)
stays "running". Writing the history never hides the load's own outcome: a failure to write it
is logged, not raised.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, desc, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from sparkify_dw.models import TABLES

logger = logging.getLogger(__name__)

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def database_user(engine: Engine) -> str | None:
    """Who loads: the URL's user (PostgreSQL, Redshift), else this machine's (DuckDB)."""
    if engine.url.username:
        return engine.url.username
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in a container without /etc/passwd entry
        return None


@dataclass(frozen=True)
class LoadOutcome:
    """What an ended load did, for its history row."""

    table_counts: Mapping[str, Mapping[str, int]]
    rows_staged: int
    rejects: int
    files_new: int
    files_changed: int
    files_skipped: int


class LoadHistory:
    """Writes one load's row in `loads`."""

    def __init__(
        self,
        engine: Engine,
        load_id: str,
        *,
        song_data: str,
        log_data: str,
        full_refresh: bool,
    ) -> None:
        self.engine = engine
        self.load_id = load_id
        self.values: dict[str, Any] = {
            "load_id": load_id,
            "started_at": _now(),
            "status": RUNNING,
            "database_user": database_user(engine),
            "song_data": song_data[:4096],
            "log_data": log_data[:4096],
            "full_refresh": full_refresh,
        }

    def start(self) -> None:
        self._write(insert(TABLES.loads).values(**self.values))

    def succeeded(self, outcome: LoadOutcome) -> None:
        self._finish(
            SUCCEEDED,
            table_counts=json.dumps(outcome.table_counts, sort_keys=True)[:4096],
            rows_staged=outcome.rows_staged,
            rejects=outcome.rejects,
            files_new=outcome.files_new,
            files_changed=outcome.files_changed,
            files_skipped=outcome.files_skipped,
        )

    def failed(self, error: str) -> None:
        self._finish(FAILED, error=error.splitlines()[0][:1024] if error else None)

    def _finish(self, status: str, **values: Any) -> None:
        loads = TABLES.loads
        self._write(
            update(loads)
            .where(loads.c.load_id == self.load_id)
            .values(status=status, finished_at=_now(), **values)
        )

    def _write(self, statement: Any) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(statement)
        except SQLAlchemyError as exc:
            logger.warning("The load history (loads) could not be written: %s", exc.__class__)


@dataclass(frozen=True)
class LoadRecord:
    """One row of `loads`, as `history()` returns it."""

    load_id: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    database_user: str | None
    song_data: str | None
    log_data: str | None
    full_refresh: bool
    table_counts: dict[str, dict[str, int]]
    rows_staged: int | None
    rejects: int | None
    files_new: int | None
    files_changed: int | None
    files_skipped: int | None
    error: str | None

    @property
    def plays_added(self) -> int | None:
        """songplays rows the load added (None: it did not succeed)."""
        plays = self.table_counts.get("songplays")
        return plays["after"] - plays["before"] if plays else None

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: times as ISO 8601 (UTC)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name in ("started_at", "finished_at"):
            value = data[name]
            data[name] = value.isoformat() + "Z" if value is not None else None
        data["seconds"] = self.seconds
        return data


def history(bind: Engine | Connection, limit: int | None = 20) -> list[LoadRecord]:
    """The last `limit` loads (all with None), newest first."""
    loads = TABLES.loads
    query = select(loads).order_by(desc(loads.c.started_at), desc(loads.c.load_id))
    if limit is not None:
        query = query.limit(limit)
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            rows = connection.execute(query).mappings().all()
    else:
        rows = bind.execute(query).mappings().all()
    records = []
    for row in rows:
        values = dict(row)
        values["table_counts"] = json.loads(values["table_counts"] or "{}")
        records.append(LoadRecord(**values))
    return records


def load_history(db_url: str, limit: int | None = 20) -> list[LoadRecord]:
    """Connect to `db_url` (read-only where the engine allows), read the last `limit` loads,
    disconnect: what `sparkify-dw history` prints. A NoWarehouseError when there is no
    warehouse (or one from before the load history: loading migrates it), a DatabaseError
    when the database fails."""
    from sparkify_dw.errors import DatabaseError, driver_reason
    from sparkify_dw.urls import redact_url
    from sparkify_dw.warehouse import open_warehouse, require_tables

    engine = open_warehouse(db_url)
    try:
        with engine.connect() as connection:
            require_tables(connection, [TABLES.loads.name])
        return history(engine, limit)
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"Cannot read the load history of {redact_url(engine.url)}: {driver_reason(exc)}"
        ) from exc
    finally:
        engine.dispose()
