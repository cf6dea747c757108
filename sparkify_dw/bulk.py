"""Each local engine's bulk path for a batch of converted rows. The only engine-specific writes.

DuckDB: the batch becomes an Arrow table that DuckDB scans in one INSERT … SELECT.
PostgreSQL: `COPY … FROM STDIN` through psycopg's copy protocol.
Both run on the caller's connection, inside its transaction.
"""

from __future__ import annotations

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
)
from sqlalchemy.engine import Connection

Row = tuple[Any, ...]


class BulkWriter(Protocol):
    def write(self, connection: Connection, table: Table, rows: Sequence[Row]) -> None:
        """Append `rows` (values in `table`'s column order) to `table`."""


class ArrowWriter:
    """DuckDB: hand the batch to DuckDB as an Arrow table and append it in one statement."""

    def write(self, connection: Connection, table: Table, rows: Sequence[Row]) -> None:
        import pyarrow as pa

        names = [c.name for c in table.columns]
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        arrays = [
            pa.array(values, type=_arrow_type(column))
            for values, column in zip(columns, table.columns, strict=True)
        ]
        batch = pa.Table.from_arrays(arrays, names=names)
        raw = connection.connection.driver_connection
        assert raw is not None
        # Not register() + INSERT … SELECT: inside a transaction DuckDB keeps every registered
        # Arrow table alive until commit, so memory grew with the input (benchmarks/README.md).
        raw.from_arrow(batch).insert_into(table.name)


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
