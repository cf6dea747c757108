"""Opening a warehouse someone else loaded: for the commands and functions that only read it
(query, verify, check, report). One place decides what "no warehouse" means and says so."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError

from sparkify_dw.backends import backend_for
from sparkify_dw.db import check_connection, make_engine
from sparkify_dw.errors import DatabaseError, driver_reason
from sparkify_dw.urls import parse_url, redact_url

RUN_FIRST = "run `sparkify-dw run` first"


class NoWarehouseError(DatabaseError):
    """The database has no sparkify warehouse (or only part of one)."""


def open_warehouse(db_url: str | URL, *, read_only: bool = True) -> Engine:
    """An engine on `db_url` for reading, connected once to be sure it answers.

    A database its backend knows to be missing (a DuckDB file that does not exist) is a
    NoWarehouseError, and is not created (connecting would make an empty one). A DuckDB file
    opens read-only (`read_only=False`: read-write): on a read-only file or file system, beside
    other readers, without blocking a notebook that reads it; a process holding it read-write
    is named in the one-line DatabaseError. In a process that already holds it read-write (a
    notebook's engine), it is opened as that one is.
    """
    url = parse_url(db_url)
    backend = backend_for(url)
    missing = backend.missing_database(url)
    if missing is not None:
        raise NoWarehouseError(f"no warehouse at {redact_url(url)} ({missing}): {RUN_FIRST}")
    engine = make_engine(url, read_only=read_only)
    try:
        check_connection(engine)
    except DatabaseError as exc:
        engine.dispose()
        if read_only and backend.read_write_instead(str(exc)):
            return open_warehouse(url, read_only=False)
        raise
    return engine


@contextmanager
def connect(bind: Engine | Connection) -> Iterator[Connection]:
    """A connection from an Engine (closed afterwards), or the caller's Connection as it is."""
    if isinstance(bind, Connection):
        yield bind
        return
    try:
        connection = bind.connect()
    except SQLAlchemyError as exc:
        where = redact_url(bind.url)
        raise DatabaseError(f"Cannot connect to {where}: {driver_reason(exc)}") from None
    with connection:
        yield connection


def require_tables(connection: Connection, tables: Iterable[str]) -> None:
    """A NoWarehouseError unless every one of `tables` exists."""
    names = list(tables)
    where = redact_url(connection.engine.url)
    try:
        inspector = inspect(connection)
        missing = [name for name in names if not inspector.has_table(name)]
    except SQLAlchemyError as exc:
        raise DatabaseError(f"Cannot read {where}: {driver_reason(exc)}") from None
    if not missing:
        return
    if len(missing) == len(names):
        raise NoWarehouseError(f"no warehouse at {where}: {RUN_FIRST}")
    raise NoWarehouseError(
        f"no complete warehouse at {where} (no table {', '.join(missing)}): "
        f"{RUN_FIRST}, which migrates it"
    )
