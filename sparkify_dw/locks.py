"""The load lock: two loads into one database run one after the other, never interleaved.

One lock per engine, by SQLAlchemy dialect name (like bulk.WRITERS), taken as the first statement
of a transaction and held until it ends:
- PostgreSQL: a transaction-level advisory lock. A load that finds it taken says so (the lock's
  name and key, and where to see its holder) and waits.
- Redshift: `LOCK` on the tables a load writes, Redshift's own advice for serialising writers.
  It cannot tell whether it will wait, so it says nothing; a serializable-isolation error (1023)
  is retried by the loader instead.
- DuckDB: none. A DuckDB file takes one writer process at a time by itself (a second process
  gets a clear "Could not set lock on file … PID" error).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import Executable

LOCK_NAME = "sparkify_dw.load"
# A stable key below 2**31: pg_locks then shows it as classid 0, objid LOCK_KEY.
LOCK_KEY = zlib.crc32(LOCK_NAME.encode()) & 0x7FFFFFFF

Notify = Callable[[str], None]


class LoadLock(Protocol):
    def statement(self, dialect: Dialect, tables: Sequence[Table]) -> Executable | None:
        """The statement that takes the lock, waiting if need be (None: nothing to lock)."""

    def acquire(self, connection: Connection, tables: Sequence[Table], notify: Notify) -> None:
        """Take the lock inside the connection's current transaction, waiting if need be."""


class PostgresAdvisoryLock:
    def statement(self, dialect: Dialect, tables: Sequence[Table]) -> Executable | None:
        return select(func.pg_advisory_xact_lock(LOCK_KEY))

    def acquire(self, connection: Connection, tables: Sequence[Table], notify: Notify) -> None:
        if connection.execute(select(func.pg_try_advisory_xact_lock(LOCK_KEY))).scalar_one():
            return
        notify(
            f"Waiting for another load into this database to finish: it holds the PostgreSQL "
            f"advisory lock {LOCK_NAME!r} (key {LOCK_KEY}; its session: SELECT pid FROM pg_locks "
            f"WHERE locktype = 'advisory' AND objid = {LOCK_KEY})"
        )
        connection.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))


class RedshiftTableLock:
    def statement(self, dialect: Dialect, tables: Sequence[Table]) -> Executable | None:
        """Redshift's `LOCK t1, t2, …`: held to the end of the transaction."""
        if not tables:  # before the first migration there is nothing to lock
            return None
        quote = dialect.identifier_preparer.format_table
        return text(f"LOCK {', '.join(quote(t) for t in tables)}")

    def acquire(self, connection: Connection, tables: Sequence[Table], notify: Notify) -> None:
        lock = self.statement(connection.dialect, tables)
        if lock is not None:
            connection.execute(lock)


LOCKS: dict[str, LoadLock] = {
    "postgresql": PostgresAdvisoryLock(),
    "redshift": RedshiftTableLock(),
}


def acquire(connection: Connection, tables: Sequence[Table], notify: Notify) -> None:
    """Take this engine's load lock, if it has one (see the module's docstring)."""
    lock = LOCKS.get(connection.dialect.name)
    if lock is not None:
        lock.acquire(connection, tables, notify)


def lock_statement(dialect: Dialect, tables: Sequence[Table]) -> Executable | None:
    """The statement that takes this engine's load lock, for printing (None: no lock)."""
    lock = LOCKS.get(dialect.name)
    return None if lock is None else lock.statement(dialect, tables)
