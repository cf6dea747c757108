"""Each local engine's bulk path for a batch of converted rows. The only engine-specific writes.

DuckDB: the batch becomes an Arrow table that DuckDB scans in one INSERT … SELECT.
PostgreSQL: `COPY … FROM STDIN` through psycopg's copy protocol.
Both run on the caller's connection, inside its transaction.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import BigInteger as SABigInteger
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    SmallInteger,
    String,
    Table,
    insert,
    select,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.engine import Connection

Row = tuple[Any, ...]


class BulkWriter(Protocol):
    def write(self, connection: Connection, table: Table, rows: Sequence[Row]) -> None:
        """Append `rows` (values in `table`'s column order) to `table`."""


class ArrowWriter:
    """DuckDB: register the batch as an Arrow table and INSERT … SELECT from it."""

    _counter = itertools.count()

    def write(self, connection: Connection, table: Table, rows: Sequence[Row]) -> None:
        import pyarrow as pa

        names = [c.name for c in table.columns]
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        arrays = [
            pa.array(values, type=_arrow_type(column))
            for values, column in zip(columns, table.columns, strict=True)
        ]
        batch = pa.Table.from_arrays(arrays, names=names)
        view = f"_sparkify_batch_{next(self._counter)}"
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.register(view, batch)
        try:
            source = sql_table(view, *(sql_column(n) for n in names))
            connection.execute(insert(table).from_select(names, select(*source.c)))
        finally:
            raw.unregister(view)


def _arrow_type(column: Column[Any]) -> Any:
    import pyarrow as pa

    kind = column.type
    if isinstance(kind, String):
        return pa.string()
    if isinstance(kind, Boolean):
        return pa.bool_()
    if isinstance(kind, SmallInteger):
        return pa.int16()
    if isinstance(kind, SABigInteger):
        return pa.int64()
    if isinstance(kind, Integer):
        return pa.int32()
    if isinstance(kind, Float):
        return pa.float64()
    if isinstance(kind, DateTime):
        return pa.timestamp("us")
    raise NotImplementedError(f"No Arrow type for {column}")


class PostgresCopyWriter:
    """PostgreSQL: COPY … FROM STDIN, rows streamed through psycopg's copy protocol."""

    def write(self, connection: Connection, table: Table, rows: Sequence[Row]) -> None:
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name),
            sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns),
        )
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)


WRITERS: dict[str, BulkWriter] = {"duckdb": ArrowWriter(), "postgresql": PostgresCopyWriter()}
