"""PostgreSQL, the server engine for development and tests (driver psycopg, extra [postgres]).

- Staging: the COPY emulation; each batch streams through `COPY … FROM STDIN` (psycopg's copy
  protocol).
- Locking: a transaction-level advisory lock. A load that finds it taken says so (the lock's
  name and key, and where to see its holder) and waits.
- Retries: serialization_failure (40001) and deadlock_detected (40P01).
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import Engine, Table, event, func, select, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import Executable

from sparkify_dw.backends.base import Backend, Notify
from sparkify_dw.copy.emulation import BulkWriter, FastCopyFactory, Row

LOCK_NAME = "sparkify_dw.load"
# DuckDB (in memory) reads, checks and converts the files; PostgreSQL's COPY takes the rows
# (backends/duckdb_copy.py). False: every file takes the record-by-record emulation.
FAST_COPY = True

# A stable key below 2**31: pg_locks then shows it as classid 0, objid LOCK_KEY.
LOCK_KEY = zlib.crc32(LOCK_NAME.encode()) & 0x7FFFFFFF

_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def _dates_beyond_python_as_text(dbapi_connection: Any, _record: Any) -> None:
    """Read a DATE or TIMESTAMP that Python's datetime cannot hold (after year 9999, or BC) as
    its text, as DuckDB's driver does, instead of failing the whole query: the warehouse can
    hold such values (issue 15), and every command must survive reading them."""
    for name, loader in _loaders().items():
        dbapi_connection.adapters.register_loader(name, loader)


@functools.cache
def _loaders() -> dict[str, type[Any]]:
    from psycopg import DataError
    from psycopg.types.datetime import DateLoader, TimestampLoader, TimestamptzLoader

    def as_text_beyond(loader: type[Any]) -> type[Any]:
        class Loader(loader):  # type: ignore[misc]
            def load(self, data: Any) -> Any:
                try:
                    return super().load(data)
                except DataError:  # beyond Python's datetime: the engine's own text
                    return bytes(data).decode()

        return Loader

    loaders = {"date": DateLoader, "timestamp": TimestampLoader, "timestamptz": TimestamptzLoader}
    return {name: as_text_beyond(loader) for name, loader in loaders.items()}


class PostgresBackend(Backend):
    name: ClassVar[str] = "postgresql"
    placeholder_url: ClassVar[str] = "postgresql+psycopg://localhost/sparkify"
    driver_extra: ClassVar[str | None] = "postgres"

    def prepare(self, engine: Engine) -> None:
        super().prepare(engine)
        event.listen(engine, "connect", _dates_beyond_python_as_text)

    def bulk_writer(self) -> BulkWriter:
        return PostgresCopyWriter()

    def fast_copy(self) -> FastCopyFactory | None:
        if not FAST_COPY:
            return None
        from sparkify_dw.backends.postgresql_copy import PostgresFastCopy

        return PostgresFastCopy.for_copy

    def empty_staging(self, table: Table) -> Executable:
        """TRUNCATE: transactional on PostgreSQL (rolled back with the load), and instant where
        DELETE scans every row of the last load (0.8 s for a million events)."""
        return text(f"TRUNCATE {table.name}")

    def lock_statement(self, dialect: Dialect, tables: Sequence[Table]) -> Executable | None:
        return select(func.pg_advisory_xact_lock(LOCK_KEY))

    def acquire_lock(self, connection: Connection, tables: Sequence[Table], notify: Notify) -> None:
        if connection.execute(select(func.pg_try_advisory_xact_lock(LOCK_KEY))).scalar_one():
            return
        notify(
            f"Waiting for another load into this database to finish: it holds the PostgreSQL "
            f"advisory lock {LOCK_NAME!r} (key {LOCK_KEY}; its session: SELECT pid FROM pg_locks "
            f"WHERE locktype = 'advisory' AND objid = {LOCK_KEY})"
        )
        connection.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))

    def is_retryable(self, exc: BaseException) -> bool:
        orig = getattr(exc, "orig", exc)
        return getattr(orig, "sqlstate", None) in _RETRYABLE_SQLSTATES


def copy_from_stdin(table: Table, options: str = "") -> Any:
    """`COPY table (columns) FROM STDIN [options]` as psycopg's composed SQL (names quoted)."""
    from psycopg import sql

    return sql.SQL("COPY {} ({}) FROM STDIN" + (f" {options}" if options else "")).format(
        sql.Identifier(table.name),
        sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns),
    )


class PostgresCopyWriter:
    """COPY … FROM STDIN, rows streamed through psycopg's copy protocol."""

    def write(self, connection: Connection, table: Table, rows: Sequence[Row]) -> None:
        statement = copy_from_stdin(table)
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)


BACKEND = PostgresBackend()
