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
    # PostgreSQL and Redshift, the same SQL: the whole seconds, then the milliseconds left over.
    # Redshift documents `TIMESTAMP 'epoch' + <seconds> * INTERVAL '1 second'` (the EPOCH note of
    # https://docs.aws.amazon.com/redshift/latest/dg/r_Dateparts_for_datetime_functions.html),
    # an interval literal as "a numeric quantity and a supported date part"
    # (https://docs.aws.amazon.com/redshift/latest/dg/r_interval_literals.html), `millisecond`
    # being one of those date parts, and MOD (r_MOD.html). BIGINT `/` truncates and MOD takes the
    # dividend's sign, so ts = 1000 * (ts / 1000) + MOD(ts, 1000) for every ts, negative too:
    # exact, milliseconds kept. Never `ts / 1000` alone (it drops the milliseconds), never
    # DATEADD (it takes an INT: epoch milliseconds overflow it), and never one INTERVAL times the
    # whole ~1.5e12 milliseconds (not a documented form; PostgreSQL's double arithmetic is then
    # off by microseconds near year 9999).
    (millis,) = element.clauses
    ts = compiler.process(millis, **kw)
    return (
        f"(TIMESTAMP 'epoch' + ({ts} / 1000) * INTERVAL '1 second'"
        f" + MOD({ts}, 1000) * INTERVAL '1 millisecond')"
    )


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
