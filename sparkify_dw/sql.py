"""Custom SQL constructs, compiled per engine: the few places where the engines' SQL differs.

Shared code builds one expression tree; what differs between DuckDB, PostgreSQL and Redshift is a
construct here with a `@compiles` function per dialect (the sqlalchemy-redshift pattern).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, Table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement, ColumnElement
from sqlalchemy.sql.functions import FunctionElement


class EpochMsToTimestamp(FunctionElement[dt.datetime]):
    """Epoch milliseconds (BIGINT) → UTC TIMESTAMP without time zone, milliseconds kept."""

    type = DateTime()
    name = "epoch_ms_to_timestamp"
    inherit_cache = True

    def __init__(self, millis: ColumnElement[Any]) -> None:
        super().__init__(millis)


@compiles(EpochMsToTimestamp)
def _epoch_ms_default(element: EpochMsToTimestamp, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL and Redshift: multiply, never `ts / 1000` (BIGINT division drops the
    # milliseconds; Redshift's DATEADD takes an INT and overflows on epoch milliseconds).
    (millis,) = element.clauses
    return f"(TIMESTAMP 'epoch' + {compiler.process(millis, **kw)} * INTERVAL '1 millisecond')"


@compiles(EpochMsToTimestamp, "duckdb")
def _epoch_ms_duckdb(element: EpochMsToTimestamp, compiler: SQLCompiler, **kw: Any) -> str:
    # DuckDB cannot multiply an INTERVAL by a BIGINT this large; epoch_ms() is exact.
    (millis,) = element.clauses
    return f"epoch_ms(CAST({compiler.process(millis, **kw)} AS BIGINT))"


class Analyze(Executable, ClauseElement):
    """`ANALYZE table`: fresh planner statistics after a bulk load.

    Redshift's COPY updates them itself (STATUPDATE); on PostgreSQL a table filled inside the
    current transaction has none yet, and the planner then picks nested loops over the staging
    tables (seconds instead of milliseconds on the reference data).
    """

    inherit_cache = False

    def __init__(self, table: Table) -> None:
        self.table = table


@compiles(Analyze)
def _analyze(element: Analyze, compiler: SQLCompiler, **kw: Any) -> str:
    return f"ANALYZE {compiler.preparer.format_table(element.table)}"
